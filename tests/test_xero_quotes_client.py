"""The Xero client's quotes against the sandbox over a real socket: paging by 100, filters, one quote, and a
status change that keeps the quote as it is (idempotent, retried when Xero is down), checked against the spec."""

from datetime import date
from decimal import Decimal

import pytest

from tests.test_xero_client import client_factory
from tests.test_xero_support import start_sandbox
from xero_sales_orders.xero.client import (
	QUOTES_PER_PAGE,
	XeroNotFoundError,
	XeroUnavailableError,
	XeroValidationError,
	quote_status_update,
)

QUOTES = "/api.xro/2.0/Quotes"


@pytest.fixture(scope="module")
def xero_sandbox():
	running = start_sandbox(tenants=1)
	yield running
	running.stop()


@pytest.fixture
def make_client(xero_sandbox, xero_conformance):
	make, clients = client_factory(xero_sandbox, xero_conformance)
	yield make
	for client in clients:
		client.close()


def contact_ids(client) -> list[str]:
	return [c["ContactID"] for c in client.get("/Contacts", {"page": 1, "pageSize": 3})["Contacts"]]


def new_quotes(client, count: int = 1, contact_id: str | None = None, **fields) -> list[dict]:
	contact_id = contact_id or contact_ids(client)[0]
	body = {
		"Contact": {"ContactID": contact_id},
		"Date": "2026-05-04",
		"LineItems": [
			{
				"Description": "Desk",
				"Quantity": Decimal("3"),
				"UnitAmount": Decimal("0.3333"),
				"TaxType": "OUTPUT2",
			}
		],
		**fields,
	}
	answer = client.put("/Quotes", {"Quotes": [body] * count}, params={"summarizeErrors": "false"})
	return answer["Quotes"]


def accepted(client, quote: dict) -> dict:
	return client.set_quote_status(client.set_quote_status(quote, "SENT"), "ACCEPTED")


def test_quotes_come_100_a_call_with_their_lines(xero_sandbox, make_client):
	client = make_client()
	new_quotes(client, 2 * QUOTES_PER_PAGE + 1)
	xero_sandbox.clear_calls()
	listed = list(client.quotes())
	assert len({q["QuoteID"] for q in listed}) == 201
	assert all(q["LineItems"] and isinstance(q["Total"], Decimal) for q in listed)
	assert xero_sandbox.endpoint_calls(f"GET {QUOTES}") == 3
	xero_sandbox.clear_calls()
	assert len(client.quote_page(3)) == 1
	assert [q["QuoteID"] for q in client.quotes(first_page=3)] == [listed[-1]["QuoteID"]]
	assert xero_sandbox.endpoint_calls(f"GET {QUOTES}") == 2


def test_exactly_100_quotes_cost_two_calls(xero_sandbox, make_client):
	client = make_client()
	new_quotes(client, QUOTES_PER_PAGE)
	xero_sandbox.clear_calls()
	assert len(list(client.quotes())) == 100
	assert xero_sandbox.endpoint_calls(f"GET {QUOTES}") == 2  # the second, empty page says it was the last


def test_quote_filters_go_to_xero(make_client):
	client = make_client()
	first, second = contact_ids(client)[:2]
	[mine] = new_quotes(client, contact_id=first, Date="2026-02-01", ExpiryDate="2026-03-01")
	[theirs] = new_quotes(client, contact_id=second, Date="2026-02-20")
	mine = accepted(client, mine)

	def numbers(**filters):
		return [q["QuoteNumber"] for q in client.quotes(**filters)]

	assert numbers(status="ACCEPTED") == [mine["QuoteNumber"]]
	assert numbers(contact_id=second) == [theirs["QuoteNumber"]]
	assert numbers(date_from=date(2026, 2, 10)) == [theirs["QuoteNumber"]]
	assert numbers(date_to="2026-02-01", status="ACCEPTED") == [mine["QuoteNumber"]]
	assert numbers(expiry_from=date(2026, 2, 15), expiry_to=date(2026, 3, 1)) == [mine["QuoteNumber"]]
	assert numbers(number=theirs["QuoteNumber"]) == [theirs["QuoteNumber"]]
	assert numbers(order="Date DESC") == [theirs["QuoteNumber"], mine["QuoteNumber"]]


def test_one_quote_and_an_unknown_one(make_client):
	client = make_client()
	[created] = new_quotes(client)
	assert client.quote(created["QuoteID"])["QuoteNumber"] == created["QuoteNumber"]
	with pytest.raises(XeroNotFoundError):
		client.quote("00000000-0000-0000-0000-000000000000")


def test_invoicing_a_quote_keeps_everything_else_as_it_is(make_client):
	client = make_client()
	[quote] = new_quotes(
		client,
		LineAmountTypes="INCLUSIVE",
		Reference="PO-4471",
		Terms="Net 20",
		Title="Oak desks",
		Summary="Three desks",
		ExpiryDate="2026-06-30",
	)
	quote = accepted(client, quote)
	before = client.quote(quote["QuoteID"])
	invoiced = client.set_quote_status(before, "INVOICED")
	after = client.quote(quote["QuoteID"])
	assert after["Status"] == invoiced["Status"] == "INVOICED"
	for key in ("Reference", "Terms", "Title", "Summary", "ExpiryDateString", "LineAmountTypes", "Contact"):
		assert after[key] == before[key], key
	for key in ("SubTotal", "TotalTax", "Total", "TotalDiscount"):
		assert after[key] == before[key], key
	assert after["LineItems"] == before["LineItems"]
	# INVOICED is final in Xero: a second change is refused, which is why the app looks before it changes it.
	with pytest.raises(XeroValidationError):
		client.set_quote_status(after, "INVOICED")


def test_the_status_body_resends_the_header_and_leaves_the_lines_out():
	quote = {
		"QuoteID": "be59294f-2a9c-4cee-8c64-0f0ddbc1883a",
		"QuoteNumber": "QU-0001",
		"Reference": "REF-123",
		"Terms": "",
		"Contact": {"ContactID": "060816db-0ed7-44de-ab58-8fee9316fcd5", "Name": "Adam"},
		"LineItems": [{"Description": "Fish out of Water"}],
		"Date": "/Date(1571875200000)/",
		"ExpiryDate": "/Date(1571961600000)/",
		"Status": "ACCEPTED",
		"CurrencyCode": "AUD",
		"Title": "Your Quote",
		"LineAmountTypes": "INCLUSIVE",
	}
	assert quote_status_update(quote, "INVOICED") == {
		"QuoteNumber": "QU-0001",
		"Contact": {"ContactID": "060816db-0ed7-44de-ab58-8fee9316fcd5"},
		"Date": "2019-10-24",
		"ExpiryDate": "2019-10-25",
		"Status": "INVOICED",
		"LineAmountTypes": "INCLUSIVE",
		"Reference": "REF-123",
		"Title": "Your Quote",
		"CurrencyCode": "AUD",
	}


def test_a_status_change_is_retried_when_xero_is_down_and_applied_once(xero_sandbox, make_client):
	client = make_client()
	quote = accepted(client, new_quotes(client)[0])
	xero_sandbox.fault(kind="503", count=2, path=f"{QUOTES}/{quote['QuoteID']}", method="POST")
	assert client.set_quote_status(quote, "INVOICED", idempotency_key="invoiced-once")["Status"] == "INVOICED"
	assert client.quote(quote["QuoteID"])["Status"] == "INVOICED"
	assert xero_sandbox.calls()["faults"] == {"503": 2}
	# The same request with its key again is Xero's first answer replayed, not a refusal.
	assert client.set_quote_status(quote, "INVOICED", idempotency_key="invoiced-once")["Status"] == "INVOICED"
	other = accepted(client, new_quotes(client)[0])
	xero_sandbox.fault(kind="503", count=10, path=QUOTES, method="POST")
	with pytest.raises(XeroUnavailableError):
		client.set_quote_status(other, "INVOICED")
	xero_sandbox.control("DELETE", "faults")
	assert client.quote(other["QuoteID"])["Status"] == "ACCEPTED"
