"""Xero sandbox quotes: Xero's status rules, upper-case amount types, arithmetic, paging by 100, filters, and
the whole-header update, every exchange checked against Xero's OpenAPI spec."""

import json
from contextlib import nullcontext
from datetime import timedelta
from decimal import Decimal as D

import pytest

from tests.conftest_xero import login


@pytest.fixture
def xero(sandbox):
	return login(sandbox)


def customer(xero, index: int = 0) -> str:
	contacts = xero.get("/Contacts", params={"where": 'ContactStatus=="ACTIVE"'}).json()["Contacts"]
	return contacts[index]["ContactID"]


LINE = {"Description": "Widget", "Quantity": 2, "UnitAmount": 10, "AccountCode": "200", "TaxType": "OUTPUT2"}


def quote_body(contact_id: str, lines=None, **fields) -> dict:
	return {
		"Contact": {"ContactID": contact_id},
		"Date": "2026-03-02",
		"LineItems": lines or [LINE],
		**fields,
	}


def decimals(answer) -> dict:
	return json.loads(answer.content, parse_float=D)


def create(xero, body: dict, **kwargs) -> dict:
	answer = xero.put("/Quotes", {"Quotes": [body]}, params={"summarizeErrors": "false"}, **kwargs)
	assert answer.status_code == 200, answer.text
	element = decimals(answer)["Quotes"][0]
	assert element["StatusAttributeString"] == "OK", element
	return element


def header(quote: dict, **changes) -> dict:
	"""What a client must send back to change a quote: the whole header (Xero clears what is left out)."""
	body = {
		"Contact": {"ContactID": quote["Contact"]["ContactID"]},
		"Date": quote["DateString"][:10],
		"LineAmountTypes": quote["LineAmountTypes"],
	}
	for key in ("Reference", "Terms", "Title", "Summary"):
		if quote.get(key):
			body[key] = quote[key]
	if quote.get("ExpiryDateString"):
		body["ExpiryDate"] = quote["ExpiryDateString"][:10]
	body.update(changes)
	return body


def move(xero, quote: dict, status: str):
	return xero.post(f"/Quotes/{quote['QuoteID']}", {"Quotes": [header(quote, Status=status)]})


def moved(xero, quote: dict, status: str) -> dict:
	answer = move(xero, quote, status)
	assert answer.status_code == 200, answer.text
	element = decimals(answer)["Quotes"][0]
	assert element["Status"] == status
	return element


def get(xero, quote_id: str) -> dict:
	answer = xero.get(f"/Quotes/{quote_id}")
	assert answer.status_code == 200, answer.text
	return decimals(answer)["Quotes"][0]


def error_messages(answer) -> list[str]:
	body = answer.json()
	return [m["Message"] for e in body.get("Elements", []) for m in e.get("ValidationErrors", [])]


def test_a_quote_goes_draft_sent_accepted_invoiced(xero):
	quote = create(xero, quote_body(customer(xero), Reference="PO-77", Title="Desks", Terms="30 days"))
	assert (quote["Status"], quote["QuoteNumber"], quote["LineAmountTypes"]) == (
		"DRAFT",
		"QU-0001",
		"EXCLUSIVE",
	)
	assert (quote["SubTotal"], quote["TotalTax"], quote["Total"]) == (D("20.00"), D("3.00"), D("23.00"))
	for status in ("SENT", "ACCEPTED", "INVOICED"):
		quote = moved(xero, quote, status)
	stored = get(xero, quote["QuoteID"])
	assert stored["Status"] == "INVOICED"
	assert (stored["Reference"], stored["Title"], stored["Terms"]) == ("PO-77", "Desks", "30 days")
	assert stored["LineItems"][0]["LineAmount"] == D("20.00")


@pytest.mark.parametrize(
	"path, refused",
	[
		((), "DECLINED"),  # DRAFT -> DECLINED: Xero wants it SENT first
		((), "ACCEPTED"),
		((), "INVOICED"),
		(("SENT", "ACCEPTED"), "DECLINED"),  # ACCEPTED -> DECLINED: back to SENT first
		(("SENT", "ACCEPTED", "INVOICED"), "ACCEPTED"),  # INVOICED is final
		(("DELETED",), "DRAFT"),
		(("SENT",), "INVOICED"),  # only an ACCEPTED quote is invoiced
	],
)
def test_xeros_status_rules_refuse_and_change_nothing(xero, path, refused):
	quote = create(xero, quote_body(customer(xero)))
	for status in path:
		quote = moved(xero, quote, status)
	before = get(xero, quote["QuoteID"])
	answer = move(xero, quote, refused)
	assert answer.status_code == 400, answer.text
	assert answer.json()["Type"] == "ValidationException"
	assert error_messages(answer)
	assert get(xero, quote["QuoteID"]) == before


def test_allowed_moves_back_and_forth(xero):
	quote = create(xero, quote_body(customer(xero)))
	for status in ("SENT", "DECLINED", "SENT", "ACCEPTED", "SENT", "ACCEPTED"):
		quote = moved(xero, quote, status)


@pytest.mark.parametrize("status", ["ACCEPTED", "DECLINED", "INVOICED", "DELETED", "PAID"])
def test_a_quote_is_created_draft_or_sent_only(xero, xero_conformance, status):
	contact = customer(xero)
	with xero_conformance.expect_invalid_request() if status == "PAID" else nullcontext():
		answer = xero.put("/Quotes", {"Quotes": [quote_body(contact, Status=status)]})
	assert answer.status_code == 400
	assert xero.get("/Quotes").json()["Quotes"] == []
	assert create(xero, quote_body(customer(xero), Status="SENT"))["Status"] == "SENT"


@pytest.mark.parametrize("spelled", ["Exclusive", "Inclusive", "NoTax", "exclusive", "TAXINCLUSIVE"])
def test_line_amount_types_are_upper_case_for_quotes(xero, xero_conformance, spelled):
	contact = customer(xero)
	with xero_conformance.expect_invalid_request():  # the spec's enum is upper case: these are not Xero's
		answer = xero.put("/Quotes", {"Quotes": [quote_body(contact, LineAmountTypes=spelled)]})
	assert answer.status_code == 400
	assert any("EXCLUSIVE, INCLUSIVE, NOTAX" in m for m in error_messages(answer)), answer.text


def test_inclusive_and_notax_quotes(xero):
	contact = customer(xero)
	inclusive = create(xero, quote_body(contact, LineAmountTypes="INCLUSIVE"))
	assert (inclusive["SubTotal"], inclusive["TotalTax"], inclusive["Total"]) == (
		D("17.39"),
		D("2.61"),
		D("20.00"),
	)
	notax = create(xero, quote_body(contact, LineAmountTypes="NOTAX"))
	assert (notax["TotalTax"], notax["Total"]) == (D("0.00"), D("20.00"))


def test_quote_arithmetic_rounds_each_line_as_xero_does(xero):
	lines = [
		{"Description": f"Line {n}", "Quantity": 1, "UnitAmount": amount, "TaxType": "OUTPUT2"}
		for n, amount in enumerate([25.06, 25.61, 25.63])
	]
	lines += [
		{
			"Description": "Third",
			"Quantity": 3,
			"UnitAmount": 0.3333,
			"TaxType": "OUTPUT2",
			"DiscountRate": 10,
		},
		{
			"Description": "Off",
			"Quantity": 7,
			"UnitAmount": 12.3456,
			"TaxType": "OUTPUT2",
			"DiscountAmount": 1.11,
		},
		{
			"Description": "Given tax",
			"Quantity": 1,
			"UnitAmount": 10,
			"TaxType": "OUTPUT2",
			"TaxAmount": 1.49,
		},
	]
	quote = create(xero, quote_body(customer(xero), lines))
	got = [(line["LineAmount"], line["TaxAmount"]) for line in quote["LineItems"]]
	assert got == [
		(D("25.06"), D("3.76")),
		(D("25.61"), D("3.84")),
		(D("25.63"), D("3.84")),
		(D("0.90"), D("0.14")),  # 3 x 0.3333 = 0.9999 less 10 % = 0.89991
		(D("85.31"), D("12.80")),  # 86.4192 -> 86.42 less 1.11
		(D("10.00"), D("1.49")),
	]
	assert quote["LineItems"][0]["UnitAmount"] == D("25.0600")  # 4 places on quotes, as Xero's examples
	assert quote["SubTotal"] == sum(a for a, _ in got)
	assert quote["TotalTax"] == sum(t for _, t in got) == D("25.87")
	assert quote["TotalDiscount"] == D("1.21")


def test_quotes_page_by_100_with_their_lines(xero):
	contact = customer(xero)
	batch = [quote_body(contact, Reference=f"Q{n}") for n in range(230)]
	answer = xero.put("/Quotes", {"Quotes": batch}, params={"summarizeErrors": "false"})
	assert answer.status_code == 200
	pages = [xero.get("/Quotes", params={"page": page}).json() for page in (1, 2, 3, 4)]
	assert [len(p["Quotes"]) for p in pages] == [100, 100, 30, 0]
	assert all("pagination" not in p for p in pages)  # the Quotes schema has none
	assert all(q["LineItems"] for p in pages for q in p["Quotes"])
	numbers = [q["QuoteNumber"] for p in pages for q in p["Quotes"]]
	assert len(set(numbers)) == 230
	assert len(xero.get("/Quotes").json()["Quotes"]) == 230


def test_quote_filters(xero, sandbox, xero_conformance):
	first, second = customer(xero, 0), customer(xero, 1)
	early = create(xero, quote_body(first, Date="2026-01-10", ExpiryDate="2026-02-10"))
	middle = create(xero, quote_body(second, Date="2026-02-15", ExpiryDate="2026-03-15", QuoteNumber="Q-MID"))
	late = create(xero, quote_body(first, Date="2026-03-20"))
	moved(xero, moved(xero, middle, "SENT"), "ACCEPTED")

	def numbers(**params):
		answer = xero.get("/Quotes", params={"page": 1, **params})
		assert answer.status_code == 200, answer.text
		return [q["QuoteNumber"] for q in answer.json()["Quotes"]]

	assert numbers(Status="ACCEPTED") == ["Q-MID"]
	assert numbers(Status="DRAFT") == [early["QuoteNumber"], late["QuoteNumber"]]
	assert numbers(ContactID=first) == [early["QuoteNumber"], late["QuoteNumber"]]
	assert numbers(DateFrom="2026-02-15") == ["Q-MID", late["QuoteNumber"]]  # inclusive
	assert numbers(DateTo="2026-02-15") == [early["QuoteNumber"], "Q-MID"]
	assert numbers(DateFrom="2026-01-11", DateTo="2026-03-19") == ["Q-MID"]
	assert numbers(ExpiryDateFrom="2026-03-01") == ["Q-MID"]  # a quote without expiry has none to match
	assert numbers(ExpiryDateTo="2026-02-10") == [early["QuoteNumber"]]
	assert numbers(QuoteNumber="q-mid") == ["Q-MID"]
	assert numbers(order="Date DESC") == [late["QuoteNumber"], "Q-MID", early["QuoteNumber"]]
	assert numbers(ContactID=first, Status="ACCEPTED") == []
	later = (sandbox.clock.now() + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
	assert xero.get("/Quotes", headers={"If-Modified-Since": later}).json()["Quotes"] == []
	assert xero.get("/Quotes", params={"Status": "PAID"}).status_code == 400
	with xero_conformance.expect_invalid_request():  # not a date
		assert xero.get("/Quotes", params={"DateFrom": "2026-13-01"}).status_code == 400


def test_an_update_is_the_whole_header(xero):
	quote = create(
		xero,
		quote_body(
			customer(xero),
			LineAmountTypes="INCLUSIVE",
			Reference="PO-1",
			Terms="Net 20",
			Title="Chairs",
			Summary="Two chairs",
			ExpiryDate="2026-04-01",
		),
	)
	assert quote["Total"] == D("20.00")
	# A POST that leaves the header out clears it, and prices the lines again as EXCLUSIVE.
	answer = xero.post(
		f"/Quotes/{quote['QuoteID']}",
		{"Quotes": [{"Contact": {"ContactID": quote["Contact"]["ContactID"]}, "Date": "2026-03-02"}]},
	)
	assert answer.status_code == 200, answer.text
	stripped = decimals(answer)["Quotes"][0]
	assert (stripped["Reference"], stripped["Terms"], stripped["Title"], stripped["Summary"]) == (
		"",
		"",
		"",
		"",
	)
	assert "ExpiryDate" not in stripped
	assert (stripped["LineAmountTypes"], stripped["Total"]) == ("EXCLUSIVE", D("23.00"))
	# Contact and Date must be sent.
	for body in ({"Date": "2026-03-02"}, {"Contact": {"ContactID": quote["Contact"]["ContactID"]}}):
		refused = xero.post(f"/Quotes/{quote['QuoteID']}", {"Quotes": [body]})
		assert refused.status_code == 400, refused.text


def test_an_accepted_quotes_lines_and_amount_type_stay_as_accepted(xero):
	quote = create(xero, quote_body(customer(xero), LineAmountTypes="INCLUSIVE", Reference="PO-9"))
	quote = moved(xero, moved(xero, quote, "SENT"), "ACCEPTED")
	before = get(xero, quote["QuoteID"])
	for body in (
		header(quote, LineItems=[LINE]),
		header(quote, LineAmountTypes="EXCLUSIVE"),
		{k: v for k, v in header(quote, Status="INVOICED").items() if k != "LineAmountTypes"},
	):
		answer = xero.post(f"/Quotes/{quote['QuoteID']}", {"Quotes": [body]})
		assert answer.status_code == 400, answer.text
	assert get(xero, quote["QuoteID"]) == before
	invoiced = moved(xero, quote, "INVOICED")
	assert (invoiced["Total"], invoiced["LineAmountTypes"], invoiced["Reference"]) == (
		D("20.00"),
		"INCLUSIVE",
		"PO-9",
	)


def test_a_repeated_create_with_its_idempotency_key_makes_one_quote(xero):
	body = {"Quotes": [quote_body(customer(xero))]}
	headers = {"Idempotency-Key": "quote-once"}
	first = xero.put("/Quotes", body, headers=headers)
	again = xero.put("/Quotes", body, headers=headers)
	assert first.json()["Quotes"] == again.json()["Quotes"]
	assert len(xero.get("/Quotes").json()["Quotes"]) == 1


def test_unknown_quotes_and_bad_bodies(xero, xero_conformance):
	contact = customer(xero)
	assert xero.get("/Quotes/00000000-0000-0000-0000-000000000000").status_code == 404
	missing = xero.post("/Quotes/00000000-0000-0000-0000-000000000000", {"Quotes": [quote_body(contact)]})
	assert missing.status_code == 404
	with xero_conformance.expect_invalid_request():  # a Title above the spec's maxLength of 100
		refused = xero.put(
			"/Quotes",
			{"Quotes": [quote_body(contact, LineItems=[]), quote_body(contact, Title="x" * 101)]},
			params={"summarizeErrors": "false"},
		)
	assert refused.status_code == 200
	assert [e["StatusAttributeString"] for e in refused.json()["Quotes"]] == ["ERROR", "ERROR"]
	duplicate = create(xero, quote_body(customer(xero), QuoteNumber="QU-0100"))
	again = xero.put(
		"/Quotes", {"Quotes": [quote_body(customer(xero), QuoteNumber=duplicate["QuoteNumber"])]}
	)
	assert again.status_code == 400 and "Quote number must be unique." in error_messages(again)
