"""Sales quotes as Xero keeps them (``/Quotes``): listing and filters, status rules, arithmetic, the JSON shape.

Written from Xero's OpenAPI file (``getQuotes``, ``getQuote``, ``createQuotes``, ``updateOrCreateQuotes``,
``updateQuote`` and the ``Quote`` schema) and the facts sheet (§11):

- ``GET /Quotes`` returns up to 100 quotes a page with their lines (``page``; the spec has no ``pageSize``,
  no ``where`` and no ``unitdp``; without ``page`` every matching quote), filtered by ``DateFrom``,
  ``DateTo``, ``ExpiryDateFrom``, ``ExpiryDateTo`` (each inclusive), ``ContactID``, ``Status``,
  ``QuoteNumber`` and ``If-Modified-Since``, sorted by ``order``. The answer carries no ``pagination`` (the
  ``Quotes`` schema has none): a page of fewer than 100 is the last. ``GET /Quotes/{QuoteID}`` returns one.
- ``LineAmountTypes`` is upper case, ``EXCLUSIVE`` | ``INCLUSIVE`` | ``NOTAX`` (invoices spell them
  ``Exclusive`` | ``Inclusive`` | ``NoTax``); anything else is refused. Unit amounts keep 4 places, as in
  the spec's examples (``UnitAmount: 19.9500``).
- Statuses ``DRAFT``, ``SENT``, ``DECLINED``, ``ACCEPTED``, ``INVOICED``, ``DELETED``. A quote is created
  DRAFT or SENT, and moves only as ``MOVES`` says: DRAFT -> DECLINED and ACCEPTED -> DECLINED are refused (go
  via SENT, as live organisations answer: XeroAPI/xero-mcp-server#309), ACCEPTED -> INVOICED is allowed, an
  INVOICED or DELETED quote is final.
- An update is the whole header, as live organisations behave: ``Contact`` and ``Date`` must be sent;
  ``Reference``, ``Terms``, ``Title``, ``Summary`` and ``ExpiryDate`` left out are cleared, and
  ``LineAmountTypes`` left out is EXCLUSIVE (the lines are priced again under it); ``LineItems`` left out
  are kept. Lines, contact, currency and amount type change only while the quote is DRAFT or SENT.
- Lines are priced by the sandbox's own arithmetic (``arithmetic.py``): DiscountRate or DiscountAmount, a
  sent TaxAmount taken as given, tax per line, totals the sums of the rounded line figures.
"""

from datetime import date
from decimal import Decimal

from .accounting import (
	Answer,
	ApiError,
	ApiRequest,
	_batch,
	_listing,
	bad_request,
	not_found,
)
from .arithmetic import EXCLUSIVE, INCLUSIVE, NO_TAX, invoice_totals
from .invoices import (
	_lines,
	_lines_as_sent,
	_Problems,
	_resolve_contact,
	_text,
	document_currency,
	new_id,
	render_line,
)
from .tenant import Tenant
from .where import QueryError, sort_records
from .xerojson import date_string, parse_date

QUOTES_PER_PAGE = 100
QUOTE_UNITDP = 4
STATUSES = ("DRAFT", "SENT", "DECLINED", "ACCEPTED", "INVOICED", "DELETED")
CREATABLE = ("DRAFT", "SENT")
EDITABLE = ("DRAFT", "SENT")
# status -> the statuses Xero lets it move to
MOVES = {
	"DRAFT": ("SENT", "DELETED"),
	"SENT": ("DRAFT", "ACCEPTED", "DECLINED", "DELETED"),
	"ACCEPTED": ("SENT", "INVOICED"),
	"DECLINED": ("SENT", "DELETED"),
	"INVOICED": (),
	"DELETED": (),
}
# Quote.LineAmountTypes -> the arithmetic's amount type
AMOUNT_TYPES = {"EXCLUSIVE": EXCLUSIVE, "INCLUSIVE": INCLUSIVE, "NOTAX": NO_TAX}
TEXT_LIMITS = {"QuoteNumber": 255, "Reference": 4000, "Terms": 4000, "Title": 100, "Summary": 3000}
# Header fields a write that leaves them out clears.
CLEARED_WHEN_LEFT_OUT = ("Reference", "Terms", "Title", "Summary")


def take_quote_number(tenant: Tenant) -> str:
	taken = {q["QuoteNumber"].casefold() for q in tenant.quotes.values()}
	while True:
		number = f"QU-{tenant.next_quote_number:04d}"
		tenant.next_quote_number += 1
		if number.casefold() not in taken:
			return number


def quote_by_number(tenant: Tenant, number: str) -> dict | None:
	wanted = number.strip().casefold()
	return next((q for q in tenant.quotes.values() if q["QuoteNumber"].casefold() == wanted), None)


def _status_problem(old: str | None, new: str) -> str | None:
	if new not in STATUSES:
		return f"Status must be one of {', '.join(STATUSES)}, not {new!r}"
	if old is None:
		if new not in CREATABLE:
			return f"A quote cannot be created with the status {new}; create it as DRAFT or SENT"
		return None
	if old in ("INVOICED", "DELETED"):
		return f"This quote is {old} and can no longer be changed"
	if new != old and new not in MOVES[old]:
		return f"A quote cannot go from {old} to {new}"
	return None


def _date(value, label: str, problems: _Problems) -> date | None:
	try:
		return parse_date(value)
	except ValueError:
		problems.add(f"{label} {value!r} is not a valid date (use YYYY-MM-DD)")
		return None


def write_quote(tenant: Tenant, element, *, now, existing: dict | None) -> tuple[dict | None, list[str]]:
	"""Creates (``existing`` None) or updates a quote from one request element.

	Returns (the stored quote, []) or (None, Xero's validation messages); nothing is stored on error.
	"""
	if not isinstance(element, dict):
		return None, ["Each quote must be an object"]
	problems = _Problems()
	old_status = existing["Status"] if existing is not None else None
	status = str(element.get("Status") or old_status or "DRAFT").upper()
	refusal = _status_problem(old_status, status)
	if refusal:
		return None, [refusal]

	contact = None
	if not element.get("Contact"):
		problems.add("A Contact must be specified for this type of transaction")
	else:
		contact = _resolve_contact(tenant, element.get("Contact"), problems)
		if contact is not None and contact.get("ContactID") is None:
			problems.add(f"The contact {contact['Name']} could not be found")
			contact = None

	issued = expiry = None
	if not element.get("Date"):
		problems.add("Date must be specified for a quote")
	else:
		issued = _date(element["Date"], "Date", problems)
	if element.get("ExpiryDate"):
		expiry = _date(element["ExpiryDate"], "ExpiryDate", problems)
	if issued and expiry and expiry < issued:
		problems.add("ExpiryDate cannot be before the quote's Date")

	texts = {}
	for key, limit in TEXT_LIMITS.items():
		value = _text(element.get(key))
		if value is not None and len(value) > limit:
			problems.add(f"{key} must be at most {limit} characters long")
		texts[key] = value
	number = texts["QuoteNumber"] or (existing or {}).get("QuoteNumber")
	if number:
		holder = quote_by_number(tenant, number)
		if holder is not None and holder is not existing:
			problems.add("Quote number must be unique.")

	public_type = element.get("LineAmountTypes") or "EXCLUSIVE"
	if public_type not in AMOUNT_TYPES:
		problems.add(
			f"LineAmountTypes must be one of {', '.join(AMOUNT_TYPES)} for a quote, not {public_type!r}"
		)
		public_type = "EXCLUSIVE"
	amount_type = AMOUNT_TYPES[public_type]

	currency = document_currency(
		tenant, element.get("CurrencyCode") or (existing or {}).get("CurrencyCode"), problems
	)

	if existing is not None and old_status not in EDITABLE:
		changed = []
		if "LineItems" in element:
			changed.append("LineItems")
		if amount_type != existing["_amount_type"]:
			changed.append("LineAmountTypes")
		if contact is not None and contact["ContactID"] != existing["Contact"]["ContactID"]:
			changed.append("Contact")
		if currency != existing["CurrencyCode"]:
			changed.append("CurrencyCode")
		if changed:
			problems.add(
				f"The {', '.join(changed)} of a quote that is {old_status} cannot be changed; "
				"only a DRAFT or SENT quote can"
			)

	reprice = existing is None or "LineItems" in element or amount_type != existing["_amount_type"]
	lines, priced = [], []
	if reprice:
		if "LineItems" in element:
			raw_lines = element["LineItems"]
		else:
			raw_lines = _lines_as_sent(
				{"LineAmountTypes": existing["_amount_type"], "LineItems": existing["LineItems"]},
				amount_type,
			)
		if not isinstance(raw_lines, list) or not raw_lines:
			problems.add("At least one line item must be specified")
			raw_lines = []
		old_ids = {line["LineItemID"] for line in (existing or {}).get("LineItems", [])}
		lines, priced = _lines(tenant, "ACCREC", raw_lines, amount_type, QUOTE_UNITDP, problems, old_ids)
	if problems:
		return None, list(problems)

	quote = existing if existing is not None else {"QuoteID": new_id(), "CurrencyRate": None}
	quote.update(
		QuoteNumber=number or take_quote_number(tenant),
		Contact={"ContactID": contact["ContactID"], "Name": contact["Name"]},
		Date=issued,
		ExpiryDate=expiry,
		Status=status,
		LineAmountTypes=public_type,
		_amount_type=amount_type,
		CurrencyCode=currency,
		UpdatedDateUTC=now,
		**{key: texts[key] or "" for key in CLEARED_WHEN_LEFT_OUT},
	)
	quote["CurrencyRate"] = (
		Decimal(1) if currency == tenant.base_currency else element.get("CurrencyRate") or Decimal("1.5")
	)
	if "BrandingThemeID" in element:
		quote["BrandingThemeID"] = element["BrandingThemeID"]
	if reprice:
		result = invoice_totals(priced, amount_type)
		quote.update(
			LineItems=lines,
			SubTotal=result.sub_total,
			TotalTax=result.total_tax,
			Total=result.total,
			TotalDiscount=result.total_discount,
		)
	tenant.quotes[quote["QuoteID"]] = quote
	return quote, []


def render_quote(tenant: Tenant, quote: dict) -> dict:
	contact = tenant.contacts.get(quote["Contact"]["ContactID"], quote["Contact"])
	out = {
		"QuoteID": quote["QuoteID"],
		"QuoteNumber": quote["QuoteNumber"],
		"Reference": quote["Reference"],
		"Terms": quote["Terms"],
		"Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"]},
		"LineItems": [render_line(line, QUOTE_UNITDP) for line in quote["LineItems"]],
		"Date": quote["Date"],
		"DateString": date_string(quote["Date"]),
		"Status": quote["Status"],
		"CurrencyRate": quote["CurrencyRate"],
		"CurrencyCode": quote["CurrencyCode"],
		"SubTotal": quote["SubTotal"],
		"TotalTax": quote["TotalTax"],
		"Total": quote["Total"],
		"TotalDiscount": quote["TotalDiscount"],
		"Title": quote["Title"],
		"Summary": quote["Summary"],
		"UpdatedDateUTC": quote["UpdatedDateUTC"],
		"LineAmountTypes": quote["LineAmountTypes"],
	}
	if quote.get("ExpiryDate"):
		out["ExpiryDate"] = quote["ExpiryDate"]
		out["ExpiryDateString"] = date_string(quote["ExpiryDate"])
	if quote.get("BrandingThemeID"):
		out["BrandingThemeID"] = quote["BrandingThemeID"]
	return out


def _echo(element, problems: list[str]) -> dict:
	echo = {}
	if isinstance(element, dict):
		for key in ("QuoteNumber", "Reference"):
			if isinstance(element.get(key), str) and 0 < len(element[key]) <= TEXT_LIMITS[key]:
				echo[key] = element[key]
	echo["StatusAttributeString"] = "ERROR"
	echo["ValidationErrors"] = [{"Message": m} for m in problems]
	return echo


def _date_filter(request: ApiRequest, name: str) -> date | None:
	value = request.param(name)
	if not value:
		return None
	try:
		return parse_date(value)
	except ValueError:
		raise bad_request(f"{name} {value!r} is not a valid date (use YYYY-MM-DD)") from None


def _listed(request: ApiRequest) -> list[dict]:
	tenant = request.tenant
	rows = list(tenant.quotes.values())
	since = request.modified_since()
	if since is not None:
		since = since.replace(microsecond=0)  # If-Modified-Since is accurate to the second
		rows = [q for q in rows if q["UpdatedDateUTC"] >= since]
	for name, field, compare in (
		("DateFrom", "Date", lambda value, bound: value >= bound),
		("DateTo", "Date", lambda value, bound: value <= bound),
		("ExpiryDateFrom", "ExpiryDate", lambda value, bound: value >= bound),
		("ExpiryDateTo", "ExpiryDate", lambda value, bound: value <= bound),
	):
		bound = _date_filter(request, name)
		if bound is not None:
			rows = [q for q in rows if q.get(field) and compare(q[field], bound)]
	contact_id = (request.param("ContactID") or "").strip().lower()
	if contact_id:
		rows = [q for q in rows if q["Contact"]["ContactID"] == contact_id]
	status = (request.param("Status") or "").strip().upper()
	if status:
		if status not in STATUSES:
			raise bad_request(f"Status must be one of {', '.join(STATUSES)}, not {status!r}")
		rows = [q for q in rows if q["Status"] == status]
	number = (request.param("QuoteNumber") or "").strip().casefold()
	if number:
		rows = [q for q in rows if q["QuoteNumber"].casefold() == number]
	rendered = [render_quote(tenant, q) for q in rows]
	try:
		return sort_records(rendered, request.param("order"))
	except QueryError as e:
		raise bad_request(str(e), "QueryParseException", 16) from None


def quotes(request: ApiRequest) -> Answer:
	"""``/Quotes`` and ``/Quotes/{QuoteID}``."""
	tenant = request.tenant
	segments = request.segments
	if len(segments) > 2:
		raise not_found()
	if request.method in ("PUT", "POST"):
		return _write(request)
	if len(segments) == 2:
		quote = tenant.quotes.get(segments[1].lower())
		if quote is None:
			raise not_found()
		return _listing(request, "Quotes", [render_quote(tenant, quote)], None)
	rows = _listed(request)
	page = request.integer("page")
	if page is not None:
		start = (max(page, 1) - 1) * QUOTES_PER_PAGE
		rows = rows[start : start + QUOTES_PER_PAGE]
	return _listing(request, "Quotes", rows, None)


def _write(request: ApiRequest) -> Answer:
	tenant = request.tenant
	path_id = request.segments[1].lower() if len(request.segments) == 2 else None
	if path_id and request.method == "PUT":
		raise ApiError(405, {"Title": "MethodNotAllowed", "Status": 405, "Detail": "PUT is not allowed here"})
	if path_id and path_id not in tenant.quotes:
		raise not_found()

	def write_one(element):
		existing = tenant.quotes.get(path_id) if path_id else None
		if existing is None and isinstance(element, dict) and element.get("QuoteID"):
			if request.method == "PUT":
				return None, ["PUT creates quotes only; use POST to update one"]
			existing = tenant.quotes.get(str(element["QuoteID"]).lower())
			if existing is None:
				return None, [f"Quote {element['QuoteID']} could not be found"]
		elif existing is None and request.method == "POST" and isinstance(element, dict):
			if element.get("QuoteNumber"):
				existing = quote_by_number(tenant, str(element["QuoteNumber"]))
		return write_quote(tenant, element, now=request.now, existing=existing)

	return _batch(request, "Quotes", write_one, lambda quote: render_quote(tenant, quote), _echo)
