"""What a person does with a pushed invoice from the order, in Xero (here -> Xero):

- **Approve & Email** a DRAFT (or SUBMITTED) invoice: Xero approves it (AUTHORISED), then emails it to the
  contact (``POST /Invoices/{id}/Email``); **Email** an approved one. Xero's SentToContact is kept on the
  invoice. A contact without an email address is told so before anything is sent.
- **History and Url**: every invoice the app pushes carries ``Url`` (its order in the desk, which Xero shows as
  "Go to Xero Sales Orders") and gets a note on its History in Xero: which order it was raised from, and by whom.
  A single, interactive push writes the note at once; the notes of a batch push are written by
  ``note_pending_history`` (every minute, a few per organisation, so that they never take Xero's minute budget
  from pushes).
"""

import uuid
from urllib.parse import quote

import frappe
from frappe import _
from frappe.utils import get_url

from xero_sales_orders.exceptions import NoEmailAddressError, OrderStateError, throw
from xero_sales_orders.services.invoice_updates import apply_xero_invoices
from xero_sales_orders.services.master_sync import MASTERS, upsert
from xero_sales_orders.services.order_invoicing import INVOICE, ORDER, with_order_locked
from xero_sales_orders.services.xero_clients import client_for
from xero_sales_orders.xero.client import MAX_HISTORY_DETAILS, XeroAPIError, XeroRateLimitError
from xero_sales_orders.xero.errors import XeroUnavailableError

APPROVABLE = ("DRAFT", "SUBMITTED")
EMAILABLE = ("SUBMITTED", "AUTHORISED", "PAID")
# A push of this many invoices or fewer writes their History notes at once; more are left to the job.
HISTORY_INLINE = 5
# Notes the job writes per organisation and run (every minute): a sixth of Xero's 60 calls a minute.
HISTORY_PER_RUN = 10


def order_link(sales_order: str) -> str:
	"""The order in the desk, for the invoice's ``Url`` in Xero ("Go to ..." there)."""
	return get_url(f"/app/xero-sales-order/{quote(sales_order, safe='')}")


def history_note(invoice) -> str:
	"""Which order the invoice was raised from, and by whom, in at most Xero's 250 characters."""
	user = invoice.owner or "Administrator"
	full_name = frappe.utils.get_fullname(user)
	by = full_name if full_name == user else f"{full_name} <{user}>"
	po = frappe.db.get_value(ORDER, invoice.sales_order, "po_number") if invoice.sales_order else None
	order = f"{invoice.sales_order} ({_('PO')} {po})" if po else invoice.sales_order
	text = _("Raised from Xero Sales Order {0} by {1} in Xero Sales Orders: {2}").format(
		order, by, order_link(invoice.sales_order)
	)
	return text if len(text) <= MAX_HISTORY_DETAILS else text[: MAX_HISTORY_DETAILS - 1] + "…"


def note_history(client, invoices) -> int:
	"""Writes the History note of each pushed invoice not noted yet; returns how many were written. Xero being
	slow, limited or refusing leaves an invoice to the job: a note never fails a push."""
	written = 0
	for invoice in invoices:
		row = frappe.db.get_value(
			INVOICE, invoice.name, ["xero_invoice_id", "xero_history_noted", "push_state"], as_dict=True
		)
		if not row or row.push_state != "Pushed" or not row.xero_invoice_id or row.xero_history_noted:
			continue
		try:
			client.add_history(
				row.xero_invoice_id,
				history_note(invoice),
				idempotency_key=f"{invoice.idempotency_key}-history",
			)
		except (XeroRateLimitError, XeroUnavailableError, OSError, frappe.ValidationError):
			break  # limited, down or its token refused: the rest wait for the job's next run
		except (XeroAPIError, ValueError):
			frappe.log_error(title=f"Writing the History note of {invoice.name} in Xero failed")
			continue
		frappe.db.set_value(INVOICE, invoice.name, "xero_history_noted", 1, update_modified=False)
		frappe.db.commit()
		written += 1
	return written


def note_pending_history() -> int:
	"""Scheduled: the History notes that batch pushes left, the oldest few of each organisation per run (an
	organisation Xero does not answer for waits for the next run without holding up the others)."""
	waiting = {
		"push_state": "Pushed",
		"xero_history_noted": 0,
		"xero_invoice_id": ["is", "set"],
		"import_batch": ["is", "not set"],
		"sales_order": ["is", "set"],
	}
	organisations = frappe.get_all(
		INVOICE, filters=waiting, fields=["connection", "tenant_id"], group_by="connection, tenant_id"
	)
	written = 0
	for org in organisations:
		names = frappe.get_all(
			INVOICE,
			filters={**waiting, "connection": org.connection, "tenant_id": org.tenant_id},
			pluck="name",
			order_by="creation asc",
			limit=HISTORY_PER_RUN,
		)
		try:
			client = client_for(org.connection, org.tenant_id, max_retries=1)
		except frappe.ValidationError:
			continue
		try:
			written += note_history(client, [frappe.get_doc(INVOICE, n) for n in names])
		finally:
			client.close()
	return written


def approve_and_email(invoice_name: str, approve: bool) -> dict:
	"""Approves a DRAFT or SUBMITTED invoice in Xero and emails it (``approve``), or emails an approved one.

	Refused (409, nothing sent) when the invoice is not in Xero, its status does not allow it, or its contact has
	no email address. Xero's answers are committed as they come: an approval stands when the email then fails.
	"""
	invoice = frappe.get_doc(INVOICE, invoice_name)
	_ensure_can(invoice, approve)
	client = client_for(invoice.connection, invoice.tenant_id, max_retries=2)
	try:
		_ensure_email_address(client, invoice)
		if approve and invoice.status in APPROVABLE:
			approved = client.approve_invoice(
				invoice.xero_invoice_id, idempotency_key=f"{invoice.idempotency_key}-approve"
			)
			_apply(invoice, approved)
			invoice.reload()
			_comment(invoice, _("Invoice {0} approved in Xero (AUTHORISED)").format(invoice.name))
		client.email_invoice(invoice.xero_invoice_id, idempotency_key=uuid.uuid4().hex)
		[element] = list(client.invoices(ids=[invoice.xero_invoice_id])) or [{}]
		if element and not element.get("SentToContact"):
			# Whether Xero's /Email marks it sent is not documented (facts §11): the app marks it then.
			element = client.update_invoice(invoice.xero_invoice_id, {"SentToContact": True})
		_apply(invoice, element, sent=True)
		_comment(invoice, _("Invoice {0} emailed to the customer from Xero").format(invoice.name))
	finally:
		client.close()
	invoice.reload()
	return invoice.as_dict()


def _ensure_can(invoice, approve: bool) -> None:
	if invoice.push_state != "Pushed" or not invoice.xero_invoice_id:
		reason = _("it is not in Xero yet ({0})").format(_(invoice.push_state))
	elif approve and invoice.status not in APPROVABLE + EMAILABLE:
		reason = _("it is {0} in Xero").format(invoice.status)
	elif not approve and invoice.status not in EMAILABLE:
		reason = (
			_("it is a DRAFT in Xero: use Approve & Email")
			if invoice.status == "DRAFT"
			else _("it is {0} in Xero").format(invoice.status)
		)
	else:
		return
	action = _("approve and email") if approve else _("email")
	throw(_("Cannot {0} invoice {1}: {2}").format(action, invoice.name, reason), OrderStateError)


def _ensure_email_address(client, invoice) -> None:
	"""Xero emails the contact's address: without one, the user is told before anything is sent. The synced
	copy may be older than Xero's contact, so an empty address is read again from Xero (one call)."""
	contact = frappe.db.get_value(
		"Xero Contact", invoice.customer, ["name", "contact_id", "email", "contact_name"], as_dict=True
	)
	if contact and contact.email:
		return
	name = contact.contact_name if contact else invoice.customer
	element = client.contact(contact.contact_id) if contact and contact.contact_id else None
	if element:
		master = MASTERS["contacts"]
		upsert(master, invoice.connection, invoice.tenant_id, [master.fields(element)])
		frappe.db.commit()
		people = [
			p.get("EmailAddress")
			for p in element.get("ContactPersons") or []
			if isinstance(p, dict) and p.get("IncludeInEmails")
		]
		if element.get("EmailAddress") or any(people):
			return
	throw(
		_(
			"{0} has no email address in Xero, so Xero has nobody to email invoice {1} to: add one to the contact "
			"in Xero, then try again"
		).format(name, invoice.name),
		NoEmailAddressError,
		title=_("No email address"),
	)


def _apply(invoice, element: dict, sent: bool = False) -> None:
	if element:
		apply_xero_invoices([element], invoice.connection, invoice.tenant_id)
	if sent:
		# SentToContact does not always bump Xero's UpdatedDateUTC (facts §5): written whatever the date says.
		value = 1 if (element or {}).get("SentToContact", True) else 0

		def mark():
			frappe.db.set_value(INVOICE, invoice.name, "sent_to_contact", value, update_modified=False)

		with_order_locked(invoice.sales_order, mark)


def _comment(invoice, text: str) -> None:
	if invoice.sales_order:
		frappe.get_doc(ORDER, invoice.sales_order).add_comment("Info", text)
		frappe.db.commit()
