"""The Xero client's credit note, allocation, email, history and contact calls against the sandbox over a real
socket, every exchange checked against Xero's OpenAPI spec, with the calls each one spends."""

import uuid
from datetime import date
from decimal import Decimal

import pytest

from tests.test_xero_client import client_factory, draft_invoice
from tests.test_xero_support import start_sandbox
from xero_sales_orders.xero.client import CREDIT_NOTES_PER_WHERE, XeroValidationError

CREDIT_NOTES = "GET /api.xro/2.0/CreditNotes"


@pytest.fixture(scope="module")
def xero_sandbox():
	running = start_sandbox(tenants=2)
	yield running
	running.stop()


@pytest.fixture
def make_client(xero_sandbox, xero_conformance):
	make, clients = client_factory(xero_sandbox, xero_conformance)
	yield make
	for client in clients:
		client.close()


def credit_note(contact_id: str, number: str | None = None, **fields) -> dict:
	note = {
		"Type": "ACCRECCREDIT",
		"Contact": {"ContactID": contact_id},
		"Date": "2026-03-03",
		"Status": "AUTHORISED",
		"LineAmountTypes": "Exclusive",
		"LineItems": [
			{
				"Description": "Return",
				"Quantity": Decimal("1"),
				"LineAmount": Decimal("12.35"),
				"AccountCode": "200",
			}
		],
		**fields,
	}
	if number:
		note["CreditNoteNumber"] = number
	return note


def approved_invoice(client) -> dict:
	[invoice] = client.create_invoices([draft_invoice(client, Status="AUTHORISED")])
	return invoice


def test_a_credit_note_is_created_allocated_and_read_back(xero_sandbox, make_client):
	client = make_client()
	invoice = approved_invoice(client)
	xero_sandbox.clear_calls()
	key = uuid.uuid4().hex
	[note] = client.create_credit_notes(
		[credit_note(invoice["Contact"]["ContactID"], "XSO-T-CN1")], idempotency_key=key
	)
	assert note["CreditNoteID"] and (note["SubTotal"], note["Total"]) == (Decimal("12.35"), Decimal("14.20"))
	# The same key replays Xero's first answer: one credit note.
	[again] = client.create_credit_notes(
		[credit_note(invoice["Contact"]["ContactID"], "XSO-T-CN1")], idempotency_key=key
	)
	assert again["CreditNoteID"] == note["CreditNoteID"]
	allocation = client.allocate_credit_note(
		note["CreditNoteID"],
		invoice["InvoiceID"],
		note["Total"],
		date(2026, 3, 3),
		idempotency_key=key + "-a",
	)
	assert allocation["Amount"] == Decimal("14.20")
	[credited] = client.invoices(ids=[invoice["InvoiceID"]])
	assert credited["AmountCredited"] == Decimal("14.20")
	assert credited["AmountDue"] == invoice["Total"] - Decimal("14.20")
	[by_number] = client.credit_notes(numbers=["XSO-T-CN1"])
	assert by_number["CreditNoteID"] == note["CreditNoteID"] and by_number["Status"] == "PAID"
	assert by_number["Allocations"][0]["Invoice"]["InvoiceID"] == invoice["InvoiceID"]
	assert by_number["LineItems"][0]["LineAmount"] == Decimal("12.35")
	assert by_number["LineItems"][0]["UnitAmount"] == Decimal("12.35")
	calls = xero_sandbox.calls()["by_endpoint"]
	# create (+ the replay), allocate, the invoice read back and the lookup: one call each.
	assert calls["PUT /api.xro/2.0/CreditNotes"] == 2
	assert calls["PUT /api.xro/2.0/CreditNotes/{id}/Allocations"] == 1
	assert calls[CREDIT_NOTES] == 1


def test_a_refused_allocation_raises_xeros_message(make_client):
	client = make_client()
	invoice = approved_invoice(client)
	bigger = credit_note(invoice["Contact"]["ContactID"])
	bigger["LineItems"][0]["LineAmount"] = invoice["Total"] + 1
	[note] = client.create_credit_notes([bigger])
	with pytest.raises(XeroValidationError, match="greater than amount outstanding"):
		client.allocate_credit_note(
			note["CreditNoteID"], invoice["InvoiceID"], note["Total"], date(2026, 3, 3)
		)


def test_ids_and_numbers_go_into_where_in_chunks(xero_sandbox, make_client):
	client = make_client()
	contact = client.get("/Contacts", {"page": 1, "pageSize": 1})["Contacts"][0]["ContactID"]
	notes = client.create_credit_notes(
		[credit_note(contact, f"CH-{n}") for n in range(CREDIT_NOTES_PER_WHERE + 5)]
	)
	ids = [n["CreditNoteID"] for n in notes]
	xero_sandbox.clear_calls()
	assert {n["CreditNoteID"] for n in client.credit_notes(ids=ids + ids[:3])} == set(ids)
	assert xero_sandbox.endpoint_calls(CREDIT_NOTES) == 2  # 30 ids, 25 to a call
	assert list(client.credit_notes(ids=[])) == []
	assert xero_sandbox.endpoint_calls(CREDIT_NOTES) == 2
	found = list(
		client.credit_notes(numbers=["CH-1", 'CH-"2'])
	)  # a quote in a number is escaped, not injected
	assert [n["CreditNoteNumber"] for n in found] == ["CH-1"]
	with pytest.raises(ValueError):
		list(client.credit_notes(ids=['x") OR (1==1']))
	since = list(client.credit_notes(where='Type=="ACCRECCREDIT"', modified_since=date(2999, 1, 1)))
	assert since == []


def test_approve_email_history_and_the_contact(xero_sandbox, make_client):
	client = make_client()
	[draft] = client.create_invoices([draft_invoice(client)])
	contact = client.contact(draft["Contact"]["ContactID"])
	assert contact["EmailAddress"]
	assert client.contact(str(uuid.uuid4())) is None
	with pytest.raises(XeroValidationError, match="not DRAFT"):
		client.email_invoice(draft["InvoiceID"])
	approved = client.approve_invoice(draft["InvoiceID"], idempotency_key=uuid.uuid4().hex)
	assert approved["Status"] == "AUTHORISED"
	xero_sandbox.clear_calls()
	assert client.email_invoice(draft["InvoiceID"], idempotency_key=uuid.uuid4().hex) is None
	assert xero_sandbox.endpoint_calls("POST /api.xro/2.0/Invoices/{id}/Email") == 1
	[sent] = client.invoices(ids=[draft["InvoiceID"]])
	assert sent["SentToContact"] is True
	record = client.add_history(draft["InvoiceID"], "Raised from Xero Sales Order XSO-00009 by Jane Doe")
	assert record["Details"] == "Raised from Xero Sales Order XSO-00009 by Jane Doe"
	notes = [r["Details"] for r in client.history(draft["InvoiceID"])]
	assert notes[-1] == "Raised from Xero Sales Order XSO-00009 by Jane Doe"
	with pytest.raises(ValueError, match="250"):
		client.add_history(draft["InvoiceID"], "x" * 251)
