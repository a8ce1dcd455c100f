"""REST calls to Xero's accounting API for one tenant: auth, retries, rate limits, Decimal JSON, paging."""

import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from datetime import date, datetime
from urllib.parse import quote

import requests

from .errors import (
	XeroAPIError,
	XeroAuthError,
	XeroNotFoundError,
	XeroRateLimitError,
	XeroUnavailableError,
	XeroValidationError,
	describe_error_body,
	element_errors,
	resource_label,
)
from .oauth import Endpoints
from .parsing import dumps, format_if_modified_since, loads, parse_xero_date
from .ratelimit import RateLimiter, rate_figures, retry_after_seconds

__all__ = [
	"XeroAPIError",
	"XeroAuthError",
	"XeroClient",
	"XeroNotFoundError",
	"XeroRateLimitError",
	"XeroUnavailableError",
	"XeroValidationError",
	"element_errors",
]

PAGE_SIZE = 1000  # Xero's maximum since July 2024
IDS_PER_REQUEST = 50  # longer ID lists overflow Xero's query string and come back as 404
INVOICES_PER_BATCH = 50
QUOTES_PER_PAGE = 100  # GET /Quotes: a fixed page; the spec has no pageSize for quotes
# quotes()/quote_page() filters -> GET /Quotes query parameters
QUOTE_FILTERS = {
	"status": "Status",
	"contact_id": "ContactID",
	"date_from": "DateFrom",
	"date_to": "DateTo",
	"expiry_from": "ExpiryDateFrom",
	"expiry_to": "ExpiryDateTo",
	"number": "QuoteNumber",
	"order": "order",
}
MAX_IDEMPOTENCY_KEY = 128
MAX_HISTORY_DETAILS = 250  # Xero's limit on a history note (facts §11)
# Credit notes have no IDs list: ids or numbers OR-ed in ``where``, kept to a query string of IDs=50's length.
CREDIT_NOTES_PER_WHERE = 25
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
# Safe to repeat: a connect failure never reached Xero, and a write always carries an Idempotency-Key that
# stays the same across its retries, so a request that did arrive is answered from Xero's cache, not redone.
RETRYABLE_NETWORK_ERRORS = (
	requests.ConnectionError,
	requests.Timeout,
	requests.exceptions.ChunkedEncodingError,
)


class XeroClient:
	"""One tenant's accounting API.

	`access_token(force_refresh)` returns a valid access token; it is called with True once after a 401.
	`max_retries` bounds the retries of one call (429 minute/concurrent, 5xx, network errors); `sleep` is
	injectable so tests do not wait. A 429 whose Retry-After exceeds `max_retry_after` is raised, not slept on.
	"""

	def __init__(
		self,
		endpoints: Endpoints,
		tenant_id: str,
		access_token: Callable[[bool], str],
		rate_limiter: RateLimiter | None = None,
		timeout=(5, 30),
		max_retries: int = 5,
		sleep: Callable[[float], None] = time.sleep,
		on_rate_figures: Callable[[dict], None] | None = None,
		backoff_base: float = 1.0,
		backoff_cap: float = 64.0,
		max_retry_after: float = 120.0,
		session: requests.Session | None = None,
		call_budget: float | None = None,
	):
		self.endpoints = endpoints
		self.tenant_id = tenant_id
		self.rate_limiter = rate_limiter
		self.timeout = timeout
		self.max_retries = max_retries
		self.backoff_base = backoff_base
		self.backoff_cap = backoff_cap
		self.max_retry_after = max_retry_after
		# The most seconds one call may spend waiting for the rate limiter and between its retries (a call made
		# inside a user's request must answer before a proxy gives up on it); past it the last error is raised.
		self.call_budget = call_budget
		self._access_token = access_token
		self._sleep = sleep
		self._on_rate_figures = on_rate_figures
		self.session = session or requests.Session()
		self.session.headers.update(
			{"xero-tenant-id": tenant_id, "Accept": "application/json", "User-Agent": "xero_sales_orders"}
		)

	def close(self) -> None:
		self.session.close()

	def __enter__(self):
		return self

	def __exit__(self, *exc_info):
		self.close()

	# Generic calls: `path` is relative to /api.xro/2.0, e.g. "/Invoices".

	def get(self, path: str, params: dict | None = None, modified_since: datetime | date | None = None):
		return self._send("GET", path, params=params, modified_since=modified_since)

	def put(self, path: str, body, params: dict | None = None, idempotency_key: str | None = None):
		return self._send("PUT", path, params=params, body=body, idempotency_key=idempotency_key)

	def post(self, path: str, body, params: dict | None = None, idempotency_key: str | None = None):
		return self._send("POST", path, params=params, body=body, idempotency_key=idempotency_key)

	# Resources

	def contacts(self, modified_since=None, include_archived: bool = False) -> Iterator[dict]:
		"""Contacts in pages of 1000. A sync that must notice archiving passes include_archived=True."""
		params = {"includeArchived": "true"} if include_archived else {}
		return self._pages("/Contacts", "Contacts", params, modified_since, PAGE_SIZE)

	def create_contact(self, contact: dict, idempotency_key: str | None = None) -> dict:
		"""PUT one new contact with summarizeErrors=false: the element comes back with its ContactID, or with
		its ``ValidationErrors`` (see ``element_errors``: a name or account number Xero already holds)."""
		answer = self.put(
			"/Contacts",
			{"Contacts": [contact]},
			params={"summarizeErrors": "false"},
			idempotency_key=idempotency_key,
		)
		return (answer.get("Contacts") or [{}])[0]

	def find_contacts(self, name: str | None = None, account_number: str | None = None) -> list[dict]:
		"""The contacts (archived ones too) whose Name or AccountNumber is exactly this, in one call."""
		clauses = [
			f"{field}=={where_string(value)}"
			for field, value in (("Name", name), ("AccountNumber", account_number))
			if value
		]
		if not clauses:
			return []
		params = {"where": " OR ".join(clauses), "includeArchived": "true"}
		return self.get("/Contacts", params).get("Contacts", [])

	def items(self, modified_since=None) -> list[dict]:
		return self.get("/Items", {"unitdp": 4}, modified_since).get("Items", [])

	def tax_rates(self) -> list[dict]:
		return self.get("/TaxRates").get("TaxRates", [])

	def accounts(self, modified_since=None) -> list[dict]:
		return self.get("/Accounts", None, modified_since).get("Accounts", [])

	def tracking_categories(self, include_archived: bool = True) -> list[dict]:
		"""Tracking categories with their options, in one call (Xero has no If-Modified-Since here). With
		include_archived (the sync's choice), archived ones come too, so that archiving one reaches the local
		copy; deleted ones never come back at all."""
		params = {"includeArchived": "true"} if include_archived else None
		return self.get("/TrackingCategories", params).get("TrackingCategories", [])

	def currencies(self) -> list[dict]:
		"""The currencies enabled in the organisation (its base currency among them), in one call."""
		return self.get("/Currencies").get("Currencies", [])

	def branding_themes(self) -> list[dict]:
		"""The organisation's branding themes in one call; SortOrder 0 is its default. A deleted theme is
		simply absent."""
		return self.get("/BrandingThemes").get("BrandingThemes", [])

	def organisation(self) -> dict:
		return self.get("/Organisation")["Organisations"][0]

	def invoices(
		self,
		ids: Iterable[str] | None = None,
		numbers: Iterable[str] | None = None,
		statuses: Iterable[str] | None = None,
		where: str | None = None,
		modified_since=None,
		page_size: int = PAGE_SIZE,
	) -> Iterator[dict]:
		"""Invoices with their lines (always paged: Xero returns lines only with `page`).

		`ids` and `numbers` are each chunked by 50 and the results united; an empty list means no invoices.
		"""
		params = {"unitdp": 4}
		if statuses:
			params["Statuses"] = ",".join(statuses)
		if where:
			params["where"] = where
		if ids is None and numbers is None:
			yield from self._pages("/Invoices", "Invoices", params, modified_since, page_size)
			return
		seen = set()
		for name, values in (("IDs", ids), ("InvoiceNumbers", numbers)):
			unique = list(dict.fromkeys(values or []))
			for start in range(0, len(unique), IDS_PER_REQUEST):
				chunk = {**params, name: ",".join(unique[start : start + IDS_PER_REQUEST])}
				for invoice in self._pages("/Invoices", "Invoices", chunk, modified_since, page_size):
					if invoice.get("InvoiceID") not in seen:
						seen.add(invoice.get("InvoiceID"))
						yield invoice

	def invoice_page(
		self,
		page: int,
		statuses: Iterable[str] | None = None,
		where: str | None = None,
		order: str | None = None,
		modified_since=None,
		page_size: int = PAGE_SIZE,
	) -> tuple[list[dict], dict]:
		"""One page of invoices with their lines, and Xero's `pagination` (`page`, `pageSize`, `pageCount`,
		`itemCount`; empty if Xero sent none), for a caller that stores each page before it asks the next."""
		params = {"unitdp": 4, "page": page, "pageSize": page_size}
		if statuses:
			params["Statuses"] = ",".join(statuses)
		if where:
			params["where"] = where
		if order:
			params["order"] = order
		answer = self.get("/Invoices", params, modified_since)
		return answer.get("Invoices") or [], answer.get("pagination") or {}

	def create_invoices(self, invoices: list[dict], idempotency_key: str | None = None) -> list[dict]:
		"""PUT new invoices, 50 per request, with summarizeErrors=false so every element comes back with its
		`ValidationErrors` (see `element_errors`) and the good ones with their InvoiceID.

		Batches after the first use the key suffixed `:<n>`, so a repeated call with the same key is replayed.
		"""
		key = idempotency_key or uuid.uuid4().hex
		created = []
		for number, start in enumerate(range(0, len(invoices), INVOICES_PER_BATCH)):
			body = {"Invoices": invoices[start : start + INVOICES_PER_BATCH]}
			answer = self.put(
				"/Invoices",
				body,
				params={"summarizeErrors": "false", "unitdp": 4},
				idempotency_key=key if number == 0 else f"{key}:{number}",
			)
			created += answer.get("Invoices", [])
		return created

	def update_invoice(self, invoice_id: str, fields: dict, idempotency_key: str | None = None) -> dict:
		"""POST changes to one invoice. Sent LineItems replace all lines: resend each with its LineItemID."""
		body = {"Invoices": [{**fields, "InvoiceID": invoice_id}]}
		path = f"/Invoices/{quote(invoice_id, safe='')}"
		return self.post(path, body, params={"unitdp": 4}, idempotency_key=idempotency_key)["Invoices"][0]

	def online_invoice_url(self, invoice_id: str) -> str:
		"""The customer-facing link; Xero offers it for ACCREC invoices that are not drafts."""
		answer = self.get(f"/Invoices/{quote(invoice_id, safe='')}/OnlineInvoice")
		return answer["OnlineInvoices"][0]["OnlineInvoiceUrl"]

	def approve_invoice(self, invoice_id: str, idempotency_key: str | None = None) -> dict:
		"""DRAFT or SUBMITTED -> AUTHORISED (Xero wants an account code on every line to approve)."""
		return self.update_invoice(invoice_id, {"Status": "AUTHORISED"}, idempotency_key=idempotency_key)

	def email_invoice(self, invoice_id: str, idempotency_key: str | None = None) -> None:
		"""POST /Invoices/{id}/Email with Xero's empty body: Xero emails the invoice to the contact (204). Xero
		refuses (400) an invoice that is not SUBMITTED, AUTHORISED or PAID, or a contact with no address."""
		self.post(f"/Invoices/{quote(invoice_id, safe='')}/Email", {}, idempotency_key=idempotency_key)

	def add_history(
		self, document_id: str, details: str, resource: str = "Invoices", idempotency_key: str | None = None
	) -> dict:
		"""A note on a document's History in Xero (at most 250 characters; Xero shows it by "System
		Generated"). ``resource`` is Invoices or CreditNotes."""
		if len(details) > MAX_HISTORY_DETAILS:
			raise ValueError(f"Xero keeps at most {MAX_HISTORY_DETAILS} characters in a history note")
		body = {"HistoryRecords": [{"Details": details}]}
		path = f"/{resource}/{quote(document_id, safe='')}/History"
		return (self.put(path, body, idempotency_key=idempotency_key).get("HistoryRecords") or [{}])[0]

	def history(self, document_id: str, resource: str = "Invoices") -> list[dict]:
		return self.get(f"/{resource}/{quote(document_id, safe='')}/History").get("HistoryRecords", [])

	def contact(self, contact_id: str) -> dict | None:
		"""One contact by ContactID (with its EmailAddress and ContactPersons); None when Xero has none."""
		try:
			answer = self.get(f"/Contacts/{quote(contact_id, safe='')}")
		except XeroNotFoundError:
			return None
		return (answer.get("Contacts") or [None])[0]

	# Credit notes: GET /CreditNotes takes no IDs or number lists (facts §11), so both go into ``where``.

	def credit_notes(
		self,
		ids: Iterable[str] | None = None,
		numbers: Iterable[str] | None = None,
		where: str | None = None,
		modified_since=None,
		page_size: int = PAGE_SIZE,
	) -> Iterator[dict]:
		"""Credit notes with their lines and Allocations (paged, as for invoices). ``ids`` and ``numbers`` are
		each asked for CREDIT_NOTES_PER_WHERE to a call (OR-ed in ``where``, and-ed with ``where``); an empty
		list means none."""
		params = {"unitdp": 4}
		if ids is None and numbers is None:
			if where:
				params["where"] = where
			yield from self._pages("/CreditNotes", "CreditNotes", params, modified_since, page_size)
			return
		seen = set()
		for field, values, literal in (
			("CreditNoteID", ids, lambda v: f'Guid("{_guid(v)}")'),
			("CreditNoteNumber", numbers, where_string),
		):
			unique = list(dict.fromkeys(values or []))
			for start in range(0, len(unique), CREDIT_NOTES_PER_WHERE):
				chunk = unique[start : start + CREDIT_NOTES_PER_WHERE]
				clause = " OR ".join(f"{field}=={literal(v)}" for v in chunk)
				query = {**params, "where": f"({clause}) AND ({where})" if where else clause}
				for note in self._pages("/CreditNotes", "CreditNotes", query, modified_since, page_size):
					if note.get("CreditNoteID") not in seen:
						seen.add(note.get("CreditNoteID"))
						yield note

	def create_credit_notes(self, notes: list[dict], idempotency_key: str | None = None) -> list[dict]:
		"""PUT new credit notes (50 a request) with summarizeErrors=false: every element comes back, the good
		ones with their CreditNoteID, the others with their ``ValidationErrors``."""
		key = idempotency_key or uuid.uuid4().hex
		created = []
		for number, start in enumerate(range(0, len(notes), INVOICES_PER_BATCH)):
			answer = self.put(
				"/CreditNotes",
				{"CreditNotes": notes[start : start + INVOICES_PER_BATCH]},
				params={"summarizeErrors": "false", "unitdp": 4},
				idempotency_key=key if number == 0 else f"{key}:{number}",
			)
			created += answer.get("CreditNotes", [])
		return created

	def allocate_credit_note(
		self,
		credit_note_id: str,
		invoice_id: str,
		amount,
		on: date,
		idempotency_key: str | None = None,
	) -> dict:
		"""PUT /CreditNotes/{id}/Allocations: applies ``amount`` of an AUTHORISED credit note to an invoice
		(at most its RemainingCredit and the invoice's AmountDue). Raises XeroValidationError when refused."""
		body = {
			"Allocations": [{"Invoice": {"InvoiceID": invoice_id}, "Amount": amount, "Date": on.isoformat()}]
		}
		path = f"/CreditNotes/{quote(credit_note_id, safe='')}/Allocations"
		return (self.put(path, body, idempotency_key=idempotency_key).get("Allocations") or [{}])[0]

	# Quotes: GET /Quotes pages by 100 with lines and has no pageSize (spec 16.1, facts §11).

	def quotes(
		self,
		status: str | None = None,
		contact_id: str | None = None,
		date_from: date | None = None,
		date_to: date | None = None,
		expiry_from: date | None = None,
		expiry_to: date | None = None,
		number: str | None = None,
		order: str | None = None,
		modified_since=None,
		first_page: int = 1,
	) -> Iterator[dict]:
		"""Quotes with their lines, a call per 100, from ``first_page`` on: a page of fewer is the last."""
		page = max(int(first_page), 1)
		while True:
			records = self.quote_page(
				page,
				status=status,
				contact_id=contact_id,
				date_from=date_from,
				date_to=date_to,
				expiry_from=expiry_from,
				expiry_to=expiry_to,
				number=number,
				order=order,
				modified_since=modified_since,
			)
			yield from records
			if len(records) < QUOTES_PER_PAGE:
				return
			page += 1

	def quote_page(self, page: int = 1, modified_since=None, **filters) -> list[dict]:
		"""One page (up to 100) of quotes; filters as ``quotes`` takes them (dates as dates or YYYY-MM-DD)."""
		params = {"page": max(int(page), 1)}
		for name, key in QUOTE_FILTERS.items():
			value = filters.get(name)
			if value not in (None, ""):
				params[key] = value.isoformat() if isinstance(value, date) else str(value)
		return self.get("/Quotes", params, modified_since).get("Quotes", [])

	def quote(self, quote_id: str) -> dict:
		"""One quote with its lines (XeroNotFoundError when Xero has none with that QuoteID)."""
		return self.get(f"/Quotes/{quote(quote_id, safe='')}")["Quotes"][0]

	def update_quote(self, quote_id: str, fields: dict, idempotency_key: str | None = None) -> dict:
		"""POST one quote's changes. Xero clears the header fields a POST leaves out: see quote_status_update."""
		body = {"Quotes": [{**fields, "QuoteID": quote_id}]}
		path = f"/Quotes/{quote(quote_id, safe='')}"
		return self.post(path, body, idempotency_key=idempotency_key)["Quotes"][0]

	def set_quote_status(self, current: dict, status: str, idempotency_key: str | None = None) -> dict:
		"""Moves a quote (as Xero last returned it) to ``status``, keeping everything else as it is."""
		return self.update_quote(
			current["QuoteID"], quote_status_update(current, status), idempotency_key=idempotency_key
		)

	# Plumbing

	def _pages(self, path, key, params, modified_since, page_size) -> Iterator[dict]:
		page = 1
		while True:
			answer = self.get(path, {**params, "page": page, "pageSize": page_size}, modified_since)
			records = answer.get(key) or []
			yield from records
			page_count = (answer.get("pagination") or {}).get("pageCount")
			last_page = page >= page_count if page_count is not None else len(records) < page_size
			if last_page or not records:
				return
			page += 1

	def _send(self, method, path, params=None, body=None, modified_since=None, idempotency_key=None):
		url = f"{self.endpoints.accounting_url}/{path.lstrip('/')}"
		headers = {}
		if modified_since is not None:
			headers["If-Modified-Since"] = format_if_modified_since(modified_since)
		data = None
		if method != "GET":
			# One key for all retries of this call: Xero replays its first answer instead of creating twice.
			key = idempotency_key or uuid.uuid4().hex
			if len(key) > MAX_IDEMPOTENCY_KEY:
				raise ValueError(f"Idempotency-Key longer than {MAX_IDEMPOTENCY_KEY} characters: {key!r}")
			headers["Idempotency-Key"] = key
			headers["Content-Type"] = "application/json"
			data = dumps(body).encode("utf-8")

		retries = 0
		refreshed = force_refresh = False
		deadline = None if self.call_budget is None else time.monotonic() + self.call_budget

		def out_of_budget(wait: float) -> bool:
			return deadline is not None and time.monotonic() + wait >= deadline

		while True:
			headers["Authorization"] = f"Bearer {self._access_token(force_refresh)}"
			force_refresh = False
			try:
				response = self._send_once(method, url, params, headers, data, deadline)
			except RETRYABLE_NETWORK_ERRORS as exc:
				pause = self._backoff(retries)
				if retries >= self.max_retries or out_of_budget(pause):
					raise XeroUnavailableError(
						f"Xero could not be reached after {retries + 1} attempts: {exc}", status=None
					) from exc
				self._sleep(pause)
				retries += 1
				continue

			status = response.status_code
			if status == 401 and not refreshed:
				refreshed = force_refresh = True  # once per call: a second 401 is a real refusal
				continue
			if status == 429:
				retry_after = retry_after_seconds(response.headers)
				error = self._rate_limit_error(response, path, retry_after)
				if error.problem == "day" or retries >= self.max_retries:
					raise error
				if retry_after is not None and retry_after > self.max_retry_after:
					raise error
				wait = retry_after if retry_after is not None else self._backoff(retries)
				if out_of_budget(wait):
					raise error
				self._sleep(wait + random.uniform(0, 1))
				retries += 1
				continue
			if status in RETRYABLE_STATUSES:
				pause = self._backoff(retries)
				if retries >= self.max_retries or out_of_budget(pause):
					raise self._error(response, path, XeroUnavailableError)
				self._sleep(pause)
				retries += 1
				continue
			if status == 304:
				return {}  # If-Modified-Since and nothing changed
			if status >= 400:
				raise self._error(response, path)
			return loads(response.content) if response.content else {}

	def _send_once(self, method, url, params, headers, data, deadline=None) -> requests.Response:
		limiter = self.rate_limiter
		max_wait = None
		if limiter and deadline is not None:
			max_wait = max(min(limiter.max_wait, deadline - time.monotonic()), 0.0)
		with limiter.slot(self.tenant_id, max_wait) if limiter else nullcontext():
			response = self.session.request(
				method, url, params=params, headers=headers, data=data, timeout=self.timeout
			)
		figures = (
			limiter.record_figures(self.tenant_id, response.headers)
			if limiter
			else rate_figures(response.headers)
		)
		if figures and self._on_rate_figures:
			self._on_rate_figures(figures)
		return response

	def _backoff(self, retries: int) -> float:
		# Exponential with jitter so that workers that failed together do not retry together.
		return min(self.backoff_cap, self.backoff_base * 2**retries) * random.uniform(0.5, 1.0)

	def _rate_limit_error(self, response, path, retry_after) -> XeroRateLimitError:
		problem = (response.headers.get("X-Rate-Limit-Problem") or "").strip().lower() or None
		when = f"; try again in {int(retry_after + 0.999)} s" if retry_after is not None else ""
		return XeroRateLimitError(
			f"Xero's {problem or 'rate'} limit for this organisation is reached{when}.",
			status=429,
			problem=problem,
			retry_after=retry_after,
			body=_parsed_or_text(response),
		)

	def _error(self, response, path, error_class=None) -> XeroAPIError:
		body = _parsed_or_text(response)
		message, validation_errors = describe_error_body(body, resource_label(path))
		status = response.status_code
		if error_class is None:
			error_class = {
				400: XeroValidationError,
				401: XeroAuthError,
				403: XeroAuthError,
				404: XeroNotFoundError,
			}.get(status, XeroAPIError)
		if not message or message.lstrip().startswith("<"):
			message = f"Xero answered HTTP {status} {response.reason or ''}".strip()
		return error_class(message, status=status, validation_errors=validation_errors, body=body)


def _guid(value: str) -> str:
	"""A Guid literal's text: a credit note id as Xero gives it (so nothing but hex digits and dashes)."""
	text = str(value).strip()
	if not text or any(c not in "0123456789abcdefABCDEF-" for c in text):
		raise ValueError(f"not a Xero id: {value!r}")
	return text


def where_string(value: str) -> str:
	"""A text literal of Xero's ``where`` filter: in double quotes, with quotes and backslashes escaped."""
	return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_status_update(current: dict, status: str) -> dict:
	"""The body that moves a quote to ``status`` and changes nothing else.

	Xero treats a quote POST as the whole header: Reference, Terms, Title, Summary and ExpiryDate left out are
	cleared and LineAmountTypes left out becomes EXCLUSIVE, while Contact and Date must be sent (live
	organisations, facts §11). So the header is sent back as Xero holds it, and LineItems are left out, which
	keeps them (re-posting a GET's lines on an INCLUSIVE quote would take the tax off twice).
	"""
	body = {
		"QuoteNumber": current.get("QuoteNumber"),
		"Contact": {"ContactID": (current.get("Contact") or {}).get("ContactID")},
		"Date": _quote_date(current, "Date"),
		"Status": status,
		"LineAmountTypes": current.get("LineAmountTypes") or "EXCLUSIVE",
	}
	for key in ("Reference", "Terms", "Title", "Summary", "CurrencyCode", "BrandingThemeID"):
		if current.get(key):
			body[key] = current[key]
	expiry = _quote_date(current, "ExpiryDate")
	if expiry:
		body["ExpiryDate"] = expiry
	return body


def _quote_date(current: dict, key: str) -> str | None:
	"""A quote's date as YYYY-MM-DD: from its ``<key>String`` helper, else from the MS-JSON date."""
	text = current.get(f"{key}String")
	if text:
		return str(text)[:10]
	moment = parse_xero_date(current.get(key)) if current.get(key) else None
	return moment.date().isoformat() if moment else None


def _parsed_or_text(response: requests.Response):
	try:
		return loads(response.content)
	except ValueError:
		return response.text
