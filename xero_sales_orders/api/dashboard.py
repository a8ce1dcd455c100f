"""Figures for the workspace's custom number card and charts, per currency, live and with the user's permissions.

Frappe's own "Group By"/"Sum" dashboard charts sum amounts of different currencies together and cache one
result per chart for every user, so a user restricted by user permissions could see another user's figures;
these methods read live data through the reports' permission-aware SQL instead.
"""

import frappe
from frappe import _
from frappe.desk.reportview import get_match_cond
from frappe.utils import add_months, escape_html, fmt_money, get_first_day, getdate, nowdate

from xero_sales_orders.core.order_status import DEAD_INVOICE_STATUSES
from xero_sales_orders.services.reporting import (
	ORDER,
	ORDER_TABLE,
	TO_INVOICE_STATUSES,
	bad_filter,
	order_conditions,
	parse_filters,
)

INVOICE = "Xero Invoice"
INVOICE_TABLE = "`tabXero Invoice`"
TOP_CUSTOMERS = 10
MONTHS = 12


def _require_read(doctype: str) -> None:
	"""403 for a user who may not read the doctype (e.g. without the app's roles)."""
	if not frappe.has_permission(doctype, "read"):
		frappe.local.flags.disable_traceback = True
		frappe.throw(_("You are not permitted to read {0}").format(_(doctype)), frappe.PermissionError)


def outstanding_per_currency(filters=None) -> list[dict]:
	_require_read(ORDER)
	where, values = order_conditions(parse_filters(filters), statuses=TO_INVOICE_STATUSES)
	return frappe.db.sql(
		f"""select currency, sum(outstanding_amount) as outstanding, count(*) as orders
		from {ORDER_TABLE} where {where} group by currency order by outstanding desc""",
		values,
		as_dict=True,
	)


@frappe.whitelist()
def outstanding_amount_card(filters=None) -> str:
	"""Number card: the amount still to invoice on Open and Partially Invoiced orders, one figure per currency."""
	rows = outstanding_per_currency(filters)
	if not rows:
		return "0"
	# The currency code, not a symbol: NZD, AUD and USD all print as "$". The card shows text as HTML.
	return " · ".join(escape_html(f"{r.currency} {fmt_money(r.outstanding, 2)}") for r in rows)


@frappe.whitelist()
def outstanding_by_customer(filters=None, **chart_args) -> dict:
	"""Dashboard chart: the customers with the most outstanding, one dataset per currency."""
	_require_read(ORDER)
	where, values = order_conditions(parse_filters(filters), statuses=TO_INVOICE_STATUSES)
	rows = frappe.db.sql(
		f"""select customer, max(customer_name) as customer_name, currency, sum(outstanding_amount) as outstanding
		from {ORDER_TABLE} where {where} group by customer, currency""",
		values,
		as_dict=True,
	)
	by_customer: dict[str, dict] = {}
	for row in rows:
		by_customer.setdefault(row.customer, {"name": row.customer_name or row.customer, "amounts": {}})
		by_customer[row.customer]["amounts"][row.currency] = row.outstanding
	# Ranked by the largest single-currency figure: amounts in different currencies are never added up.
	top = sorted(by_customer.values(), key=lambda c: max(c["amounts"].values()), reverse=True)[:TOP_CUSTOMERS]
	currencies = sorted({currency for c in top for currency in c["amounts"]})
	return {
		"labels": [c["name"] for c in top],
		"datasets": [
			{"name": currency, "values": [float(c["amounts"].get(currency) or 0) for c in top]}
			for currency in currencies
		],
	}


@frappe.whitelist()
def invoiced_per_month(filters=None, **chart_args) -> dict:
	"""Dashboard chart: live (not voided or deleted) invoice totals per month over the last 12 months, per currency."""
	_require_read(INVOICE)
	if parse_filters(filters):
		bad_filter(_("This chart takes no filters"))
	first_month = get_first_day(add_months(getdate(nowdate()), -(MONTHS - 1)))
	rows = frappe.db.sql(
		f"""select date_format(invoice_date, '%%Y-%%m') as month, currency, sum(total) as total
		from {INVOICE_TABLE}
		where invoice_date >= %(first_month)s and status not in %(dead)s {get_match_cond(INVOICE)}
		group by month, currency""",
		{"first_month": first_month, "dead": list(DEAD_INVOICE_STATUSES)},
		as_dict=True,
	)
	months = [add_months(first_month, n).strftime("%Y-%m") for n in range(MONTHS)]
	totals = {(r.month, r.currency): float(r.total or 0) for r in rows}
	currencies = sorted({r.currency for r in rows})
	return {
		"labels": [getdate(f"{m}-01").strftime("%b %Y") for m in months],
		"datasets": [
			{"name": currency, "values": [totals.get((m, currency), 0.0) for m in months]}
			for currency in currencies
		],
	}
