"""Xero's state of an invoice as the local Xero Invoice keeps it: written when a push is accepted
(``invoice_push``) and when Xero tells of a change (``invoice_updates``)."""

import frappe
from frappe import _

from xero_sales_orders.core.money import to_decimal
from xero_sales_orders.core.xero_totals import compare_totals, xero_totals
from xero_sales_orders.services.order_invoicing import ORDER
from xero_sales_orders.xero.parsing import parse_xero_date


def xero_figures(element: dict, app_totals) -> dict:
	"""Xero's state of an invoice as the local row keeps it. Xero's own totals are kept beside the app's
	(never in place of them), and an invoice whose totals in Xero differ from the app's is flagged."""
	updated = parse_xero_date(element.get("UpdatedDateUTC"))
	theirs = xero_totals(element)
	differences = compare_totals(app_totals, element)
	# The rate Xero priced a foreign-currency invoice at (given, or its XE.com rate) and the theme it carries.
	terms = {
		field: value
		for field, value in (
			("currency_rate", element.get("CurrencyRate")),
			("branding_theme", str(element.get("BrandingThemeID") or "").lower() or None),
		)
		if value not in (None, "")
	}
	# Xero's summaries leave SentToContact out: only a full answer sets it.
	if "SentToContact" in element:
		terms["sent_to_contact"] = 1 if element["SentToContact"] else 0
	return {
		**terms,
		"xero_invoice_id": element["InvoiceID"],
		"status": element.get("Status") or "DRAFT",
		"amount_due": to_decimal(element.get("AmountDue")),
		"amount_paid": to_decimal(element.get("AmountPaid")),
		"amount_credited": to_decimal(element.get("AmountCredited")),
		"xero_updated_at": updated.replace(tzinfo=None) if updated else None,
		"xero_subtotal": theirs["SubTotal"],
		"xero_total_tax": theirs["TotalTax"],
		"xero_total": theirs["Total"],
		"totals_differ": int(bool(differences)),
		"totals_difference": "; ".join(differences)[:1000] or None,
	}


def note_totals_differ(invoice_name: str, order: str, values: dict, before: int) -> None:
	"""Tells the order's timeline the first time Xero's totals of one of its invoices differ from the app's."""
	if values["totals_differ"] and not before:
		frappe.get_doc(ORDER, order).add_comment(
			"Info",
			_("Xero's totals of invoice {0} differ from the app's: {1}").format(
				invoice_name, values["totals_difference"]
			),
		)
