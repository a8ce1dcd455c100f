"""Whitelisted invoice actions: Credit (a credit note in Xero, allocated to the invoice), Approve & Email, Email,
and the credit notes of an invoice or order. Each checks the user's rights on the documents themselves, then
calls one service."""

import frappe
from frappe import _

from xero_sales_orders.api.xero_answers import xero_answers
from xero_sales_orders.exceptions import OrderStateError, throw
from xero_sales_orders.permissions import require_permission
from xero_sales_orders.services import credit_note_push, credit_notes, invoice_actions
from xero_sales_orders.services.order_invoicing import CREDIT_NOTE, INVOICE, ORDER


def _check_invoice(invoice, ptype="read"):
	"""404 for an unknown invoice; 403 unless the user may ``ptype`` this invoice and read its order."""
	if not isinstance(invoice, str) or not invoice or not frappe.db.exists(INVOICE, invoice):
		throw(_("Xero Invoice {0} not found").format(invoice), frappe.DoesNotExistError)
	frappe.has_permission(INVOICE, ptype, invoice, throw=True)
	order = frappe.db.get_value(INVOICE, invoice, "sales_order")
	if order:
		frappe.has_permission(ORDER, "read", order, throw=True)


@frappe.whitelist(methods=["POST"])
def credit(invoice, lines=None, returns_to_order=0):
	"""Credits ``lines`` ([{"item": <invoice line row>, "qty": <qty>}]) of a pushed invoice, or everything not yet
	credited. ``returns_to_order`` 1: the quantities go back to the order, to be invoiced again; 0: only credited
	(a return or a discount). The credit note is committed, then created in Xero and allocated to the invoice;
	the answer is the credit note with its push and allocation state, and the invoice's figures."""
	_check_invoice(invoice)
	# Crediting is creating a credit note: the managers' right on Xero Credit Note.
	require_permission(CREDIT_NOTE, "create", action=_("credit invoices"))
	note = credit_notes.create_credit_note(invoice, lines, returns_to_order)
	# The credit note is kept whatever Xero does next; then it goes to Xero at once.
	frappe.db.commit()
	credit_note_push.push_credit_notes([note.name])
	frappe.db.commit()
	note.reload()
	answer = note.as_dict(no_default_fields=False)
	answer["invoice_figures"] = frappe.db.get_value(
		INVOICE, invoice, ["status", "total", "amount_paid", "amount_credited", "amount_due"], as_dict=True
	)
	return answer


@frappe.whitelist()
def creditable(invoice):
	"""The invoice's lines with what is invoiced, already credited and still creditable (the Credit dialog)."""
	_check_invoice(invoice)
	return credit_notes.creditable_lines(invoice)


@frappe.whitelist()
def preview_credit(invoice, lines=None):
	"""The credit note's lines and totals as Xero will compute them; nothing is written or sent."""
	_check_invoice(invoice)
	return credit_notes.preview_credit_note(invoice, lines)


@frappe.whitelist()
def invoice_credit_notes(invoice=None, sales_order=None):
	"""The credit notes of an invoice, or of every invoice of an order."""
	if sales_order:
		if not isinstance(sales_order, str) or not frappe.db.exists(ORDER, sales_order):
			throw(_("Xero Sales Order {0} not found").format(sales_order), frappe.DoesNotExistError)
		frappe.has_permission(ORDER, "read", sales_order, throw=True)
		return credit_notes.credit_notes_of({"sales_order": sales_order})
	_check_invoice(invoice)
	return credit_notes.credit_notes_of({"invoice": invoice})


@frappe.whitelist(methods=["POST"])
def retry_credit_note(credit_note):
	"""Sends a Failed (or still Pending) credit note to Xero again, with its allocation."""
	if not isinstance(credit_note, str) or not frappe.db.exists(CREDIT_NOTE, credit_note):
		throw(_("Xero Credit Note {0} not found").format(credit_note), frappe.DoesNotExistError)
	require_permission(CREDIT_NOTE, "write", credit_note, _("retry pushing credit notes"))
	order = frappe.db.get_value(CREDIT_NOTE, credit_note, "sales_order")
	if order:
		frappe.has_permission(ORDER, "read", order, throw=True)
	if frappe.db.get_value(CREDIT_NOTE, credit_note, "push_state") == "Pushed":
		throw(_("Credit note {0} is already in Xero").format(credit_note), OrderStateError)
	frappe.db.set_value(CREDIT_NOTE, credit_note, "push_state", "Pending", update_modified=False)
	frappe.db.commit()
	credit_note_push.push_credit_notes([credit_note])
	frappe.db.commit()
	return frappe.get_doc(CREDIT_NOTE, credit_note).as_dict()


@frappe.whitelist(methods=["POST"])
def approve_and_email(invoice):
	"""DRAFT (or SUBMITTED) invoice: approved in Xero (AUTHORISED), then emailed to the contact by Xero."""
	_check_invoice(invoice)
	# Approving changes the invoice in Xero (its write right, the managers'); emailing is its email right.
	require_permission(INVOICE, "write", invoice, _("approve invoices"))
	require_permission(INVOICE, "email", invoice, _("email invoices"))
	with xero_answers():
		return invoice_actions.approve_and_email(invoice, approve=True)


@frappe.whitelist(methods=["POST"])
def email(invoice):
	"""An approved invoice emailed to the contact by Xero (Xero's SentToContact follows)."""
	_check_invoice(invoice)
	require_permission(INVOICE, "email", invoice, _("email invoices"))
	with xero_answers():
		return invoice_actions.approve_and_email(invoice, approve=False)
