"""An order's tracking, currency and base-currency figures against its Xero organisation's synced lists.

- Tracking: the order's two options are the default of its lines (a line takes the order's option of every
  category it does not name itself); every option must be ACTIVE in Xero, of the order's organisation, one per
  category and at most two a line (``core.tracking``). Invoices copy their lines' options and send them as
  ``LineItem.Tracking``; an option archived since is left off and said so (``invoice_terms``).
- Currency: the order's currency must be one the organisation has enabled in Xero (``/Currencies``, synced);
  its base currency is always allowed, and before a first sync nothing is refused.
- Base-currency total: the order's total divided by Xero's CurrencyRate on its latest live invoice (units of
  the order's currency per unit of the base currency); a base-currency order's is its total.
"""

import frappe
from frappe import _

from xero_sales_orders.core.currencies import base_amount
from xero_sales_orders.core.errors import TrackingRuleError
from xero_sales_orders.core.money import to_decimal
from xero_sales_orders.core.order_status import DEAD_INVOICE_STATUSES
from xero_sales_orders.core.tracking import TrackingOption, check_line, with_defaults
from xero_sales_orders.exceptions import InvalidOrderError, throw
from xero_sales_orders.services.org_masters import enabled_currencies, organisation_row

OPTION = "Xero Tracking Option"
TRACKING_FIELDS = ("tracking_option_1", "tracking_option_2")
OPTION_FIELDS = [
	"name",
	"option_id",
	"option_name",
	"status",
	"category_id",
	"category_name",
	"category_status",
	"connection",
	"tenant_id",
]


def tracking_options(names) -> dict[str, TrackingOption]:
	"""The synced tracking options of these names, as ``core.tracking`` reads them (one query)."""
	names = [n for n in dict.fromkeys(names) if n]
	if not names:
		return {}
	return {
		r.name: TrackingOption(
			name=r.name,
			option_id=r.option_id,
			option_name=r.option_name or "",
			status=r.status or "",
			category_id=r.category_id or "",
			category_name=r.category_name or "",
			category_status=r.category_status or "",
			organisation=(r.connection or None, r.tenant_id or None),
		)
		for r in frappe.get_all(OPTION, {"name": ["in", names]}, OPTION_FIELDS)
	}


def chosen(row) -> tuple:
	return tuple(row.get(f) for f in TRACKING_FIELDS)


def apply_tracking(order) -> None:
	"""Checks the order's and its lines' tracking options and fills each line's from the order's."""
	header = chosen(order)
	names = [*header, *(name for row in order.items for name in chosen(row))]
	if not any(names):
		return
	options = tracking_options(names)
	organisation = (order.connection or None, order.tenant_id or None)
	try:
		check_line(header, options, organisation, _("Order tracking"))
		for row in order.items:
			picked = with_defaults(chosen(row), header, options)
			check_line(picked, options, organisation, _("Row {0}").format(row.idx))
			for field, value in zip(TRACKING_FIELDS, (*picked, None, None), strict=False):
				row.set(field, value)
	except TrackingRuleError as e:
		throw(str(e), InvalidOrderError, title=_("Tracking"))


def validate_currency(order) -> None:
	"""The order's currency must be enabled in its Xero organisation (its base currency always is)."""
	row = organisation_row(order.connection, order.tenant_id)
	order.base_currency = (row.base_currency if row else None) or None
	enabled = enabled_currencies(order.connection, order.tenant_id)
	if not enabled or order.currency in enabled or order.currency == order.base_currency:
		return
	throw(
		_(
			"Currency {0} is not enabled in the Xero organisation {1}: use one of {2}, or enable {0} in Xero "
			"and sync the connection"
		).format(order.currency, (row.tenant_name if row else None) or order.tenant_id, ", ".join(enabled)),
		InvalidOrderError,
		title=_("Currency"),
	)


def base_currency_of(connection: str | None, tenant_id: str | None) -> str | None:
	"""The organisation's base currency, read once per request or job (an import refreshes many orders)."""

	def read():
		row = organisation_row(connection, tenant_id)
		return row.base_currency if row else None

	return frappe.local_cache("xso_base_currency", (connection, tenant_id), read, regenerate_if_none=True)


def latest_rate(order_name: str):
	"""Xero's CurrencyRate on the order's latest live invoice that Xero has priced, or None."""
	rates = frappe.get_all(
		"Xero Invoice",
		{
			"sales_order": order_name,
			"status": ["not in", list(DEAD_INVOICE_STATUSES)],
			"xero_invoice_id": ["is", "set"],
			"currency_rate": [">", 0],
		},
		pluck="currency_rate",
		order_by="creation desc, name desc",
		limit=1,
	)
	return to_decimal(rates[0]) if rates else None


def base_figures(order, invoiced: bool = True) -> dict:
	"""``exchange_rate`` and ``base_grand_total`` of the order (``invoiced``: read its invoices' rates)."""
	if order.base_currency and order.currency == order.base_currency:
		return {"exchange_rate": 1, "base_grand_total": order.grand_total}
	rate = latest_rate(order.name) if invoiced and order.name else None
	total = base_amount(to_decimal(order.grand_total), rate) if rate else None
	# 0 (the columns hold no NULL) until Xero has priced an invoice of the order.
	return {"exchange_rate": rate or 0, "base_grand_total": total or 0}


def refresh_base_figures(order) -> dict:
	"""Writes the order's base-currency figures (called where its invoicing is derived, under its lock)."""
	if not order.get("base_currency"):  # an order written before base currencies were kept
		base = base_currency_of(order.connection, order.tenant_id)
		if base:
			order.base_currency = base
			frappe.db.set_value(order.doctype, order.name, "base_currency", base, update_modified=False)
	values = base_figures(order)
	changed = {k: v for k, v in values.items() if _differs(order.get(k), v)}
	if changed:
		order.update(changed)
		frappe.db.set_value(order.doctype, order.name, changed, update_modified=False)
	return values


def _differs(stored, value) -> bool:
	if stored in (None, "") or value in (None, ""):
		return (stored in (None, "")) != (value in (None, ""))
	return to_decimal(stored) != to_decimal(value)
