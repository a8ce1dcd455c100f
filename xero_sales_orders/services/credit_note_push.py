"""Pushing credit notes to Xero (here -> Xero) and allocating each to its invoice, none lost and none doubled.

The guarantees are the invoices' (``push_claims``): the local Xero Credit Note is committed before anything is
sent (``credit_notes``); a pusher claims what it sends with a lease, counting the attempt, and holds no lock
while Xero answers; every create carries an Idempotency-Key, and a credit note with an earlier attempt is first
looked up in Xero by the number the app gave it. What Xero answers is committed at once, one order at a time
under its lock (``order_invoicing.with_order_locked``).

A credit note goes in two steps, each recorded as Xero answers it: ``PUT /CreditNotes`` (its CreditNoteID and
Xero's totals are kept, the push stays Pending), then ``PUT /CreditNotes/{id}/Allocations`` to its invoice for
what the invoice still owes, at most the credit note's total (the rest stays on the credit note in Xero, to be
refunded or allocated there). A retry after an earlier attempt first reads the credit note back, so an
allocation whose answer was lost is never made twice. The invoice is then read back from Xero so that its
Amount Credited and Amount Due, and the order's figures, are Xero's. Calls per credit note: 3 (create,
allocate, the invoice read back); a retry after a lost answer adds a lookup.
"""

import frappe
import requests
from frappe import _
from frappe.utils import flt, getdate, nowdate

from xero_sales_orders.core.credit_plans import xero_credit_line_terms
from xero_sales_orders.core.links import safe_link
from xero_sales_orders.core.money import ZERO, round_money, round_qty, to_decimal
from xero_sales_orders.core.xero_totals import compare_totals, xero_totals
from xero_sales_orders.services import order_timeline
from xero_sales_orders.services.invoice_terms import tracking_of
from xero_sales_orders.services.invoice_updates import apply_xero_invoices
from xero_sales_orders.services.order_invoicing import (
	CREDIT_NOTE,
	INVOICE,
	ORDER,
	refresh_order_invoicing,
	with_order_locked,
)
from xero_sales_orders.services.order_org_settings import TRACKING_FIELDS
from xero_sales_orders.services.push_claims import (
	CALL_BUDGET,
	batch_key,
	claim_documents,
	due_for_retry,
	found_under_our_numbers,
	key_after_failure,
	push_by_organisation,
	record_push,
	refresh_keys_outside_window,
	unclaimed,
)
from xero_sales_orders.services.xero_clients import client_for
from xero_sales_orders.services.xero_endpoints import CONNECTION
from xero_sales_orders.xero.client import (
	INVOICES_PER_BATCH,
	XeroAPIError,
	XeroRateLimitError,
	XeroUnavailableError,
	XeroValidationError,
)
from xero_sales_orders.xero.errors import element_errors
from xero_sales_orders.xero.parsing import parse_xero_date

MAX_ATTEMPTS = 25
PUSH_TIMEOUT = (5, 20)
TRANSIENT = (XeroRateLimitError, XeroUnavailableError, requests.RequestException, OSError)
# Xero's refusals of an allocation above what the invoice still owes (facts §11): read the invoice and retry.
OWES_LESS = ("amount outstanding", "already been paid off")


def push_credit_notes(names: list[str]) -> dict[str, str]:
	"""Pushes (and allocates) the given Pending credit notes, one organisation at a time; returns each one's
	push state. An organisation whose push fails unexpectedly costs only its own credit notes' turn."""
	return push_by_organisation(CREDIT_NOTE, names, _push_group, "credit notes")


def retry_pending(connection: str | None = None) -> dict:
	"""Scheduled: pushes Pending credit notes (and allocations) whose backoff has passed."""
	candidates = frappe.get_all(
		CREDIT_NOTE,
		filters={
			"push_state": "Pending",
			"connection": connection or ["is", "set"],
			"tenant_id": ["is", "set"],
			"push_attempts": ["<", MAX_ATTEMPTS],
		},
		fields=["name", "push_attempts", "last_attempt_at"],
		order_by="creation asc",
		limit=200,
	)
	due = due_for_retry(candidates)
	return push_credit_notes(due) if due else {}


def _push_group(connection: str, tenant_id: str, names: list[str], claim: str) -> None:
	notes = claim_documents(CREDIT_NOTE, names, claim)
	if not notes:
		return
	try:
		client = client_for(
			connection, tenant_id, max_retries=2, timeout=PUSH_TIMEOUT, call_budget=CALL_BUDGET
		)
	except frappe.ValidationError as e:
		_failed(notes, str(e), transient=True, claim=claim)
		return
	try:
		short_code = frappe.db.get_value(
			"Xero Connection Tenant",
			{"parent": connection, "parenttype": CONNECTION, "tenant_id": tenant_id},
			"short_code",
		)
		to_create = [n for n in notes if not n.xero_credit_note_id]
		# An earlier attempt may have reached Xero without its answer reaching us: looked up by our number.
		uncertain = [n for n in to_create if n.earlier_attempts]
		if uncertain:
			held = client.credit_notes(numbers=[n.credit_note_number for n in uncertain])
			found = found_under_our_numbers(uncertain, "credit_note_number", held, "CreditNoteNumber")
			for note in uncertain:
				if note.name in found:
					_record_created(note, found[note.name], short_code, claim)
		to_send = [n for n in to_create if not n.xero_credit_note_id]
		for start in range(0, len(to_send), INVOICES_PER_BATCH):
			_send_batch(client, to_send[start : start + INVOICES_PER_BATCH], short_code, claim)
		# Created by this attempt: no allocation of it can exist yet. The others may have one already.
		fresh = {n.name for n in to_send}
		credited_invoices = []
		for note in notes:
			if note.xero_credit_note_id and note.push_state == "Pending":
				invoice_id = _allocate(client, note, claim, read_back=note.name not in fresh)
				if invoice_id:
					credited_invoices.append(invoice_id)
		if credited_invoices:
			# The invoices' Amount Credited and Amount Due, and so the orders' figures, as Xero now has them.
			apply_xero_invoices(list(client.invoices(ids=credited_invoices)), connection, tenant_id)
	except TRANSIENT as e:
		_failed(notes, _describe(e), transient=True, claim=claim)
	except XeroAPIError as e:
		_failed(notes, _describe(e), transient=e.status is None or e.status >= 500, claim=claim)
	except frappe.ValidationError as e:
		# The token could not be refreshed (Xero's identity server down, reconnect needed): try again later.
		_failed(notes, str(e), transient=True, claim=claim)
	finally:
		client.close()


def _send_batch(client, batch: list, short_code: str | None, claim: str) -> None:
	"""One PUT of at most 50 credit notes; records what Xero created and what it refused."""
	refresh_keys_outside_window(batch)
	answers = {
		e.get("CreditNoteNumber"): e
		for e in client.create_credit_notes([_payload(n) for n in batch], idempotency_key=batch_key(batch))
	}
	for note in batch:
		element = answers.get(note.credit_note_number)
		# Labelled by its own number (its Reference is the invoice's).
		errors = (
			element_errors({k: v for k, v in element.items() if k != "Reference"}, "Credit note")
			if element
			else [_("Xero returned no answer for this credit note")]
		)
		if element and not errors and element.get("CreditNoteID"):
			_record_created(note, element, short_code, claim)
		else:
			_failed([note], " ".join(errors), transient=False, claim=claim)


def _credited_tracking(note) -> dict[str, list[dict]]:
	"""``LineItem.Tracking`` of each credited line (by row name): the tracking of the invoice line it credits,
	so that Xero reports the credit under the same categories as the sale (an option no longer active in
	Xero is left off, and the order's timeline says so)."""
	invoice_rows = [row.invoice_item for row in note.items if row.get("invoice_item")]
	rows = (
		frappe.get_all("Xero Invoice Item", {"name": ["in", invoice_rows]}, ["name", *TRACKING_FIELDS])
		if invoice_rows
		else []
	)
	chosen = {r.name: tuple(r.get(f) for f in TRACKING_FIELDS) for r in rows}
	tracking, left_off = tracking_of(chosen)
	if left_off and note.get("sales_order") and not note.get("earlier_attempts"):  # once, not per retry
		frappe.get_doc(ORDER, note.sales_order).add_comment(
			"Info",
			_("Credit note {0}: tracking {1} is no longer active in Xero and was left off").format(
				note.name, left_off
			),
		)
	return {row.name: tracking[row.invoice_item] for row in note.items if row.get("invoice_item") in tracking}


def _payload(note) -> dict:
	contact_id = frappe.db.get_value("Xero Contact", note.customer, "contact_id") or note.customer
	tracking = _credited_tracking(note)
	lines = []
	for row in note.items:
		line = {
			"Description": row.description or row.item_code or _("Credited line"),
			**xero_credit_line_terms(
				round_qty(to_decimal(row.qty)),
				round_money(to_decimal(row.line_amount)),
				round_money(to_decimal(row.tax_amount)),
				to_decimal(row.tax_rate),
				note.line_amount_type,
			),
		}
		for field, key in (
			("item_code", "ItemCode"),
			("account_code", "AccountCode"),
			("tax_type", "TaxType"),
		):
			if row.get(field):
				line[key] = row.get(field)
		if tracking.get(row.name):
			line["Tracking"] = tracking[row.name]
		lines.append(line)
	payload = {
		"Type": "ACCRECCREDIT",
		"Contact": {"ContactID": contact_id},
		"CreditNoteNumber": note.credit_note_number,
		"Reference": note.reference,
		"Date": getdate(note.credit_date or nowdate()).isoformat(),
		"Status": "AUTHORISED",
		"LineAmountTypes": note.line_amount_type or "Exclusive",
		"CurrencyCode": note.currency,
		"LineItems": lines,
	}
	# A foreign-currency credit note takes its invoice's rate, so that it credits the same in the base currency.
	rate = frappe.db.get_value(INVOICE, note.invoice, "currency_rate") if note.invoice else None
	if rate and flt(rate) > 0:
		payload["CurrencyRate"] = to_decimal(rate)
	return payload


def credit_note_figures(element: dict, app_totals) -> dict:
	"""Xero's state of a credit note as the local row keeps it (its totals beside the app's, never in place)."""
	updated = parse_xero_date(element.get("UpdatedDateUTC"))
	theirs = xero_totals(element)
	differences = compare_totals(app_totals, element) if app_totals is not None else []
	values = {
		"xero_credit_note_id": element["CreditNoteID"],
		"status": element.get("Status") or "AUTHORISED",
		"remaining_credit": to_decimal(element.get("RemainingCredit")),
		"xero_updated_at": updated.replace(tzinfo=None) if updated else None,
		"xero_subtotal": theirs["SubTotal"],
		"xero_total_tax": theirs["TotalTax"],
		"xero_total": theirs["Total"],
		"totals_differ": int(bool(differences)),
		"totals_difference": "; ".join(differences)[:1000] or None,
	}
	return values


def xero_link(short_code: str | None, credit_note_id: str) -> str | None:
	if not short_code:
		return None
	return safe_link(
		f"https://go.xero.com/organisationlogin/default.aspx?shortcode={short_code}"
		f"&redirecturl=/AccountsReceivable/ViewCreditNote.aspx?creditNoteID={credit_note_id}"
	)


def _record_created(note, element: dict, short_code: str | None, claim: str) -> None:
	"""Xero holds the credit note: its id and figures are committed at once (the allocation comes next)."""

	def apply():
		before = note.totals_differ
		values = {
			**credit_note_figures(element, note),
			"xero_url": xero_link(short_code, element["CreditNoteID"]),
			"last_error": None,
		}
		record_push(CREDIT_NOTE, note, values, claim)
		if values["totals_differ"] and not before:
			frappe.get_doc(ORDER, note.sales_order).add_comment(
				"Info",
				_("Xero's totals of credit note {0} differ from the app's: {1}").format(
					note.name, values["totals_difference"]
				),
			)

	with_order_locked(note.sales_order, apply)


def _allocate(client, note, claim: str, read_back: bool) -> str | None:
	"""Applies the credit note to its invoice in Xero for what the invoice still owes; returns the invoice's
	Xero id when something was allocated (so that it is read back), else None. With ``read_back``, a credit note
	with an earlier attempt is first read from Xero, where that attempt's allocation may be already."""
	invoice = frappe.db.get_value(
		INVOICE, note.invoice, ["name", "xero_invoice_id", "amount_due", "status"], as_dict=True
	)
	total = round_money(to_decimal(note.xero_total if note.xero_total is not None else note.total))
	if read_back and note.earlier_attempts:
		# An earlier allocation may have been made without its answer reaching us: Xero's credit note says.
		[current] = list(client.credit_notes(ids=[note.xero_credit_note_id])) or [None]
		if current is None:
			return _settle(note, claim, "Refused", ZERO, None, _("Xero no longer holds this credit note"))
		made = [
			a
			for a in current.get("Allocations") or []
			if ((a.get("Invoice") or {}).get("InvoiceID") or "").lower() == invoice.xero_invoice_id.lower()
		]
		if made:
			amount = sum((round_money(to_decimal(a.get("Amount"))) for a in made), ZERO)
			_settle(note, claim, "Allocated", amount, made[-1].get("AllocationID"), None, current)
			return invoice.xero_invoice_id
		if current.get("Status") != "AUTHORISED":
			message = _("Xero's credit note is {0}: it cannot be allocated").format(current.get("Status"))
			return _settle(note, claim, "Refused", ZERO, None, message, current)
	due = round_money(to_decimal(invoice.amount_due))
	if invoice.status == "PAID" or due <= 0:
		return _nothing_due(note, claim)
	amount = min(total, due)
	try:
		allocation = _allocation(client, note, invoice, amount)
	except XeroValidationError as e:
		if not any(phrase in str(e) for phrase in OWES_LESS):
			return _settle(
				note, claim, "Refused", ZERO, None, _("Xero refused the allocation: {0}").format(e)
			)
		# What we knew of the invoice was stale (paid or credited in Xero meanwhile): Xero's figure decides.
		[element] = list(client.invoices(ids=[invoice.xero_invoice_id])) or [{}]
		due = round_money(to_decimal(element.get("AmountDue")))
		if element.get("Status") != "AUTHORISED" or due <= 0:
			return _nothing_due(note, claim)
		amount = min(total, due)
		allocation = _allocation(client, note, invoice, amount)
	_settle(note, claim, "Allocated", amount, allocation.get("AllocationID"), None)
	return invoice.xero_invoice_id


def _allocation(client, note, invoice, amount) -> dict:
	return client.allocate_credit_note(
		note.xero_credit_note_id,
		invoice.xero_invoice_id,
		amount,
		getdate(nowdate()),
		idempotency_key=f"{note.idempotency_key}-allocate-{amount}",
	)


def _nothing_due(note, claim: str) -> None:
	message = _(
		"The invoice owes nothing in Xero: the credit stays on credit note {0} in Xero, to be refunded or "
		"allocated there"
	).format(note.credit_note_number)
	return _settle(note, claim, "Nothing Due", ZERO, None, message)


def _settle(note, claim, state, amount, allocation_id, message, element=None) -> None:
	"""The credit note is done (Pushed): allocated, or with nothing to allocate, or the allocation refused."""
	total = round_money(to_decimal(note.xero_total if note.xero_total is not None else note.total))

	def apply():
		values = {
			"push_state": "Pushed",
			"allocation_state": state,
			"allocated_amount": amount,
			"allocation_id": allocation_id,
			"last_error": message if state == "Refused" else None,
			**unclaimed(),
		}
		if element is not None:
			values.update(credit_note_figures(element, note))
		else:
			# Xero's documented effect of the allocation (facts §11); webhooks and the reconciliation bring its own.
			values["remaining_credit"] = total - amount
			values["status"] = "PAID" if total - amount <= 0 else "AUTHORISED"
		record_push(CREDIT_NOTE, note, values, claim, push_state="Pending")
		if note.returns_to_order:
			refresh_order_invoicing(note.sales_order)
		if state == "Allocated":
			order_timeline.invoice_credited(
				note.sales_order,
				note.invoice,
				note.name,
				amount,
				note.currency,
				credit_note_doctype=CREDIT_NOTE,
				xero_url=note.xero_url,
				returned_to_order=bool(note.returns_to_order),
			)
		if state == "Refused":
			frappe.get_doc(ORDER, note.sales_order).add_comment(
				"Info", _("Credit note {0} is in Xero but not allocated: {1}").format(note.name, message)
			)

	with_order_locked(note.sales_order, apply)


def _failed(notes, message: str, transient: bool, claim: str | None = None) -> None:
	"""Records a failed attempt (counted when it was claimed) in its own commit; a refusal is Failed."""
	frappe.db.rollback()
	for note in notes:
		if note.push_state != "Pending":
			continue
		# Once Xero holds it, only the allocation is left, and that is retried.
		retried = transient or bool(note.xero_credit_note_id)
		record_push(
			CREDIT_NOTE,
			note,
			{
				"push_state": "Pending" if retried else "Failed",
				"last_error": message[:1000],
				"idempotency_key": key_after_failure(note, retried),
				**unclaimed(),
			},
			claim,
			push_state="Pending",
		)
		if not retried:
			frappe.get_doc(ORDER, note.sales_order).add_comment(
				"Info", _("Xero refused credit note {0}: {1}").format(note.name, message)
			)
	frappe.db.commit()
	# A refused credit note returns nothing to the order: its figures follow.
	for order in {n.sales_order for n in notes if n.push_state == "Failed" and n.returns_to_order}:
		with_order_locked(order, lambda order=order: refresh_order_invoicing(order))


def _describe(error: Exception) -> str:
	if isinstance(error, XeroRateLimitError) and error.retry_after:
		return _("Xero's {0} call limit was reached; retrying after {1} s").format(
			error.problem or "rate", int(error.retry_after)
		)
	return str(error) or error.__class__.__name__
