"""The accounting API (``/api.xro/2.0``) of one tenant: reference data, contacts, invoices, payments."""

import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from .invoices import (
	echo_with_errors,
	new_id,
	online_invoice_url,
	record_payment,
	render_invoice,
	render_payment,
	write_invoice,
)
from .org_settings import listed_categories, listed_themes
from .tenant import Tenant
from .where import QueryError, compile_where, sort_records
from .xerojson import loads, ms_date, parse_date, parse_timestamp, to_number

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_LISTED_IDS = 52  # 53+ ids overflow Xero's query string and give a 404 (facts §4)


@dataclass
class Answer:
	status: int
	payload: object = None  # JSON-able; None for an empty body
	headers: dict = field(default_factory=dict)


class ApiError(Exception):
	def __init__(self, status: int, payload: dict):
		super().__init__(payload)
		self.status, self.payload = status, payload


def bad_request(message: str, kind: str = "ValidationException", number: int = 10) -> ApiError:
	return ApiError(400, {"ErrorNumber": number, "Type": kind, "Message": message})


def not_found(detail: str = "The resource you're looking for cannot be found") -> ApiError:
	return ApiError(404, {"Title": "NotFound", "Status": 404, "Detail": detail})


@dataclass
class ApiRequest:
	method: str
	segments: list[str]  # the path after /api.xro/2.0, split, e.g. ["Invoices", "<id>"]
	query: dict[str, str]  # lower-cased names
	headers: object
	body: bytes
	tenant: Tenant
	now: datetime
	today: date
	provider_name: str

	def param(self, name: str, default: str | None = None) -> str | None:
		return self.query.get(name.lower(), default)

	def flag(self, name: str, default: bool = False) -> bool:
		value = self.param(name)
		return default if value is None else value.strip().lower() == "true"

	def integer(self, name: str) -> int | None:
		value = self.param(name)
		if value is None or value == "":
			return None
		try:
			return int(value)
		except ValueError:
			raise bad_request(f"{name} must be a whole number, not {value!r}") from None

	@property
	def unitdp(self) -> int:
		return 4 if self.integer("unitdp") == 4 else 2

	def listed(self, name: str) -> list[str]:
		value = self.param(name)
		items = [v.strip().strip('"') for v in value.split(",")] if value else []
		if len(items) > MAX_LISTED_IDS:
			raise not_found()
		return [v for v in items if v]

	def modified_since(self) -> datetime | None:
		value = self.headers.get("If-Modified-Since")
		if not value:
			return None
		try:
			return parse_timestamp(value)
		except ValueError:
			raise bad_request(f"If-Modified-Since {value!r} is not a valid timestamp") from None

	def json_body(self) -> object:
		try:
			return loads(self.body or b"null")
		except ValueError as e:
			raise bad_request(
				f"The request body is not valid JSON: {e}", "PostDataInvalidException", 14
			) from None


def envelope(request: ApiRequest, **collections) -> dict:
	return {
		"Id": str(uuid.uuid4()),
		"Status": "OK",
		"ProviderName": request.provider_name,
		"DateTimeUTC": ms_date(request.now).replace("+0000", ""),
		**collections,
	}


# --- listing helpers ---------------------------------------------------------------------------------


def _filter(
	records: list[dict], request: ApiRequest, modified_field: str | None = "UpdatedDateUTC"
) -> list[dict]:
	since = request.modified_since() if modified_field else None
	if since is not None:
		since = since.replace(microsecond=0)  # If-Modified-Since is accurate to the second
		records = [r for r in records if r.get(modified_field) and r[modified_field] >= since]
	try:
		predicate = compile_where(request.param("where"))
		if predicate:
			records = [r for r in records if predicate(r)]
		return sort_records(records, request.param("order"))
	except QueryError as e:
		raise bad_request(str(e), "QueryParseException", 16) from None


def _paginate(records: list[dict], request: ApiRequest) -> tuple[list[dict], dict | None]:
	page = request.integer("page")
	if page is None:
		return records, None
	size = request.integer("pageSize") or DEFAULT_PAGE_SIZE
	size = max(1, min(size, MAX_PAGE_SIZE))
	page = max(page, 1)
	pagination = {
		"page": page,
		"pageSize": size,
		"pageCount": math.ceil(len(records) / size),
		"itemCount": len(records),
	}
	return records[(page - 1) * size : page * size], pagination


def _listing(request: ApiRequest, name: str, rows: list[dict], pagination: dict | None) -> Answer:
	payload = envelope(request)
	if pagination is not None:
		payload["pagination"] = pagination
	payload[name] = rows
	return Answer(200, payload)


def _public(record: dict) -> dict:
	return {k: v for k, v in record.items() if not k.startswith("_")}


def _round_prices(details: dict | None, unitdp: int) -> dict | None:
	if not details:
		return details
	out = dict(details)
	if "UnitPrice" in out:
		out["UnitPrice"] = Decimal(out["UnitPrice"]).quantize(
			Decimal("0.0001") if unitdp == 4 else Decimal("0.01")
		)
	return out


# --- batch writes ------------------------------------------------------------------------------------


def _batch(
	request: ApiRequest,
	collection: str,
	write_one: Callable[[object], tuple[dict | None, list[str]]],
	render: Callable[[dict], dict],
	echo: Callable[[object, list[str]], dict],
) -> Answer:
	"""Xero's batch semantics: summarizeErrors=false → 200 with per-element status; else any bad
	element → 400 ValidationException, while the good elements are still stored (facts §2)."""
	body = request.json_body()
	if isinstance(body, dict) and collection in body:
		elements = body[collection]
	elif isinstance(body, dict) and body:
		elements = [body]  # Xero also takes a single unwrapped object
	else:
		raise bad_request(
			f"The request body must be {{'{collection}': [...]}}", "PostDataInvalidException", 14
		)
	if not isinstance(elements, list) or not elements:
		raise bad_request(f"{collection} must be a non-empty list", "PostDataInvalidException", 14)
	summarize = request.flag("summarizeErrors", True)
	results, failed = [], []
	for element in elements:
		record, problems = write_one(element)
		if problems:
			failed.append(echo(element, problems))
			results.append(failed[-1])
		else:
			row = render(record)
			if not summarize:
				row["StatusAttributeString"] = "OK"
			results.append(row)
	if failed and summarize:
		raise ApiError(
			400,
			{
				"ErrorNumber": 10,
				"Type": "ValidationException",
				"Message": "A validation exception occurred",
				"Elements": failed,
			},
		)
	return Answer(200, envelope(request, **{collection: results}))


# --- resources ---------------------------------------------------------------------------------------


def organisation(request: ApiRequest) -> Answer:
	org = dict(request.tenant.organisation)
	return Answer(200, envelope(request, Organisations=[org]))


def currencies(request: ApiRequest) -> Answer:
	return Answer(200, envelope(request, Currencies=_filter(list(request.tenant.currencies), request, None)))


def tracking_categories(request: ApiRequest) -> Answer:
	include_archived = request.flag("includeArchived")
	rows = listed_categories(request.tenant, include_archived)
	if len(request.segments) > 2:
		raise not_found()
	if len(request.segments) == 2:
		rows = [c for c in rows if c["TrackingCategoryID"] == request.segments[1].lower()]
		if not rows:
			raise not_found()
	return Answer(200, envelope(request, TrackingCategories=_filter(rows, request, None)))


def branding_themes(request: ApiRequest) -> Answer:
	rows = listed_themes(request.tenant)
	if len(request.segments) > 2:
		raise not_found()
	if len(request.segments) == 2:
		rows = [t for t in rows if t["BrandingThemeID"] == request.segments[1].lower()]
		if not rows:
			raise not_found()
	return Answer(200, envelope(request, BrandingThemes=rows))


def tax_rates(request: ApiRequest) -> Answer:
	rates = list(request.tenant.tax_rates.values())
	if len(request.segments) > 1:
		rates = [r for r in rates if r["TaxType"].lower() == request.segments[1].lower()]
		if not rates:
			raise not_found()
	return Answer(200, envelope(request, TaxRates=_filter(rates, request, None)))


def accounts(request: ApiRequest) -> Answer:
	rows = list(request.tenant.accounts.values())
	if len(request.segments) > 1:
		rows = [a for a in rows if a["AccountID"] == request.segments[1].lower()]
		if not rows:
			raise not_found()
	return Answer(200, envelope(request, Accounts=_filter(rows, request)))


def items(request: ApiRequest) -> Answer:
	tenant = request.tenant
	rows = list(tenant.items.values())
	if len(request.segments) > 1:
		key = request.segments[1]
		item = tenant.items.get(key.lower()) or tenant.item_by_code(key)
		if item is None:
			raise not_found()
		rows = [item]
	unitdp = request.unitdp
	rendered = []
	for item in _filter(rows, request):
		row = _public(item)
		row["SalesDetails"] = _round_prices(item.get("SalesDetails"), unitdp) or {}
		row["PurchaseDetails"] = _round_prices(item.get("PurchaseDetails"), unitdp) or {}
		rendered.append(row)
	return Answer(200, envelope(request, Items=rendered))


_CONTACT_SUMMARY = (
	"ContactID",
	"ContactNumber",
	"AccountNumber",
	"ContactStatus",
	"Name",
	"FirstName",
	"LastName",
	"EmailAddress",
	"IsSupplier",
	"IsCustomer",
	"UpdatedDateUTC",
	"HasAttachments",
	"HasValidationErrors",
)
_CONTACT_WRITABLE = (
	"Name",
	"ContactNumber",
	"AccountNumber",
	"FirstName",
	"LastName",
	"EmailAddress",
	"ContactStatus",
	"CompanyNumber",
	"TaxNumber",
	"DefaultCurrency",
	"Addresses",
	"Phones",
	"PaymentTerms",
	"SalesDefaultAccountCode",
	"AccountsReceivableTaxType",
)


def render_contact(contact: dict, summary: bool = False) -> dict:
	if summary:
		return {k: contact[k] for k in _CONTACT_SUMMARY if k in contact}
	row = _public(contact)
	row.setdefault("ContactPersons", [])
	row.setdefault("ContactGroups", [])
	row.setdefault("HasValidationErrors", False)
	return row


def contacts(request: ApiRequest) -> Answer:
	tenant = request.tenant
	if request.method in ("PUT", "POST"):
		path_id = request.segments[1].lower() if len(request.segments) > 1 else None
		return _batch(
			request,
			"Contacts",
			lambda element: _write_contact(request, element, path_id),
			render_contact,
			_echo_contact,
		)
	if len(request.segments) > 1:
		contact = tenant.contacts.get(request.segments[1].lower()) or tenant.contact_by_number(
			request.segments[1]
		)
		if contact is None:
			raise not_found()
		return Answer(200, envelope(request, Contacts=[render_contact(contact)]))
	rows = list(tenant.contacts.values())
	ids = {i.lower() for i in request.listed("IDs")}
	if ids:
		rows = [c for c in rows if c["ContactID"] in ids]
	elif not request.flag("includeArchived"):
		rows = [c for c in rows if c["ContactStatus"] != "ARCHIVED"]
	term = (request.param("searchTerm") or "").casefold()
	if term:
		fields = ("Name", "FirstName", "LastName", "ContactNumber", "EmailAddress", "CompanyNumber")
		rows = [c for c in rows if any(term in str(c.get(f) or "").casefold() for f in fields)]
	rows, pagination = _paginate(_filter(rows, request), request)
	summary = request.flag("summaryOnly")
	return _listing(request, "Contacts", [render_contact(c, summary) for c in rows], pagination)


def _write_contact(request: ApiRequest, element, path_id: str | None) -> tuple[dict | None, list[str]]:
	tenant = request.tenant
	if not isinstance(element, dict):
		return None, ["Each contact must be an object"]
	contact_id = path_id or str(element.get("ContactID") or "").lower() or None
	existing = tenant.contacts.get(contact_id) if contact_id else None
	if contact_id and existing is None:
		return None, [f"The contact with ContactID {contact_id} could not be found"]
	if existing is not None and request.method == "PUT":
		return None, ["PUT creates contacts only; use POST to update one"]
	name = str(element.get("Name", (existing or {}).get("Name")) or "").strip()
	problems = []
	if not name:
		problems.append("The contact name must be specified")
	elif len(name) > 255:
		problems.append("The contact name must be at most 255 characters long")
	holder = tenant.contact_by_name(name) if name else None
	if holder is not None and holder is not existing:
		problems.append(
			f"The contact name {name} is already assigned to another contact. "
			"The contact name must be unique across all active contacts."
		)
	status = str(element.get("ContactStatus", (existing or {}).get("ContactStatus", "ACTIVE"))).upper()
	if status not in ("ACTIVE", "ARCHIVED"):
		problems.append(f"ContactStatus must be ACTIVE or ARCHIVED, not {status}")
	problems += _contact_field_problems(tenant, element, existing)
	if problems:
		return None, problems
	contact = existing or {
		"ContactID": new_id(),
		"IsSupplier": False,
		"IsCustomer": False,
		"Addresses": [],
		"Phones": [],
		"HasAttachments": False,
	}
	for key in _CONTACT_WRITABLE:
		if key in element:
			contact[key] = element[key]
	contact.update(Name=name, ContactStatus=status, UpdatedDateUTC=request.now)
	tenant.contacts[contact["ContactID"]] = contact
	return contact, []


# Xero's own words (facts §11): account numbers are unique among all of an organisation's contacts, archived
# ones included; an email address must look like one; a sales payment term "of the month" needs a day 1-31.
ACCOUNT_NUMBER_TAKEN = "The Account Number already exists. Please enter a different Account Number."
EMAIL_INVALID = "Email address must be valid."
PAYMENT_TERM_TYPES = ("DAYSAFTERBILLDATE", "DAYSAFTERBILLMONTH", "OFCURRENTMONTH", "OFFOLLOWINGMONTH")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _contact_field_problems(tenant: Tenant, element: dict, existing: dict | None) -> list[str]:
	problems = []
	number = element.get("AccountNumber")
	if number not in (None, ""):
		number = str(number).strip()
		if len(number) > 50:
			problems.append("The Account Number must be at most 50 characters long")
		elif any(
			c is not existing and str(c.get("AccountNumber") or "").strip().casefold() == number.casefold()
			for c in tenant.contacts.values()
		):
			problems.append(ACCOUNT_NUMBER_TAKEN)
	email = element.get("EmailAddress")
	if email not in (None, "") and (not isinstance(email, str) or not _EMAIL.match(email.strip())):
		problems.append(EMAIL_INVALID)
	terms = element.get("PaymentTerms")
	sales = terms.get("Sales") if isinstance(terms, dict) else None
	if terms is not None and not isinstance(terms, dict):
		problems.append("PaymentTerms must be an object")
	elif isinstance(sales, dict):
		kind, day = sales.get("Type"), sales.get("Day")
		if kind not in PAYMENT_TERM_TYPES:
			problems.append(f"PaymentTerms.Sales.Type must be one of {', '.join(PAYMENT_TERM_TYPES)}")
		if not isinstance(day, int) or isinstance(day, bool) or day < 0:
			problems.append("PaymentTerms.Sales.Day must be a whole number of days")
		elif kind in ("OFCURRENTMONTH", "OFFOLLOWINGMONTH") and not 1 <= day <= 31:
			problems.append(
				"Due Date for Sales Invoices must be between 1 and 31 when set to the following (or current) month"
			)
	return problems


def _echo_contact(element, problems: list[str]) -> dict:
	echo = (
		{"Name": element["Name"]}
		if isinstance(element, dict) and isinstance(element.get("Name"), str)
		else {}
	)
	echo.update(HasValidationErrors=True, StatusAttributeString="ERROR")
	echo["ValidationErrors"] = [{"Message": m} for m in problems]
	return echo


def invoices(request: ApiRequest) -> Answer:
	tenant = request.tenant
	segments = request.segments
	if len(segments) == 3 and segments[2].lower() == "onlineinvoice" and request.method == "GET":
		invoice = tenant.find_invoice(segments[1])
		if invoice is None:
			raise not_found()
		if invoice["Type"] != "ACCREC" or invoice["Status"] in ("DRAFT", "SUBMITTED", "DELETED"):
			raise bad_request("An online invoice is only available for approved sales invoices")
		return Answer(
			200, envelope(request, OnlineInvoices=[{"OnlineInvoiceUrl": online_invoice_url(invoice)}])
		)
	if len(segments) == 3 and segments[2].lower() in ("email", "history"):
		from .credit_note_api import email_invoice, history

		invoice = tenant.find_invoice(segments[1])
		if invoice is None:
			raise not_found()
		if segments[2].lower() == "history":
			return history(request, invoice["InvoiceID"])
		if request.method != "POST":
			raise ApiError(
				405, {"Title": "MethodNotAllowed", "Status": 405, "Detail": "POST to email an invoice"}
			)
		return email_invoice(request, invoice)
	if len(segments) > 2:
		raise not_found()
	if request.method in ("PUT", "POST"):
		return _write_invoices(request)
	unitdp = request.unitdp
	if len(segments) == 2:
		invoice = tenant.find_invoice(segments[1])
		if invoice is None:
			raise not_found()
		return Answer(
			200, envelope(request, Invoices=[render_invoice(tenant, invoice, lines=True, unitdp=unitdp)])
		)
	rows = list(tenant.invoices.values())
	ids = {i.lower() for i in request.listed("IDs")}
	if ids:
		rows = [i for i in rows if i["InvoiceID"] in ids]
	numbers = {n.casefold() for n in request.listed("InvoiceNumbers")}
	if numbers:
		rows = [i for i in rows if i["InvoiceNumber"].casefold() in numbers]
	statuses = {s.upper() for s in request.listed("Statuses")}
	if statuses:
		rows = [i for i in rows if i["Status"] in statuses]
	contact_ids = {c.lower() for c in request.listed("ContactIDs")}
	if contact_ids:
		rows = [i for i in rows if i["Contact"]["ContactID"] in contact_ids]
	if request.flag("createdByMyApp"):
		rows = [i for i in rows if i.get("_created_by_app")]
	term = (request.param("searchTerm") or "").casefold()
	if term:
		rows = [i for i in rows if term in i["InvoiceNumber"].casefold() or term in i["Reference"].casefold()]
	rows, pagination = _paginate(_filter(rows, request), request)
	summary = request.flag("summaryOnly")
	# Xero returns line items in a list only when it is paged (facts §4).
	with_lines = pagination is not None and not summary
	rendered = [render_invoice(tenant, i, lines=with_lines, summary=summary, unitdp=unitdp) for i in rows]
	return _listing(request, "Invoices", rendered, pagination)


def _write_invoices(request: ApiRequest) -> Answer:
	tenant = request.tenant
	path_key = request.segments[1] if len(request.segments) == 2 else None
	if path_key and request.method == "PUT":
		raise ApiError(405, {"Title": "MethodNotAllowed", "Status": 405, "Detail": "PUT is not allowed here"})

	def write_one(element):
		existing = None
		if path_key:
			existing = tenant.find_invoice(path_key)
			if existing is None:
				return None, [f"Invoice {path_key} could not be found"]
		elif isinstance(element, dict) and element.get("InvoiceID"):
			if request.method == "PUT":
				return None, ["PUT creates invoices only; use POST to update one"]
			existing = tenant.invoices.get(str(element["InvoiceID"]).lower())
			if existing is None:
				return None, [f"Invoice {element['InvoiceID']} could not be found"]
		elif request.method == "POST" and isinstance(element, dict) and element.get("InvoiceNumber"):
			existing = tenant.invoice_by_number(str(element["InvoiceNumber"]))
		return write_invoice(
			tenant, element, now=request.now, today=request.today, unitdp=request.unitdp, existing=existing
		)

	return _batch(
		request,
		"Invoices",
		write_one,
		lambda invoice: render_invoice(tenant, invoice, lines=True, unitdp=request.unitdp),
		echo_with_errors,
	)


def payments(request: ApiRequest) -> Answer:
	tenant = request.tenant
	if request.method == "PUT" and len(request.segments) == 1:
		return _batch(
			request,
			"Payments",
			lambda element: _write_payment(request, element),
			_render_payment(tenant),
			_echo_payment,
		)
	if request.method != "GET":
		raise ApiError(
			405, {"Title": "MethodNotAllowed", "Status": 405, "Detail": "Use GET or PUT on Payments"}
		)
	rows = list(tenant.payments.values())
	if len(request.segments) > 1:
		rows = [p for p in rows if p["PaymentID"] == request.segments[1].lower()]
		if not rows:
			raise not_found()
	# Filtered in their public shape, so ``where=Invoice.InvoiceID==Guid("…")`` works as in Xero.
	rendered = [render_payment(tenant, p) for p in rows]
	rows, pagination = _paginate(_filter(rendered, request), request)
	return _listing(request, "Payments", rows, pagination)


def _render_payment(tenant: Tenant):
	return lambda payment: render_payment(tenant, payment)


def _write_payment(request: ApiRequest, element) -> tuple[dict | None, list[str]]:
	tenant = request.tenant
	if not isinstance(element, dict):
		return None, ["Each payment must be an object"]
	reference = element.get("Invoice") or {}
	invoice = None
	if isinstance(reference, dict) and reference.get("InvoiceID"):
		invoice = tenant.invoices.get(str(reference["InvoiceID"]).lower())
	elif isinstance(reference, dict) and reference.get("InvoiceNumber"):
		invoice = tenant.invoice_by_number(str(reference["InvoiceNumber"]))
	elif element.get("InvoiceNumber"):
		invoice = tenant.invoice_by_number(str(element["InvoiceNumber"]))
	if invoice is None:
		return None, ["An existing Invoice must be specified for the payment"]
	account = element.get("Account") or {}
	code = account.get("Code") if isinstance(account, dict) else None
	if isinstance(account, dict) and account.get("AccountID"):
		code = next(
			(
				a["Code"]
				for a in tenant.accounts.values()
				if a["AccountID"] == str(account["AccountID"]).lower()
			),
			"?",
		)
	try:
		amount = to_number(element.get("Amount"))
	except ValueError:
		return None, ["Amount must be a number"]
	try:
		paid_on = parse_date(element["Date"]) if element.get("Date") else request.today
	except ValueError:
		return None, ["Date is not a valid date (use YYYY-MM-DD)"]
	return record_payment(
		tenant,
		invoice,
		amount,
		now=request.now,
		paid_on=paid_on,
		account_code=code,
		reference=str(element.get("Reference") or ""),
	)


def _echo_payment(element, problems: list[str]) -> dict:
	echo = {}
	if isinstance(element, dict) and isinstance(element.get("Reference"), str):
		echo["Reference"] = element["Reference"]
	echo.update(HasValidationErrors=True, StatusAttributeString="ERROR")
	echo["ValidationErrors"] = [{"Message": m} for m in problems]
	return echo


def _quotes(request: ApiRequest) -> Answer:
	# quotes.py builds on this module's plumbing, so it is imported when first asked for.
	from .quotes import quotes

	return quotes(request)


def _credit_notes(request: ApiRequest) -> Answer:
	# credit_note_api.py builds on this module's plumbing too.
	from .credit_note_api import credit_notes

	return credit_notes(request)


ROUTES: dict[str, tuple[Callable[[ApiRequest], Answer], tuple[str, ...]]] = {
	"organisation": (organisation, ("GET",)),
	"currencies": (currencies, ("GET",)),
	"taxrates": (tax_rates, ("GET",)),
	"trackingcategories": (tracking_categories, ("GET",)),
	"brandingthemes": (branding_themes, ("GET",)),
	"accounts": (accounts, ("GET",)),
	"items": (items, ("GET",)),
	"contacts": (contacts, ("GET", "PUT", "POST")),
	"invoices": (invoices, ("GET", "PUT", "POST")),
	"payments": (payments, ("GET", "PUT")),
	"creditnotes": (_credit_notes, ("GET", "PUT", "POST", "DELETE")),
	"quotes": (_quotes, ("GET", "PUT", "POST")),
}


def handle(request: ApiRequest) -> Answer:
	"""Xero's answer to one accounting request; an unknown resource or method is Xero's 404 or 405."""
	try:
		return _route(request)(request)
	except ApiError as e:
		return Answer(e.status, e.payload)


def _route(request: ApiRequest):
	route = ROUTES.get(request.segments[0].lower()) if request.segments else None
	if route is None:
		raise not_found()
	handler, methods = route
	if request.method not in methods:
		raise ApiError(
			405,
			{
				"Title": "MethodNotAllowed",
				"Status": 405,
				"Detail": f"The resource does not support {request.method}",
			},
		)
	return handler
