"""The quote of a Fully Invoiced order is set to INVOICED in Xero (here -> Xero), once, however often it is asked.

``refresh_order_invoicing`` (order_invoicing.py), where the order's status is derived, calls ``note_order_status``:
an order made from a quote (``xero_quote_id``) that is now Fully Invoiced is marked *Pending* and a job is queued
for after the commit. The job (``set_quote_invoiced``) asks Xero for the quote first:

- INVOICED already: *Done*, nothing is sent (a retry, a second worker, someone in Xero);
- ACCEPTED: its header goes back with Status INVOICED (``XeroClient.set_quote_status``; the client retries 429,
  5xx and lost connections with one Idempotency-Key); should Xero refuse because the quote is INVOICED by then
  (another worker got there first), the quote is looked at again and that is *Done* too;
- anything else (SENT, DECLINED, DELETED, or gone): *Failed* with the reason, on the order and its timeline.

Xero down, rate-limited or the token not refreshable: the order stays *Pending* with the error, and
``retry_pending`` (every minute, with backoff, like invoice pushes) sends it again. An order that is no longer
fully invoiced when the job runs (an invoice voided meanwhile) is left as it was, and its state cleared, so that
invoicing it fully again sets the quote then. No lock is held while Xero is called.
"""

import uuid

import frappe
import requests
from frappe import _
from frappe.utils import now_datetime

from xero_sales_orders.core.money import to_decimal
from xero_sales_orders.core.order_status import FULLY_INVOICED
from xero_sales_orders.core.quote_orders import ACCEPTED, INVOICED
from xero_sales_orders.exceptions import OrderStateError, throw
from xero_sales_orders.services.xero_clients import client_for
from xero_sales_orders.xero.errors import (
	XeroAPIError,
	XeroNotFoundError,
	XeroRateLimitError,
	XeroUnavailableError,
	XeroValidationError,
)

ORDER = "Xero Sales Order"
PENDING, DONE, FAILED = "Pending", "Done", "Failed"
JOB = "xero_sales_orders.services.quote_invoicing.set_quote_invoiced"
MAX_ATTEMPTS = 25
RETRY_BACKOFF_SECONDS = (0, 30, 60, 120, 300, 600, 1800)
# As short as an invoice push's: a job does not keep a worker long when Xero is slow; the retry picks it up.
QUOTE_TIMEOUT = (5, 20)
TRANSIENT = (XeroRateLimitError, XeroUnavailableError, requests.RequestException, OSError)
FIELDS = (
	"name",
	"status",
	"connection",
	"tenant_id",
	"xero_quote_id",
	"xero_quote_number",
	"quote_invoiced",
	"quote_attempts",
	"quote_attempted_at",
)


def note_order_status(order) -> None:
	"""Called where the order's status is derived, inside the order's transaction: a Fully Invoiced order made
	from a quote whose INVOICED state is not Pending or Done yet is marked Pending, and the job is queued after
	the commit (so it sees the order as committed)."""
	if not order.get("xero_quote_id") or order.status != FULLY_INVOICED:
		return
	if order.get("quote_invoiced") in (PENDING, DONE):
		return
	order.quote_invoiced = PENDING
	frappe.db.set_value(
		ORDER, order.name, {"quote_invoiced": PENDING, "quote_error": None}, update_modified=False
	)
	enqueue(order.name)


def enqueue(sales_order: str) -> None:
	frappe.enqueue(
		JOB,
		queue="short",
		job_id=f"xero-quote-invoiced::{frappe.local.site}::{sales_order}",
		deduplicate=True,
		enqueue_after_commit=True,
		sales_order=sales_order,
	)


def _fully_invoiced(sales_order: str) -> bool:
	"""Every line invoiced (the order may be Closed since: it still was fully invoiced)."""
	rows = frappe.get_all(
		"Xero Sales Order Item", {"parent": sales_order, "parenttype": ORDER}, ["qty", "invoiced_qty"]
	)
	return bool(rows) and all(to_decimal(r.invoiced_qty) >= to_decimal(r.qty) for r in rows)


def _record(sales_order: str, values: dict, comment: str | None = None) -> None:
	frappe.db.set_value(ORDER, sales_order, values, update_modified=False)
	if comment:
		frappe.get_doc(ORDER, sales_order).add_comment("Info", comment)
	frappe.db.commit()


def set_quote_invoiced(sales_order: str) -> str | None:
	"""The job: sets the order's quote to INVOICED in Xero if it is not; returns the order's state after it."""
	frappe.db.commit()
	row = frappe.db.get_value(ORDER, sales_order, FIELDS, as_dict=True)
	if not row or not row.xero_quote_id or row.quote_invoiced != PENDING:
		return row.quote_invoiced if row else None
	if not _fully_invoiced(sales_order):
		_record(sales_order, {"quote_invoiced": None, "quote_error": None})
		return None
	attempts = (row.quote_attempts or 0) + 1
	_record(sales_order, {"quote_attempts": attempts, "quote_attempted_at": now_datetime()})
	number = row.xero_quote_number or row.xero_quote_id
	try:
		client = client_for(row.connection, row.tenant_id, max_retries=2, timeout=QUOTE_TIMEOUT)
	except frappe.ValidationError as e:  # the connection needs reconnecting, or has no such organisation
		frappe.clear_last_message()
		return _pending(sales_order, str(e))
	try:
		status = _invoice_quote(client, row.xero_quote_id, f"{sales_order}:{row.xero_quote_id}:{attempts}")
	except XeroNotFoundError:
		return _failed(
			sales_order, _("Xero has no quote {0} any more: it was not set to INVOICED").format(number)
		)
	except TRANSIENT as e:
		return _pending(sales_order, _describe(e))
	except XeroAPIError as e:
		if e.status is None or e.status >= 500:
			return _pending(sales_order, _describe(e))
		return _failed(sales_order, _("Xero refused to set quote {0} to INVOICED: {1}").format(number, e))
	except frappe.ValidationError as e:  # the token could not be refreshed now: try again later
		frappe.clear_last_message()
		return _pending(sales_order, str(e))
	finally:
		client.close()
	if status != INVOICED:
		return _failed(
			sales_order,
			_("Quote {0} is {1} in Xero, not ACCEPTED: it was not set to INVOICED").format(number, status),
			status,
		)
	_record(
		sales_order,
		{"quote_invoiced": DONE, "xero_quote_status": INVOICED, "quote_error": None},
		_("Xero quote {0} set to INVOICED: the order is fully invoiced").format(number),
	)
	return DONE


def _invoice_quote(client, quote_id: str, key_seed: str) -> str:
	"""The quote's status in Xero after asking for INVOICED: looked at first, changed only if ACCEPTED."""
	current = client.quote(quote_id)
	if current.get("Status") != ACCEPTED:
		return current.get("Status")
	key = uuid.uuid5(uuid.NAMESPACE_OID, key_seed).hex  # one per attempt; its retries share it
	try:
		return client.set_quote_status(current, INVOICED, idempotency_key=key).get("Status")
	except XeroValidationError:
		# Refused: if because another worker (or someone in Xero) invoiced it meanwhile, that is what we wanted.
		if client.quote(quote_id).get("Status") == INVOICED:
			return INVOICED
		raise


def _pending(sales_order: str, message: str) -> str:
	frappe.db.rollback()
	_record(sales_order, {"quote_error": message[:1000]})
	return PENDING


def _failed(sales_order: str, message: str, status: str | None = None) -> str:
	frappe.db.rollback()
	values = {"quote_invoiced": FAILED, "quote_error": message[:1000]}
	if status:
		values["xero_quote_status"] = status
	_record(sales_order, values, message)
	return FAILED


def _describe(error: Exception) -> str:
	if isinstance(error, XeroRateLimitError) and error.retry_after:
		return _("Xero's {0} call limit was reached; retrying after {1} s").format(
			error.problem or "rate", int(error.retry_after)
		)
	return str(error) or error.__class__.__name__


def retry_pending() -> dict:
	"""Scheduled every minute: Pending quotes whose backoff has passed are sent again (also those whose job was
	lost). Returns each order's state after the attempt."""
	rows = frappe.get_all(
		ORDER,
		{"quote_invoiced": PENDING, "quote_attempts": ["<", MAX_ATTEMPTS]},
		["name", "quote_attempts", "quote_attempted_at"],
		order_by="quote_attempted_at asc",
		limit=200,
	)
	now = now_datetime()
	due = [
		r.name
		for r in rows
		if not r.quote_attempted_at
		or (now - r.quote_attempted_at).total_seconds()
		>= RETRY_BACKOFF_SECONDS[min(r.quote_attempts or 0, len(RETRY_BACKOFF_SECONDS) - 1)]
	]
	return {name: set_quote_invoiced(name) for name in due}


def retry(sales_order: str) -> str | None:
	"""Sets a Failed (or Pending) quote to INVOICED again now, e.g. after it was accepted again in Xero."""
	row = frappe.db.get_value(ORDER, sales_order, FIELDS, as_dict=True)
	if not row.xero_quote_id:
		throw(_("{0} was not made from a Xero quote").format(sales_order), OrderStateError)
	if row.quote_invoiced == DONE:
		throw(_("Quote {0} is INVOICED in Xero already").format(row.xero_quote_number), OrderStateError)
	if not _fully_invoiced(sales_order):
		throw(
			_("{0} is not fully invoiced: its quote is set to INVOICED when it is").format(sales_order),
			OrderStateError,
		)
	frappe.db.set_value(
		ORDER, sales_order, {"quote_invoiced": PENDING, "quote_attempts": 0}, update_modified=False
	)
	frappe.db.commit()
	return set_quote_invoiced(sales_order)
