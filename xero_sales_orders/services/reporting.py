"""Filters and SQL shared by the order reports and the workspace's cards and charts.

Everything here aggregates in SQL over the order and line tables (never a document load per row) and
adds Frappe's permission conditions for the current user (`get_match_cond`: user permissions, "only if
creator" and permission query hooks), so sales and accounts see the same figures the list views show.
"""

from collections.abc import Callable

import frappe
from frappe import _
from frappe.desk.reportview import get_match_cond
from frappe.utils import flt, getdate, nowdate

from xero_sales_orders.exceptions import InvalidReportFilterError, throw

ORDER = "Xero Sales Order"
ORDER_TABLE = "`tabXero Sales Order`"
ITEM_TABLE = "`tabXero Sales Order Item`"

# Submitted orders only: a Draft promises nothing yet and a Cancelled order promises nothing any more.
REPORT_STATUSES = ("Open", "Partially Invoiced", "Fully Invoiced", "Closed")
TO_INVOICE_STATUSES = ("Open", "Partially Invoiced")

# A Closed order's remainder will never be billed (short-close), so it is not outstanding in any report.
OUTSTANDING_ORDER_AMOUNT = (
	f"(case when {ORDER_TABLE}.status = 'Closed' then 0 else {ORDER_TABLE}.outstanding_amount end)"
)
OUTSTANDING_LINE_QTY = (
	f"(case when {ORDER_TABLE}.status = 'Closed' then 0 else {ITEM_TABLE}.outstanding_qty end)"
)
OUTSTANDING_LINE_AMOUNT = (
	f"(case when {ORDER_TABLE}.status = 'Closed' then 0 else {ITEM_TABLE}.outstanding_amount end)"
)

# A report page never sends more rows than a browser table shows comfortably; the summary above the
# table (per-currency totals computed in SQL) always covers every matching row.
ROW_LIMIT = 5000

# Indexes the order book needs at 100,000 orders of 10 lines, chosen with EXPLAIN (benchmarks/reports.py prints
# the seconds and queries): created by each doctype's on_doctype_update on a new site and by the patch
# v1.add_order_book_indexes on an existing one. Permission conditions stay in the SQL; these only spare reading
# the table's rows and sorting the book.
# fmt: off
ORDER_BOOK_INDEXES = {
	ORDER: {
		# Every per-currency and per-customer figure (the reports' summaries, Order Book by Customer, the number
		# cards, Outstanding by Customer) is read from this index alone, never from the table's rows.
		"xso_order_book": (
			"docstatus", "status", "currency", "customer", "line_amount_type", "customer_name", "subtotal",
			"grand_total", "invoiced_amount", "invoiced_tax", "outstanding_amount", "paid_amount", "due_amount",
		),
		# The reports' first pages, newest (or oldest) orders first: a walk along the index, no sort.
		"xso_order_date": ("docstatus", "order_date"),
		# The list's default order; Frappe adds this one itself when it alters a table sorted by creation.
		"creation": ("creation",),
	},
	# Invoiced per Month: the last twelve months' live invoices, read from the index alone.
	"Xero Invoice": {"xso_invoiced_per_month": ("invoice_date", "status", "currency", "total")},
}
# fmt: on


def add_order_book_indexes(doctype: str | None = None) -> None:
	"""Adds the order book's indexes (all, or one doctype's) that the tables do not have yet."""
	for name, indexes in ORDER_BOOK_INDEXES.items():
		if doctype in (None, name):
			for index, columns in indexes.items():
				frappe.db.add_index(name, list(columns), index)


AGE_BASES = ("Order Date", "Expected Date")
AGE_BUCKETS = (("age_0_30", "0-30", 0, 30), ("age_31_60", "31-60", 31, 60), ("age_61_90", "61-90", 61, 90))
AGE_OVER_90 = ("age_90_plus", "90+")


def bad_filter(message: str):
	throw(message, InvalidReportFilterError, title=_("Invalid filter"))


def _text(label: str, value) -> str:
	if not isinstance(value, str | int) or isinstance(value, bool):
		bad_filter(_("{0} must be text, not {1}").format(label, type(value).__name__))
	return str(value).strip()


def _existing(doctype: str) -> Callable:
	def check(label, value):
		value = _text(label, value)
		if not frappe.db.exists(doctype, value):
			bad_filter(_("{0}: there is no {1} {2!r}").format(label, _(doctype), value))
		return value

	return check


def _date(label: str, value):
	if not isinstance(value, str):
		bad_filter(_("{0} must be a date such as 2026-01-31").format(label))
	try:
		return getdate(value)
	except Exception:
		bad_filter(_("{0} must be a date such as 2026-01-31, not {1!r}").format(label, value))


def one_of(options) -> Callable:
	def check(label, value):
		value = _text(label, value)
		if value not in options:
			bad_filter(_("{0} must be one of {1}, not {2!r}").format(label, ", ".join(options), value))
		return value

	return check


def _organisation(label: str, value) -> str:
	"""Accepts a Xero tenant id or an organisation's name and answers the tenant id."""
	value = _text(label, value)
	tenant_id = frappe.db.get_value("Xero Connection Tenant", {"tenant_id": value}, "tenant_id") or (
		frappe.db.get_value("Xero Connection Tenant", {"tenant_name": value}, "tenant_id")
	)
	if not tenant_id:
		bad_filter(_("{0}: there is no Xero organisation {1!r}").format(label, value))
	return tenant_id


def _currency(label: str, value) -> str:
	value = _text(label, value).upper()
	if len(value) != 3 or not value.isalpha():
		bad_filter(_("{0} must be a three-letter currency code such as NZD, not {1!r}").format(label, value))
	return value


COMMON_FILTERS = {
	"customer": ("Customer", _existing("Xero Contact")),
	"from_date": ("From Date", _date),
	"to_date": ("To Date", _date),
	"status": ("Status", one_of(REPORT_STATUSES)),
	"po_number": ("PO Reference", _text),
	"connection": ("Xero Connection", _existing("Xero Connection")),
	"organisation": ("Organisation", _organisation),
	"currency": ("Currency", _currency),
	# Orders with a line tracked with this Xero option (the line report: only those lines).
	"tracking_option": ("Tracking Option", _existing("Xero Tracking Option")),
}


def parse_filters(filters, statuses=REPORT_STATUSES, extra: dict | None = None) -> frappe._dict:
	"""Validates report filters; a wrong type or an unknown value is a clear message, never a traceback."""
	if isinstance(filters, str):
		try:
			filters = frappe.parse_json(filters)
		except ValueError:
			bad_filter(_("Filters must be a JSON object"))
	filters = filters or {}
	if not isinstance(filters, dict):
		bad_filter(_("Filters must be a JSON object of field: value"))
	known = {**COMMON_FILTERS, "status": ("Status", one_of(statuses)), **(extra or {})}
	unknown = sorted(set(filters) - set(known))
	if unknown:
		bad_filter(
			_("Unknown filter {0}; this report accepts {1}").format(", ".join(unknown), ", ".join(known))
		)
	parsed = frappe._dict()
	for key, value in filters.items():
		if value in (None, ""):
			continue
		label, check = known[key]
		parsed[key] = check(_(label), value)
	if parsed.from_date and parsed.to_date and parsed.from_date > parsed.to_date:
		bad_filter(_("From Date must not be after To Date"))
	return parsed


def order_conditions(filters: frappe._dict, statuses=REPORT_STATUSES) -> tuple[str, dict]:
	"""SQL conditions on the order table for the filters and the user's permissions, with their values."""
	conditions = [f"{ORDER_TABLE}.docstatus = 1", f"{ORDER_TABLE}.status in %(statuses)s"]
	values = {"statuses": [filters.status] if filters.status else list(statuses)}
	for key, column in (
		("customer", "customer"),
		("connection", "connection"),
		("organisation", "tenant_id"),
		("currency", "currency"),
	):
		if filters.get(key):
			conditions.append(f"{ORDER_TABLE}.{column} = %({key})s")
			values[key] = filters[key]
	if filters.from_date:
		conditions.append(f"{ORDER_TABLE}.order_date >= %(from_date)s")
		values["from_date"] = filters.from_date
	if filters.to_date:
		conditions.append(f"{ORDER_TABLE}.order_date <= %(to_date)s")
		values["to_date"] = filters.to_date
	if filters.po_number:
		conditions.append(f"{ORDER_TABLE}.po_number like %(po_number)s")
		values["po_number"] = f"%{like_literal(filters.po_number)}%"
	if filters.tracking_option:
		conditions.append(
			f"""exists (select 1 from {ITEM_TABLE} tracked where tracked.parent = {ORDER_TABLE}.name
			and tracked.parenttype = 'Xero Sales Order' and {tracked_line("tracked")})"""
		)
		values["tracking_option"] = filters.tracking_option
	return " and ".join(conditions) + get_match_cond(ORDER), values


def tracked_line(table: str = ITEM_TABLE) -> str:
	"""SQL: the order line carries the filter's tracking option (in either of its two tracking fields)."""
	return f"(%(tracking_option)s in ({table}.tracking_option_1, {table}.tracking_option_2))"


def like_literal(text: str) -> str:
	"""A user's text matched literally inside LIKE: % and _ are not wildcards to someone typing a PO."""
	return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def currency_summary(select: str, from_clause: str, where: str, values: dict, labels: dict) -> list[dict]:
	"""Report summary figures per currency over every matching row, whatever the page shows.

	``select`` holds ``sum(...) as <key>`` expressions; ``labels`` maps each key to its label.
	"""
	rows = frappe.db.sql(
		f"""select {ORDER_TABLE}.currency as currency, {select}
		from {from_clause} where {where}
		group by {ORDER_TABLE}.currency order by {ORDER_TABLE}.currency""",
		values,
		as_dict=True,
	)
	summary = []
	for row in rows:
		for key, label in labels.items():
			summary.append(
				{
					"label": f"{label} ({row.currency})",
					"value": flt(row[key], 2),
					"datatype": "Currency",
					"currency": row.currency,
					"indicator": "Red" if key == "outstanding" and row[key] else "Blue",
				}
			)
	return summary


def limit_message(row_count: int) -> str | None:
	if row_count > ROW_LIMIT:
		return _(
			"Showing the first {0} rows; the totals above cover every matching row. Narrow the filters to see the rest."
		).format(ROW_LIMIT)
	return None


def age_in_days(from_date, today=None) -> int:
	return (getdate(today or nowdate()) - getdate(from_date)).days


def age_bucket(days: int) -> str:
	"""The column key of the 0-30 / 31-60 / 61-90 / 90+ bucket an age in days falls in."""
	for key, _label, low, high in AGE_BUCKETS:
		if low <= days <= high:
			return key
	return AGE_OVER_90[0] if days > 90 else "not_due"


def money_column(fieldname: str, label: str, width: int = 130) -> dict:
	return {
		"fieldname": fieldname,
		"label": label,
		"fieldtype": "Currency",
		"options": "currency",
		"width": width,
	}


def order_columns() -> list[dict]:
	"""The order columns every report starts with."""
	return [
		{
			"fieldname": "sales_order",
			"label": _("Order"),
			"fieldtype": "Link",
			"options": ORDER,
			"width": 120,
		},
		{"fieldname": "customer_name", "label": _("Customer"), "fieldtype": "Data", "width": 180},
		{"fieldname": "po_number", "label": _("PO Reference"), "fieldtype": "Data", "width": 120},
		{"fieldname": "order_date", "label": _("Order Date"), "fieldtype": "Date", "width": 100},
		{"fieldname": "expected_date", "label": _("Expected Date"), "fieldtype": "Date", "width": 100},
		{"fieldname": "status", "label": _("Status"), "fieldtype": "Data", "width": 130},
		{"fieldname": "currency", "label": _("Currency"), "fieldtype": "Data", "width": 80},
	]


ORDER_SELECT = f"""{ORDER_TABLE}.name as sales_order, {ORDER_TABLE}.customer_name, {ORDER_TABLE}.po_number,
	{ORDER_TABLE}.order_date, {ORDER_TABLE}.expected_date, {ORDER_TABLE}.status, {ORDER_TABLE}.currency"""
