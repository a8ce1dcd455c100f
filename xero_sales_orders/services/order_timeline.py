"""The order's timeline: what happened to its invoices, each entry with a link (the invoice, Xero's copy, the
credit note), so that whoever opens the order sees when an invoice was raised, pushed, paid, voided or
credited without opening every invoice.

Entries are Info comments on the order, written in the caller's transaction (an invoice raised under the
order's lock is recorded in that same commit, and a rolled-back one leaves no entry). Every value is escaped and
only safe links (``core.links.safe_link``) are written.

For the credit-note work: call ``invoice_credited(order, invoice, credit_note, amount, currency, ...)`` once
the credit note is allocated.
"""

from urllib.parse import quote

import frappe
from frappe import _
from frappe.utils import escape_html, fmt_money

from xero_sales_orders.core.links import safe_link
from xero_sales_orders.core.money import round_money, to_decimal

ORDER = "Xero Sales Order"
INVOICE = "Xero Invoice"


def _desk_link(doctype: str, name: str) -> str:
	route = doctype.lower().replace(" ", "-")
	return f'<a href="/app/{route}/{quote(name, safe="")}">{escape_html(name)}</a>'


def _xero_link(url: str | None, label: str) -> str:
	url = safe_link(url)
	return (
		f' (<a href="{escape_html(url)}" target="_blank" rel="noopener">{escape_html(label)}</a>)'
		if url
		else ""
	)


def _money(amount, currency: str | None) -> str:
	return escape_html(f"{currency or ''} {fmt_money(amount or 0, 2)}".strip())


def record(order: str, html: str) -> None:
	"""One Info entry on the order's timeline (``html`` already escaped)."""
	if not order:
		return
	frappe.get_doc(
		{
			"doctype": "Comment",
			"comment_type": "Info",
			"comment_email": frappe.session.user,
			"reference_doctype": ORDER,
			"reference_name": order,
			"content": html,
		}
	).insert(ignore_permissions=True)


def invoice_raised(invoice) -> None:
	"""An invoice was raised here for some of the order's lines (not yet in Xero)."""
	lines = len(invoice.get("items") or [])
	record(
		invoice.sales_order,
		_("Invoice {0} raised for {1} ({2} lines), to go to Xero as {3}").format(
			_desk_link(INVOICE, invoice.name),
			_money(invoice.total, invoice.currency),
			lines,
			escape_html(invoice.get("requested_status") or _("the organisation's default")),
		),
	)


def invoice_pushed(invoice_name: str, order: str, status: str, xero_url: str | None = None) -> None:
	"""Xero accepted the invoice."""
	record(
		order,
		_("Invoice {0} is in Xero as {1}{2}").format(
			_desk_link(INVOICE, invoice_name),
			escape_html(status or "DRAFT"),
			_xero_link(xero_url, _("View in Xero")),
		),
	)


def invoice_changed_in_xero(invoice_name: str, order: str, before, values: dict, currency=None) -> None:
	"""What Xero says of one of the order's invoices, as far as the order's people care: a payment (in part
	or in full), a void or a deletion. ``before`` holds the invoice's status and amount paid until now."""
	link = _desk_link(INVOICE, invoice_name)
	status, was = values.get("status"), before.get("status")
	# Xero's figure is a Decimal, the stored one a float: compared and subtracted as money, to the cent.
	paid, paid_before = (
		round_money(to_decimal(values.get("amount_paid"))),
		round_money(to_decimal(before.get("amount_paid"))),
	)
	if status != was and status == "VOIDED":
		record(order, _("Invoice {0} was voided in Xero; its quantities are back on the order").format(link))
	elif status != was and status == "DELETED":
		record(order, _("Invoice {0} was deleted in Xero; its quantities are back on the order").format(link))
	elif status != was and status == "PAID":
		record(order, _("Invoice {0} was paid in full in Xero ({1})").format(link, _money(paid, currency)))
	elif paid > paid_before:
		record(
			order,
			_("A payment of {0} was received in Xero on invoice {1}; {2} is still due").format(
				_money(paid - paid_before, currency), link, _money(values.get("amount_due"), currency)
			),
		)
	elif status != was and status == "AUTHORISED" and was in ("DRAFT", "SUBMITTED"):
		record(order, _("Invoice {0} was approved in Xero").format(link))


def invoice_credited(
	order: str,
	invoice: str,
	credit_note: str,
	amount,
	currency: str | None = None,
	credit_note_doctype: str | None = None,
	xero_url: str | None = None,
	returned_to_order: bool | None = None,
) -> None:
	"""A credit note was allocated to one of the order's invoices (for the credit-note work to call).

	``credit_note`` is its number or name; with ``credit_note_doctype`` it links to that document in the
	desk. ``returned_to_order`` says whether its quantities may be invoiced again.
	"""
	note = _desk_link(credit_note_doctype, credit_note) if credit_note_doctype else escape_html(credit_note)
	then = ""
	if returned_to_order is True:
		then = " " + _("; its quantities are back on the order")
	elif returned_to_order is False:
		then = " " + _("; the quantities stay invoiced")
	record(
		order,
		_("Credit note {0} of {1} was allocated to invoice {2}{3}{4}").format(
			note,
			_money(amount, currency),
			_desk_link(INVOICE, invoice),
			_xero_link(xero_url, _("View in Xero")),
			then,
		),
	)
