"""Fetching a batch's invoices from Xero: the where clause, one page at a time from a stored cursor, the
compact form the batch keeps them in, that form read back as the grouping rules' ``SourceInvoice``, and what
a failed fetch answers.

The fetch asks for ACCREC invoices with their lines in pages of 1,000 in UpdatedDateUTC order, each page
from the last one's second on (``xero.paging``), so 10,000 invoices cost 10 or 11 calls.
"""

from decimal import Decimal

import frappe
from frappe import _
from frappe.utils import getdate

from xero_sales_orders.core.import_grouping import SourceInvoice, SourceLine
from xero_sales_orders.core.tracking import line_option_ids
from xero_sales_orders.exceptions import (
	ImportFetchError,
	ImportRateLimitedError,
	ImportReconnectError,
	ImportRefusedError,
	ImportXeroUnreachableError,
	NeedsReconnectError,
	NotConnectedError,
	XeroRateLimitedError,
	XeroReconnectError,
	XeroRefusedError,
	XeroUnreachableError,
	answer_for,
	keep_retry_after,
	throw,
)
from xero_sales_orders.services.import_settings import contact_ids
from xero_sales_orders.services.xero_clients import shared_rate_limiter
from xero_sales_orders.services.xero_endpoints import CONNECTION, endpoints
from xero_sales_orders.services.xero_tokens import ensure_usable
from xero_sales_orders.xero.client import XeroClient
from xero_sales_orders.xero.paging import ORDER, Cursor, next_cursor
from xero_sales_orders.xero.parsing import parse_xero_date

# Invoices per call: Xero sends an invoice's lines only when the list is paged, at most 1,000 a page.
PAGE_SIZE = 1000
# What a failed fetch answers, by the Xero condition behind it (exceptions.answer_for).
FETCH_FAILURES = {
	XeroRateLimitedError: ImportRateLimitedError,
	XeroUnreachableError: ImportXeroUnreachableError,
	XeroReconnectError: ImportReconnectError,
	XeroRefusedError: ImportRefusedError,
}


def fetch_failure(error: Exception) -> type[ImportFetchError]:
	"""The answer to a fetch that ``error`` stopped; its Retry-After is kept for the response."""
	if isinstance(error, NeedsReconnectError | NotConnectedError):
		return ImportReconnectError
	if isinstance(error, XeroUnreachableError):  # the token refresh found Xero's identity server down
		return ImportXeroUnreachableError
	answer = answer_for(error)
	if answer is None:
		return ImportFetchError
	keep_retry_after(answer[2])
	return FETCH_FAILURES[answer[0]]


def where_clause(batch) -> str:
	start, end = getdate(batch.from_date), getdate(batch.to_date)
	clauses = [
		'Type=="ACCREC"',
		f"Date>=DateTime({start.year},{start.month:02d},{start.day:02d})",
		f"Date<=DateTime({end.year},{end.month:02d},{end.day:02d})",
	]
	ids = contact_ids(batch)
	if ids:
		clauses.append("(" + " OR ".join(f'Contact.ContactID==Guid("{i}")' for i in ids) + ")")
	return " AND ".join(clauses)


def _text(value) -> str:
	return str(value) if value is not None else ""


def _day(value) -> str:
	parsed = parse_xero_date(value) if isinstance(value, str) else value
	return parsed.date().isoformat() if hasattr(parsed, "date") else _text(parsed)


def compact_invoice(raw: dict) -> dict:
	"""The fields of a Xero invoice the import uses, JSON-ready (decimals as strings)."""
	contact = raw.get("Contact") or {}
	return {
		"id": raw["InvoiceID"],
		"number": raw.get("InvoiceNumber") or raw["InvoiceID"],
		"reference": raw.get("Reference") or "",
		"contact_id": contact.get("ContactID") or "",
		"contact": contact.get("Name") or "",
		"currency": raw.get("CurrencyCode") or "",
		"amount_type": raw.get("LineAmountTypes") or "Exclusive",
		"status": raw.get("Status") or "DRAFT",
		"date": _day(raw.get("Date")),
		"due_date": _day(raw.get("DueDate")) if raw.get("DueDate") else None,
		"updated": _text(raw.get("UpdatedDateUTC")),
		"subtotal": _text(raw.get("SubTotal") or 0),
		"tax": _text(raw.get("TotalTax") or 0),
		"discount": _text(raw.get("TotalDiscount") or 0),
		"total": _text(raw.get("Total") or 0),
		"paid": _text(raw.get("AmountPaid") or 0),
		"credited": _text(raw.get("AmountCredited") or 0),
		"due": _text(raw.get("AmountDue") or 0),
		"rate": _text(raw.get("CurrencyRate") or ""),  # Xero's CurrencyRate (foreign units per base unit)
		"lines": [
			[
				line.get("ItemCode") or "",
				line.get("Description") or "",
				_text(line.get("Quantity") or 0),
				_text(line.get("UnitAmount") or 0),
				_text(line.get("DiscountRate") or 0),
				line.get("TaxType") or "",
				line.get("AccountCode") or "",
				_text(line.get("LineAmount") or 0),
				_text(line.get("TaxAmount") or 0),
				_text(line.get("DiscountAmount") or 0),
				list(line_option_ids(line.get("Tracking"))),  # the line's TrackingOptionIDs
			]
			for line in raw.get("LineItems") or []
		],
	}


def line_values(values: list) -> list:
	"""A compact line's eleven values (lines stored before DiscountAmount or the tracking was kept have nine
	or ten)."""
	values = [*values, "0"] if len(values) == 9 else list(values)
	return [*values, []] if len(values) == 10 else values


def _header(compact: dict) -> dict:
	"""The grouping rules' invoice fields of a compact invoice, other than its lines."""
	return {
		"raw": compact,
		"invoice_id": compact["id"],
		"number": compact["number"],
		"reference": compact["reference"],
		"contact_id": compact["contact_id"],
		"contact_name": compact["contact"],
		"currency": compact["currency"],
		"line_amount_type": compact["amount_type"],
		"status": compact["status"],
		"date": compact["date"],
		"total": Decimal(compact["total"]),
		"subtotal": Decimal(compact["subtotal"]),
		"total_tax": Decimal(compact["tax"]),
	}


def source_invoice(compact: dict) -> SourceInvoice:
	"""The grouping rules' invoice, carrying the compact form (``raw``) for the writer."""
	return SourceInvoice(
		**_header(compact),
		lines=tuple(
			SourceLine(
				item_code=code,
				description=description,
				qty=Decimal(qty),
				unit_price=Decimal(price),
				discount_rate=Decimal(discount),
				tax_type=tax_type,
				account_code=account,
				line_amount=Decimal(amount),
				tax_amount=Decimal(tax),
				discount_amount=Decimal(discount_amount),
				tracking=tuple(tracking),
			)
			for code, description, qty, price, discount, tax_type, account, amount, tax, discount_amount, tracking in (
				line_values(values) for values in compact["lines"]
			)
		),
	)


def source_header(compact: dict) -> SourceInvoice:
	"""``source_invoice`` without the lines, for a group whose kept plan holds its order's lines (the writer
	reads the invoice lines from ``raw``)."""
	return SourceInvoice(**_header(compact), lines=())


def fetch_page(client, statuses: list[str], where: str, cursor: Cursor) -> tuple[list[dict], dict, Cursor]:
	"""One page of invoices at ``cursor``: Xero's invoices as they came (``compact_invoice`` makes the form
	the batch keeps), Xero's pagination and the cursor of the next page. Touches nothing of Frappe (the
	preview calls it from its fetching thread, which asks for the next page while the page is compacted)."""
	records, pagination = client.invoice_page(
		cursor.page,
		statuses=statuses,
		where=where,
		order=ORDER,
		modified_since=cursor.since,
		page_size=PAGE_SIZE,
	)
	updated = [parse_xero_date(raw["UpdatedDateUTC"]) for raw in records]
	return records, pagination, next_cursor(cursor, updated, pagination, PAGE_SIZE)


class TokenRejected(Exception):
	"""Xero refused the fetching thread's access token: the preview refreshes it and goes on."""


def thread_client(batch, token: str, figures: dict) -> XeroClient:
	"""A client of the batch's organisation for a thread that may not touch Frappe: the access token is the one
	given (a 401 raises ``TokenRejected`` instead of refreshing it), the shared rate limiter is made here, and
	Xero's rate figures go to ``figures`` for the caller to keep."""
	conn = frappe.get_doc(CONNECTION, batch.connection)
	ensure_usable(batch.connection, conn.status)
	if batch.tenant_id not in {t.tenant_id for t in conn.tenants}:
		throw(
			_("Organisation {0} is not part of Xero Connection {1}").format(
				batch.tenant_id, batch.connection
			),
			frappe.ValidationError,
		)

	def access_token(force_refresh: bool) -> str:
		if force_refresh:
			raise TokenRejected(token)
		return token

	return XeroClient(
		endpoints(conn),
		batch.tenant_id,
		access_token,
		rate_limiter=shared_rate_limiter(),
		on_rate_figures=figures.update,
	)
