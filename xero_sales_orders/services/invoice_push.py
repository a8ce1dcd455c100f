"""Pushing invoices to Xero (here -> Xero) so that none is lost and none is doubled.

- The local Xero Invoice is committed before anything is sent: if Xero is down it stays Pending.
- A pusher claims the invoices it sends by a state change committed on its own (a claim with a lease),
  not by holding row locks: no lock is held while Xero is called, so invoicing other orders never
  waits on a slow Xero. Each attempt is counted in that same commit.
- Every send carries an Idempotency-Key, so an immediate retry is replayed by Xero. Xero forgets keys
  after minutes, and a retry of several invoices goes out under a new batch key, so an invoice with an
  earlier attempt is first looked up by the number the app assigned; Xero's "Invoice # must be unique"
  for such an invoice means "it is there already", never Failed.
- Xero's answer is committed as soon as it arrives, one order per transaction under that order's lock
  (``order_invoicing.with_order_locked``), where the order's figures are derived again.

What Xero later says of an invoice comes the other way: ``invoice_updates`` (webhooks and reconciliation).
"""

import uuid
from collections import defaultdict

import frappe
import requests
from frappe import _
from frappe.utils import getdate, now_datetime

from xero_sales_orders.core.invoice_plans import xero_line_terms
from xero_sales_orders.core.links import safe_link
from xero_sales_orders.core.money import round_money, round_qty, to_decimal
from xero_sales_orders.services import invoice_actions, invoice_terms, order_timeline
from xero_sales_orders.services.order_invoicing import (
	INVOICE,
	ORDER,
	refresh_order_invoicing,
	with_order_locked,
)
from xero_sales_orders.services.push_claims import (
	CALL_BUDGET,
	batch_key,
	claim_documents,
	due_for_retry,
	found_under_our_numbers,
	key_after_failure,
	outside_window,
	push_by_organisation,
	record_push,
	release_claim,
	unclaimed,
)
from xero_sales_orders.services.xero_clients import client_for
from xero_sales_orders.services.xero_endpoints import CONNECTION
from xero_sales_orders.services.xero_invoice_state import note_totals_differ, xero_figures
from xero_sales_orders.xero.client import (
	INVOICES_PER_BATCH,
	XeroAPIError,
	XeroRateLimitError,
	XeroUnavailableError,
)
from xero_sales_orders.xero.errors import element_errors

MAX_ATTEMPTS = 25
# Short enough that a user waiting on Create Invoice is not kept long when Xero is slow; the retry job
# (with the same idempotency key) picks it up.
PUSH_TIMEOUT = (5, 20)
# Per organisation and run (every minute): ten full PUTs of 50 and at most ten lookups of 50 numbers, a third
# of Xero's 60 calls a minute.
RETRY_PER_ORGANISATION = 500
TRANSIENT = (XeroRateLimitError, XeroUnavailableError, requests.RequestException, OSError)
NUMBER_TAKEN = "Invoice # must be unique."


def push_invoices(names: list[str]) -> dict[str, str]:
	"""Pushes the given Pending invoices, one organisation at a time; returns each one's push state.

	An organisation whose push fails unexpectedly (a token refresh that errors, a bug) costs only its own
	invoices' turn: what Xero accepted for the others is already committed.
	"""
	return push_by_organisation(INVOICE, names, _push_group, "invoices")


def _claim(names: list[str], claim: str) -> list:
	"""Claims the invoices still Pending and not claimed by a live pusher (``push_claims``)."""
	return claim_documents(INVOICE, names, claim)


def _release(claim: str) -> None:
	release_claim(INVOICE, claim)


def _push_group(connection: str, tenant_id: str, names: list[str], claim: str) -> None:
	invoices = _claim(names, claim)
	if not invoices:
		return
	try:
		client = client_for(
			connection, tenant_id, max_retries=2, timeout=PUSH_TIMEOUT, call_budget=CALL_BUDGET
		)
	except frappe.ValidationError as e:
		_failed(invoices, str(e), transient=True)
		return
	try:
		tenant = _tenant_settings(connection, tenant_id)
		# An earlier attempt may have reached Xero without its answer reaching us: looked up 50 numbers a call.
		uncertain = [inv for inv in invoices if inv.earlier_attempts]
		found = _find_in_xero(client, uncertain) if uncertain else {}
		by_name = {inv.name: inv for inv in invoices}
		_record_accepted([by_name[n] for n in found], found, tenant, claim)
		accepted = dict(found)
		to_send = [inv for inv in invoices if inv.name not in found]
		# One PUT per full batch, each batch's answers committed before the next goes out, so a failure
		# (or a worker killed) midway leaves only the batches not yet answered to retry.
		for start in range(0, len(to_send), INVOICES_PER_BATCH):
			batch = to_send[start : start + INVOICES_PER_BATCH]
			accepted.update(_send_batch(client, tenant, batch, claim))
		if len(invoices) == 1 and accepted:
			_fetch_online_url(client, by_name[next(iter(accepted))], accepted[next(iter(accepted))])
		if accepted and len(accepted) <= invoice_actions.HISTORY_INLINE:
			# Which order, by whom, on the invoice's History in Xero; a batch's notes are left to the job.
			invoice_actions.note_history(client, [by_name[n] for n in accepted])
	except TRANSIENT as e:
		_failed(invoices, _describe(e), transient=True, claim=claim)
	except XeroAPIError as e:
		_failed(invoices, _describe(e), transient=e.status is None or e.status >= 500, claim=claim)
	except frappe.ValidationError as e:
		# The token could not be refreshed (Xero's identity server down, reconnect needed): try again later.
		_failed(invoices, str(e), transient=True, claim=claim)
	finally:
		client.close()


def _send_batch(client, tenant, batch: list, claim: str) -> dict[str, dict]:
	"""One PUT of at most 50 invoices; records what Xero accepted and refused, returns the accepted."""
	for inv in batch:
		if inv.earlier_attempts and _outside_window(inv):
			inv.idempotency_key = uuid.uuid4().hex  # the old key may be forgotten, or hold an error
	payloads = [_payload(inv, tenant) for inv in batch]
	key = batch[0].idempotency_key if len(batch) == 1 else _batch_key(batch)
	answers = {e.get("InvoiceNumber"): e for e in client.create_invoices(payloads, idempotency_key=key)}
	accepted, refused = {}, {}
	for inv in batch:
		element = answers.get(inv.invoice_number)
		errors = element_errors(element) if element else [_("Xero returned no answer for this invoice")]
		if element and not errors and element.get("InvoiceID"):
			accepted[inv.name] = element
		else:
			refused[inv.name] = errors
	# "Invoice # must be unique" for an invoice of ours that Xero may already hold: look it up.
	taken = [inv for inv in batch if any(NUMBER_TAKEN in e for e in refused.get(inv.name, ()))]
	if taken:
		for name, element in _find_in_xero(client, taken).items():
			accepted[name] = element
			refused.pop(name)
	by_name = {inv.name: inv for inv in batch}
	_record_accepted([by_name[n] for n in accepted], accepted, tenant, claim)
	for name, errors in refused.items():
		_failed([by_name[name]], " ".join(errors), transient=False, claim=claim)
	return accepted


def _find_in_xero(client, invoices) -> dict[str, dict]:
	"""The invoices Xero already holds under our numbers, by local name (``push_claims``)."""
	if not invoices:
		return {}
	held = client.invoices(numbers=[inv.invoice_number for inv in invoices])
	return found_under_our_numbers(invoices, "invoice_number", held, "InvoiceNumber")


def _record_accepted(invoices, elements: dict, tenant, claim: str) -> None:
	"""Commits what Xero accepted, one order at a time under its lock, deriving its figures again."""
	by_order = defaultdict(list)
	for inv in invoices:
		by_order[inv.sales_order].append(inv)

	for order, group in sorted(by_order.items()):

		def apply(group=group, order=order):
			for inv in group:
				before = inv.totals_differ
				values = {**_pushed_values(inv, elements[inv.name], tenant), **_unclaimed()}
				_record(inv, values, claim)
				note_totals_differ(inv.name, order, values, before)
				order_timeline.invoice_pushed(inv.name, order, values.get("status"), values.get("xero_url"))
			refresh_order_invoicing(order)

		with_order_locked(order, apply)


def _unclaimed() -> dict:
	return unclaimed()


def _record(invoice, values: dict, claim: str | None = None, **conditions) -> None:
	record_push(INVOICE, invoice, values, claim, **conditions)


def _failed(invoices, message: str, transient: bool, claim: str | None = None) -> None:
	"""Records a failed attempt (the attempt itself was counted when it was claimed) in its own commit."""
	frappe.db.rollback()
	for invoice in invoices:
		if invoice.push_state != "Pending":
			continue
		_record(
			invoice,
			{
				"push_state": "Pending" if transient else "Failed",
				"last_error": message[:1000],
				"idempotency_key": key_after_failure(invoice, transient),
				**_unclaimed(),
			},
			claim,
			push_state="Pending",  # a webhook may have found it in Xero meanwhile
		)
		if not transient:
			frappe.get_doc(ORDER, invoice.sales_order).add_comment(
				"Info", _("Xero refused invoice {0}: {1}").format(invoice.name, message)
			)
	frappe.db.commit()


def _fetch_online_url(client, invoice, element: dict) -> None:
	"""The customer's link for a single, interactive push (a call per invoice, so batches leave it to be
	fetched on demand). A missing link must not turn a stored invoice into a failure."""
	if element.get("Status") in ("DRAFT", "SUBMITTED", "VOIDED", "DELETED"):
		return
	try:
		url = client.online_invoice_url(element["InvoiceID"])
	except (XeroAPIError, *TRANSIENT):
		return
	frappe.db.set_value(INVOICE, invoice.name, "online_url", safe_link(url), update_modified=False)
	frappe.db.commit()


def _describe(error: Exception) -> str:
	if isinstance(error, XeroRateLimitError) and error.retry_after:
		return _("Xero's {0} call limit was reached; retrying after {1} s").format(
			error.problem or "rate", int(error.retry_after)
		)
	return str(error) or error.__class__.__name__


def _batch_key(invoices) -> str:
	return batch_key(invoices)


def _outside_window(invoice) -> bool:
	return outside_window(invoice)


def _tenant_settings(connection: str, tenant_id: str):
	return frappe.db.get_value(
		"Xero Connection Tenant",
		{"parent": connection, "parenttype": CONNECTION, "tenant_id": tenant_id},
		["invoice_status", "due_days", "due_date_type", "branding_theme", "base_currency", "short_code"],
		as_dict=True,
	) or frappe._dict(invoice_status="DRAFT", due_days=30)


def due_date_for(invoice, tenant):
	"""The invoice's DueDate in Xero: the one chosen when it was raised, else the organisation's rule. The
	Create Invoice dialog's preview shows the same date (``api.orders.preview_invoice``)."""
	return invoice_terms.due_date_for(invoice, tenant)  # the chosen one, the contact's terms, the tenant's


def _payload(invoice, tenant) -> dict:
	contact_id = frappe.db.get_value("Xero Contact", invoice.customer, "contact_id") or invoice.customer
	invoice_date = getdate(invoice.invoice_date)
	due_date = due_date_for(invoice, tenant)
	lines = []
	tracking = invoice_terms.line_tracking(invoice)
	for row in invoice.items:
		terms = xero_line_terms(
			round_qty(to_decimal(row.qty)),
			to_decimal(row.unit_price),
			to_decimal(row.discount_rate),
			to_decimal(row.tax_rate),
			round_money(to_decimal(row.line_amount)),
			round_money(to_decimal(row.tax_amount)),
			invoice.line_amount_type,
		)
		line = {"Description": row.description or row.item_code or _("Order line"), **terms}
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
		"Type": "ACCREC",
		"Contact": {"ContactID": contact_id},
		"InvoiceNumber": invoice.invoice_number,
		"Reference": invoice.reference,
		"Date": invoice_date.isoformat(),
		"DueDate": due_date.isoformat(),
		# DRAFT or AUTHORISED as chosen when the invoice was raised, else the organisation's default.
		"Status": invoice.get("requested_status") or tenant.invoice_status or "DRAFT",
		"LineAmountTypes": invoice.line_amount_type or "Exclusive",
		"CurrencyCode": invoice.currency,
		"LineItems": lines,
		# Shown in Xero as "Go to Xero Sales Orders": accounts staff jump from the invoice to its order.
		"Url": invoice_actions.order_link(invoice.sales_order),
	}
	payload.update(invoice_terms.header_terms(invoice, tenant))  # BrandingThemeID, CurrencyRate
	return payload


def _pushed_values(invoice, element: dict, tenant) -> dict:
	short_code = tenant.short_code
	return {
		"push_state": "Pushed",
		"last_error": None,
		"xero_url": safe_link(f"https://go.xero.com/app/{short_code}/invoicing/view/{element['InvoiceID']}")
		if short_code
		else None,
		**xero_figures(element, invoice),
	}


def retry_pending(connection: str | None = None) -> dict:
	"""Scheduled: pushes Pending invoices whose backoff has passed, in batches per organisation.

	Each organisation's oldest RETRY_PER_ORGANISATION are taken on their own, so a run sends each one
	full PUTs of 50 (ten for a backlog of 500) whatever the others hold: 1,000 Pending invoices of two
	organisations go out in one run of 2 x 10 PUTs, well inside Xero's 60 calls a minute.
	"""
	waiting = {
		"push_state": "Pending",
		"connection": connection or ["is", "set"],
		"tenant_id": ["is", "set"],
		"push_attempts": ["<", MAX_ATTEMPTS],
	}
	organisations = frappe.get_all(
		INVOICE, filters=waiting, fields=["connection", "tenant_id"], group_by="connection, tenant_id"
	)
	now, due = now_datetime(), []
	for org in organisations:
		candidates = frappe.get_all(
			INVOICE,
			filters={**waiting, "connection": org.connection, "tenant_id": org.tenant_id},
			fields=["name", "push_attempts", "last_attempt_at"],
			order_by="creation asc",
			limit=RETRY_PER_ORGANISATION,
		)
		due += due_for_retry(candidates, now)
	return push_invoices(due) if due else {}
