"""Pushing invoices to Xero so that none is lost and none is doubled.

- The local Xero Invoice is committed before anything is sent: if Xero is down it stays Pending.
- Every send carries the invoice's Idempotency-Key, so an immediate retry is replayed by Xero.
- Xero forgets keys after minutes, so a retry after that first looks the invoice up by the invoice
  number the app assigned, and only sends (with a new key) when Xero does not have it.
- Pushers of one order serialise on the order's row lock (the same lock invoicing takes, in the same
  order: order first, then its invoices), so a user, a worker and the scheduler never send twice.
"""

import uuid
from collections import defaultdict
from datetime import timedelta, timezone

import frappe
import requests
from frappe import _
from frappe.utils import add_days, getdate, now_datetime

from xero_sales_orders.core.invoicing import xero_line_terms
from xero_sales_orders.core.money import round_money, round_qty, to_decimal
from xero_sales_orders.services import connection as connections
from xero_sales_orders.services.invoicing import INVOICE, ORDER, refresh_order_invoicing
from xero_sales_orders.xero.client import XeroAPIError, XeroRateLimitError, XeroUnavailableError
from xero_sales_orders.xero.errors import element_errors
from xero_sales_orders.xero.parsing import parse_xero_date

# Xero keeps an idempotency key for about 6 minutes; past this, look the invoice up before re-sending.
IDEMPOTENCY_WINDOW = timedelta(minutes=5)
MAX_ATTEMPTS = 25
# Short enough that a user waiting on Create Invoice is not kept long when Xero is slow; the retry job
# (with the same idempotency key) picks it up.
PUSH_TIMEOUT = (5, 20)
RETRY_BACKOFF_SECONDS = (0, 30, 60, 120, 300, 600, 1800)
TRANSIENT = (XeroRateLimitError, XeroUnavailableError, requests.RequestException, OSError)


def push_invoices(names: list[str]) -> dict[str, str]:
	"""Pushes the given Pending invoices; returns each one's push state afterwards."""
	rows = frappe.get_all(
		INVOICE,
		filters={"name": ["in", names]},
		fields=["name", "sales_order", "connection", "tenant_id"],
	)
	groups = defaultdict(list)
	for row in rows:
		if row.connection and row.tenant_id:
			groups[(row.connection, row.tenant_id)].append(row)
	for (connection, tenant_id), group in groups.items():
		_push_group(connection, tenant_id, group)
	return dict(
		frappe.get_all(INVOICE, filters={"name": ["in", names]}, fields=["name", "push_state"], as_list=True)
	)


def _claim(group) -> list:
	"""Locks the orders (sorted, so pushers never deadlock) and returns the invoices still Pending."""
	for order in sorted({row.sales_order for row in group}):
		frappe.db.sql("select name from `tabXero Sales Order` where name = %s for update", order)
	names = [row.name for row in group]
	pending = frappe.db.sql(
		"select name from `tabXero Invoice` where name in %s and push_state = 'Pending' for update",
		[names],
	)
	return [frappe.get_doc(INVOICE, name) for (name,) in pending]


def _push_group(connection: str, tenant_id: str, group) -> None:
	touched_orders = set()
	_send_group(connection, tenant_id, group, touched_orders)
	# Each order's invoiced figures are derived once, however many of its invoices went out.
	for order in sorted(touched_orders):
		refresh_order_invoicing(order)


def _send_group(connection: str, tenant_id: str, group, touched_orders: set) -> None:
	invoices = _claim(group)
	if not invoices:
		return
	try:
		client = connections.client_for(connection, tenant_id, max_retries=2, timeout=PUSH_TIMEOUT)
	except frappe.ValidationError as e:
		for invoice in invoices:
			_attempt_failed(invoice, str(e), transient=True)
		return
	try:
		tenant = _tenant_settings(connection, tenant_id)
		stale = [inv for inv in invoices if inv.push_attempts and _outside_window(inv)]
		if stale:
			found = {
				x.get("InvoiceNumber"): x
				for x in client.invoices(numbers=[inv.invoice_number for inv in stale])
			}
			for inv in stale:
				if inv.invoice_number in found:
					_pushed(inv, found[inv.invoice_number], tenant, client if len(invoices) == 1 else None)
					touched_orders.add(inv.sales_order)
				else:
					inv.idempotency_key = (
						uuid.uuid4().hex
					)  # the old key may be forgotten, or hold a cached error
			invoices = [inv for inv in invoices if inv.push_state == "Pending"]
		if not invoices:
			return
		payloads = [_payload(inv, tenant) for inv in invoices]
		key = invoices[0].idempotency_key if len(invoices) == 1 else _batch_key(invoices)
		elements = client.create_invoices(payloads, idempotency_key=key)
		by_number = {e.get("InvoiceNumber"): e for e in elements}
		for inv in invoices:
			element = by_number.get(inv.invoice_number)
			errors = element_errors(element) if element else [_("Xero returned no answer for this invoice")]
			if element and not errors and element.get("InvoiceID"):
				_pushed(inv, element, tenant, client if len(invoices) == 1 else None)
				touched_orders.add(inv.sales_order)
			else:
				_attempt_failed(inv, " ".join(errors), transient=False)
	except TRANSIENT as e:
		for inv in invoices:
			if inv.push_state == "Pending":
				_attempt_failed(inv, _describe(e), transient=True)
	except XeroAPIError as e:
		for inv in invoices:
			if inv.push_state == "Pending":
				_attempt_failed(inv, _describe(e), transient=e.status is None or e.status >= 500)
	finally:
		client.close()


def _describe(error: Exception) -> str:
	if isinstance(error, XeroRateLimitError) and error.retry_after:
		return _("Xero's {0} call limit was reached; retrying after {1} s").format(
			error.problem or "rate", int(error.retry_after)
		)
	return str(error) or error.__class__.__name__


def _batch_key(invoices) -> str:
	# A retry of the same batch sends the same key; any other batch gets another one.
	return uuid.uuid5(uuid.NAMESPACE_OID, ",".join(sorted(inv.idempotency_key for inv in invoices))).hex


def _outside_window(invoice) -> bool:
	return not invoice.last_attempt_at or now_datetime() - invoice.last_attempt_at > IDEMPOTENCY_WINDOW


def _tenant_settings(connection: str, tenant_id: str):
	return frappe.db.get_value(
		"Xero Connection Tenant",
		{"parent": connection, "parenttype": connections.CONNECTION, "tenant_id": tenant_id},
		["invoice_status", "due_days", "branding_theme_id", "short_code"],
		as_dict=True,
	) or frappe._dict(invoice_status="DRAFT", due_days=30)


def _payload(invoice, tenant) -> dict:
	contact_id = frappe.db.get_value("Xero Contact", invoice.customer, "contact_id") or invoice.customer
	invoice_date = getdate(invoice.invoice_date)
	due_date = (
		getdate(invoice.due_date)
		if invoice.due_date
		else getdate(add_days(invoice_date, tenant.due_days or 30))
	)
	lines = []
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
		lines.append(line)
	payload = {
		"Type": "ACCREC",
		"Contact": {"ContactID": contact_id},
		"InvoiceNumber": invoice.invoice_number,
		"Reference": invoice.reference,
		"Date": invoice_date.isoformat(),
		"DueDate": due_date.isoformat(),
		"Status": tenant.invoice_status or "DRAFT",
		"LineAmountTypes": invoice.line_amount_type or "Exclusive",
		"CurrencyCode": invoice.currency,
		"LineItems": lines,
	}
	if tenant.branding_theme_id:
		payload["BrandingThemeID"] = tenant.branding_theme_id
	return payload


def _record(invoice, values: dict) -> None:
	"""Writes push results straight to the row: db_set would reload the whole invoice for each one."""
	invoice.update(values)
	frappe.db.set_value(INVOICE, invoice.name, values, update_modified=False)


def _attempt_failed(invoice, message: str, transient: bool) -> None:
	_record(
		invoice,
		{
			"push_state": "Pending" if transient else "Failed",
			"push_attempts": (invoice.push_attempts or 0) + 1,
			"last_attempt_at": now_datetime(),
			"last_error": message[:1000],
			"idempotency_key": invoice.idempotency_key,
		},
	)
	if not transient:
		frappe.get_doc(ORDER, invoice.sales_order).add_comment(
			"Info", _("Xero refused invoice {0}: {1}").format(invoice.name, message)
		)


def _pushed(invoice, element: dict, tenant, client=None) -> None:
	"""Records Xero's answer (the caller refreshes the order). With a client (a single, interactive push)
	it also fetches the online invoice link, which costs a call per invoice, so batches leave it to be
	fetched on demand."""
	url = None
	if client and element.get("Status") not in ("DRAFT", "SUBMITTED", "VOIDED", "DELETED"):
		try:
			url = client.online_invoice_url(element["InvoiceID"])
		except XeroAPIError:
			url = None  # a missing customer link must not turn a stored invoice into a failure
	short_code = tenant.short_code
	_record(
		invoice,
		{
			"push_state": "Pushed",
			"push_attempts": (invoice.push_attempts or 0) + 1,
			"last_attempt_at": now_datetime(),
			"last_error": None,
			"online_url": url,
			"xero_url": f"https://go.xero.com/app/{short_code}/invoicing/view/{element['InvoiceID']}"
			if short_code
			else None,
			**_xero_figures(element),
		},
	)


def _xero_figures(element: dict) -> dict:
	updated = parse_xero_date(element.get("UpdatedDateUTC"))
	return {
		"xero_invoice_id": element["InvoiceID"],
		"status": element.get("Status") or "DRAFT",
		"amount_due": to_decimal(element.get("AmountDue")),
		"amount_paid": to_decimal(element.get("AmountPaid")),
		"amount_credited": to_decimal(element.get("AmountCredited")),
		"xero_updated_at": updated.replace(tzinfo=None) if updated else None,
	}


def apply_xero_invoice(
	element: dict, connection: str, tenant_id: str, refresh_order: bool = True
) -> str | None:
	"""Applies Xero's current state of an invoice to the local one, if it is ours and newer.

	Returns the local invoice's name, or None when the invoice was not raised by this app. A caller
	applying many invoices passes ``refresh_order=False`` and refreshes each order once afterwards.
	"""
	name = frappe.db.get_value(INVOICE, {"xero_invoice_id": element.get("InvoiceID")}) or frappe.db.get_value(
		INVOICE,
		{
			"invoice_number": element.get("InvoiceNumber") or "",
			"connection": connection,
			"tenant_id": tenant_id,
		},
	)
	if not name:
		return None
	order = frappe.db.get_value(INVOICE, name, "sales_order")
	frappe.db.sql("select name from `tabXero Sales Order` where name = %s for update", order)
	invoice = frappe.get_doc(INVOICE, name, for_update=True)
	figures = _xero_figures(element)
	if (
		invoice.xero_updated_at
		and figures["xero_updated_at"]
		and figures["xero_updated_at"] <= invoice.xero_updated_at
	):
		return name  # an older or repeated event: what we hold is as new
	_record(invoice, {**figures, "push_state": "Pushed"})
	if refresh_order:
		refresh_order_invoicing(order)  # a void returns quantities; a payment changes the order's paid figure
	return name


def retry_pending(connection: str | None = None) -> dict:
	"""Scheduled: pushes Pending invoices whose backoff has passed, in batches per organisation."""
	candidates = frappe.get_all(
		INVOICE,
		filters={
			"push_state": "Pending",
			"connection": connection or ["is", "set"],
			"push_attempts": ["<", MAX_ATTEMPTS],
		},
		fields=["name", "push_attempts", "last_attempt_at"],
		order_by="creation asc",
		limit=500,
	)
	now = now_datetime()
	due = [
		c.name
		for c in candidates
		if not c.last_attempt_at
		or (now - c.last_attempt_at).total_seconds()
		>= RETRY_BACKOFF_SECONDS[min(c.push_attempts, len(RETRY_BACKOFF_SECONDS) - 1)]
	]
	states = push_invoices(due) if due else {}
	frappe.db.commit()
	return states


def reconcile(connection: str | None = None) -> dict:
	"""Scheduled: applies every ACCREC invoice changed in Xero since the last run (If-Modified-Since),
	catching whatever a lost webhook missed. One unreachable organisation costs one short try, not the
	others' turn."""
	from xero_sales_orders.services.sync import OVERLAP

	applied = {}
	tenants = frappe.get_all(
		"Xero Connection Tenant",
		filters={"parenttype": connections.CONNECTION},
		fields=["name", "parent", "tenant_id", "invoices_reconciled_at"],
	)
	filters = {"status": "Connected", **({"name": connection} if connection else {})}
	connected = set(frappe.get_all(connections.CONNECTION, filters, pluck="name"))
	for tenant in tenants:
		if tenant.parent not in connected:
			continue
		started = connections.utc_now_naive()
		since = tenant.invoices_reconciled_at
		client = connections.client_for(tenant.parent, tenant.tenant_id, max_retries=1)
		try:
			count = 0
			for element in client.invoices(
				where='Type=="ACCREC"',
				modified_since=(since.replace(tzinfo=timezone.utc) - OVERLAP) if since else None,
			):
				count += apply_xero_invoice(element, tenant.parent, tenant.tenant_id) is not None
			frappe.db.set_value("Xero Connection Tenant", tenant.name, "invoices_reconciled_at", started)
			frappe.db.commit()
			applied[tenant.tenant_id] = count
		except (XeroAPIError, *TRANSIENT, frappe.ValidationError):
			frappe.db.rollback()
			frappe.log_error(title=f"Xero reconciliation failed for {tenant.parent} / {tenant.tenant_id}")
		finally:
			client.close()
	return applied
