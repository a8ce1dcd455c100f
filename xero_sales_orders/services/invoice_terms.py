"""What an invoice takes from its organisation's and contact's settings in Xero when it is pushed: its due
date, its branding theme, its lines' tracking and its exchange rate (``invoice_push._payload``).

- Due date: the one chosen when it was raised, else the contact's sales payment terms in Xero, else the
  organisation's default here (Due Days with its Due Date Terms), by ``core.payment_terms``.
- Branding theme: the contact's own theme in Xero, else the organisation's chosen one; a theme deleted in
  Xero is never sent (Xero would refuse the invoice) and the order's timeline says so (``core.branding``).
- Tracking: the options copied from the order lines when the invoice was raised, as ``LineItem.Tracking``;
  one archived or deleted in Xero since is left off (Xero would refuse the invoice) and said so.
- CurrencyRate: the exchange rate given when the invoice was raised, on a foreign-currency invoice only;
  otherwise Xero takes its own (XE.com) rate, which the invoice then keeps (``xero_invoice_state``).
"""

from datetime import date, timedelta

import frappe
from frappe import _
from frappe.utils import getdate

from xero_sales_orders.core.branding import choose_theme
from xero_sales_orders.core.errors import PaymentTermsError
from xero_sales_orders.core.money import to_decimal
from xero_sales_orders.core.payment_terms import DAYS_AFTER_BILL_DATE, due_date
from xero_sales_orders.core.tracking import xero_tracking
from xero_sales_orders.services.order_invoicing import ORDER
from xero_sales_orders.services.order_org_settings import TRACKING_FIELDS, tracking_options
from xero_sales_orders.services.org_masters import theme_statuses

DEFAULT_DUE_DAYS = 30


def due_date_for(invoice, tenant) -> date:
	"""The invoice's DueDate in Xero. ``invoice`` may be a frappe._dict (the Create Invoice preview) with
	invoice_date, due_date and customer; ``tenant`` the organisation's row (due_days, due_date_type)."""
	if invoice.get("due_date"):
		return getdate(invoice.due_date)
	issued = getdate(invoice.get("invoice_date"))
	if invoice.get("customer"):
		terms = frappe.db.get_value(
			"Xero Contact", invoice.customer, ["sales_terms_day", "sales_terms_type"], as_dict=True
		)
		if terms and terms.sales_terms_type:
			try:
				return due_date(issued, terms.sales_terms_day, terms.sales_terms_type)
			except PaymentTermsError:
				pass  # Xero's terms we cannot read: the organisation's default
	day = tenant.get("due_days")
	try:
		return due_date(
			issued,
			DEFAULT_DUE_DAYS if day in (None, "") else day,
			tenant.get("due_date_type") or DAYS_AFTER_BILL_DATE,
		)
	except PaymentTermsError:
		return issued + timedelta(days=DEFAULT_DUE_DAYS)


def branding_theme_for(invoice, tenant) -> tuple[str | None, list[str]]:
	"""The theme the invoice goes out with (None: Xero's default) and the deleted ones passed over."""
	contact_theme = (
		frappe.db.get_value("Xero Contact", invoice.customer, "branding_theme")
		if invoice.get("customer")
		else None
	)
	organisation_theme = tenant.get("branding_theme")
	return choose_theme(
		contact_theme, organisation_theme, theme_statuses([contact_theme, organisation_theme])
	)


def header_terms(invoice, tenant) -> dict:
	"""BrandingThemeID and CurrencyRate of the invoice's payload (only those that are to be sent)."""
	terms = {}
	theme, passed_over = branding_theme_for(invoice, tenant)
	if theme:
		terms["BrandingThemeID"] = theme
	if passed_over:
		names = [
			frappe.db.get_value("Xero Branding Theme", name, "theme_name") or name for name in passed_over
		]
		_note(
			invoice,
			_("branding theme {0} was deleted in Xero, so the invoice went out with {1}").format(
				", ".join(names),
				frappe.db.get_value("Xero Branding Theme", theme, "theme_name")
				if theme
				else _("Xero's default"),
			),
		)
	rate = invoice.get("currency_rate")
	base = tenant.get("base_currency")
	if rate and to_decimal(rate) > 0 and (not base or invoice.currency != base):
		terms["CurrencyRate"] = to_decimal(rate)
	return terms


def line_tracking(invoice) -> dict[str, list[dict]]:
	"""``LineItem.Tracking`` of each of the invoice's lines (by row name) that has any."""
	tracking, left_off = tracking_of(
		{row.name: tuple(row.get(f) for f in TRACKING_FIELDS) for row in invoice.items}
	)
	if left_off:
		_note(
			invoice,
			_("tracking {0} is no longer active in Xero and was left off the invoice").format(left_off),
		)
	return tracking


def tracking_of(chosen: dict[str, tuple]) -> tuple[dict[str, list[dict]], str]:
	"""``LineItem.Tracking`` of each line (key -> its tracking option names) that has any still active in
	Xero, and the options left off because they are not (as one text, empty when none)."""
	options = tracking_options(name for names in chosen.values() for name in names)
	tracking, left_off = {}, []
	for key, names in chosen.items():
		sent, dropped = xero_tracking(names, options)
		if sent:
			tracking[key] = sent
		left_off += [getattr(o, "label", o) for o in dropped]
	return tracking, ", ".join(dict.fromkeys(left_off))


def _note(invoice, what: str) -> None:
	"""Tells the order's timeline what the push did differently from the order (kept with the push's commit)."""
	if invoice.get("sales_order"):
		frappe.get_doc(ORDER, invoice.sales_order).add_comment(
			"Info", _("Invoice {0}: {1}").format(invoice.name, what)
		)
