"""Xero sandbox: credit notes and allocations, invoice email, history and Url, as Xero's rules have them (facts
§11), every exchange checked against Xero's OpenAPI spec."""

import json
from decimal import Decimal as D

import pytest
import requests

from tests.conftest_xero import login
from tests.test_sandbox_invoices import create, customer, decimals, invoice_body
from tests.test_sandbox_webhooks import Receiver

LINE = {"Description": "Widget", "Quantity": 3, "UnitAmount": 10, "AccountCode": "200", "TaxType": "OUTPUT2"}


@pytest.fixture
def xero(sandbox):
	return login(sandbox)


def authorised_invoice(xero, contact=None, lines=None, **fields) -> dict:
	return create(
		xero, invoice_body(contact or customer(xero), lines or [LINE], Status="AUTHORISED", **fields)
	)


def credit_note(contact_id, lines=None, **fields) -> dict:
	return {
		"Type": "ACCRECCREDIT",
		"Contact": {"ContactID": contact_id},
		"Status": "AUTHORISED",
		"LineItems": lines
		or [
			{
				"Description": "Widget",
				"Quantity": 1,
				"LineAmount": 10,
				"AccountCode": "200",
				"TaxType": "OUTPUT2",
			}
		],
		**fields,
	}


def put_credit_notes(xero, *notes, **kwargs):
	return xero.put(
		"/CreditNotes",
		{"CreditNotes": list(notes)},
		params={"summarizeErrors": "false", "unitdp": 4},
		**kwargs,
	)


def created(xero, note: dict) -> dict:
	answer = put_credit_notes(xero, note)
	assert answer.status_code == 200, answer.text
	element = decimals(answer)["CreditNotes"][0]
	assert element["StatusAttributeString"] == "OK", element
	return element


def allocate(xero, note_id, invoice_id, amount, date="2026-05-01", **kwargs):
	body = {"Allocations": [{"Invoice": {"InvoiceID": invoice_id}, "Amount": float(amount), "Date": date}]}
	return xero.put(f"/CreditNotes/{note_id}/Allocations", body, **kwargs)


def invoice(xero, invoice_id) -> dict:
	return decimals(xero.get(f"/Invoices/{invoice_id}"))["Invoices"][0]


def refusal(answer) -> str:
	assert answer.status_code == 400, answer.text
	body = answer.json()
	messages = [body.get("Message", "")]
	for element in body.get("Elements") or []:
		messages += [e["Message"] for e in element.get("ValidationErrors", [])]
	return " ".join(messages)


def test_a_credit_note_is_priced_by_xeros_arithmetic_and_numbered(xero):
	contact = customer(xero)
	lines = [
		# Quantity and LineAmount: Xero works out the unit amount and keeps the amount as sent.
		{
			"Description": "Part",
			"Quantity": 3,
			"LineAmount": 1.00,
			"AccountCode": "200",
			"TaxType": "OUTPUT2",
		},
		# A remainder's tax that differs from Xero's rounding is taken as sent.
		{
			"Description": "Rest",
			"Quantity": 2,
			"LineAmount": 0.67,
			"TaxAmount": 0.10,
			"AccountCode": "200",
			"TaxType": "OUTPUT2",
		},
	]
	note = created(xero, credit_note(contact, lines, Reference="Return of 3"))
	assert note["CreditNoteNumber"] == "CN-0001" and note["Type"] == "ACCRECCREDIT"
	assert [(ln["UnitAmount"], ln["LineAmount"], ln["TaxAmount"]) for ln in note["LineItems"]] == [
		(D("0.3333"), D("1.00"), D("0.15")),
		(D("0.335"), D("0.67"), D("0.10")),
	]
	assert (note["SubTotal"], note["TotalTax"], note["Total"], note["RemainingCredit"]) == (
		D("1.67"),
		D("0.25"),
		D("1.92"),
		D("1.92"),
	)
	assert note["Allocations"] == [] and note["Status"] == "AUTHORISED"
	assert created(xero, credit_note(contact))["CreditNoteNumber"] == "CN-0002"
	assert created(xero, credit_note(contact, CreditNoteNumber="XSO-00001-1-CN1"))["CreditNoteNumber"] == (
		"XSO-00001-1-CN1"
	)


def test_credit_note_validation(xero, xero_conformance):
	contact = customer(xero)
	discounted = [{**LINE, "DiscountRate": 10}]
	no_account = [{"Description": "W", "Quantity": 1, "UnitAmount": 5}]
	with (
		xero_conformance.expect_invalid_request()
	):  # Type ACCREC is not a credit note type in the spec either
		answer = put_credit_notes(
			xero,
			credit_note(contact, discounted),
			credit_note(contact, no_account),
			credit_note(contact, Type="ACCREC"),
			credit_note(contact, Status="PAID"),
			credit_note(contact, CurrencyCode="JPY"),
		)
	errors = [
		" ".join(e["Message"] for e in el.get("ValidationErrors", [])) for el in answer.json()["CreditNotes"]
	]
	assert "Discounts cannot be used on credit notes" in errors[0]
	assert "Account code must be specified on every line" in errors[1]
	assert "ACCRECCREDIT or ACCPAYCREDIT" in errors[2]
	assert "cannot be created with the status PAID" in errors[3]
	assert "Organisation is not subscribed to currency JPY" in errors[4]  # Xero's words (facts §11)
	# Without summarizeErrors=false a bad element is Xero's 400 ValidationException.
	assert "Discounts" in refusal(
		xero.put("/CreditNotes", {"CreditNotes": [credit_note(contact, discounted)]})
	)
	assert xero.get("/CreditNotes").json()["CreditNotes"] == []


def test_an_allocation_credits_the_invoice_and_spends_the_credit(xero):
	contact = customer(xero)
	inv = authorised_invoice(xero, contact)  # 3 x 10 + 15 % = 34.50
	note = created(xero, credit_note(contact))  # 11.50
	answer = allocate(xero, note["CreditNoteID"], inv["InvoiceID"], "11.50")
	assert answer.status_code == 200, answer.text
	allocation = decimals(answer)["Allocations"][0]
	assert (
		allocation["Amount"] == D("11.50")
		and allocation["CreditNote"]["CreditNoteID"] == note["CreditNoteID"]
	)
	after = invoice(xero, inv["InvoiceID"])
	assert (after["AmountCredited"], after["AmountDue"], after["Status"]) == (
		D("11.50"),
		D("23.00"),
		"AUTHORISED",
	)
	assert after["CreditNotes"][0]["CreditNoteNumber"] == note["CreditNoteNumber"]
	assert after["CreditNotes"][0]["AppliedAmount"] == D("11.50")
	assert after["UpdatedDateUTC"] != inv["UpdatedDateUTC"]
	spent = decimals(xero.get(f"/CreditNotes/{note['CreditNoteID']}"))["CreditNotes"][0]
	assert (spent["RemainingCredit"], spent["Status"]) == (D("0.00"), "PAID")
	assert spent["Allocations"][0]["Invoice"]["InvoiceID"] == inv["InvoiceID"]
	# A fully allocated credit note is frozen; the credited invoice cannot be voided.
	frozen = xero.post(f"/CreditNotes/{note['CreditNoteID']}", {"CreditNotes": [{"LineItems": [LINE]}]})
	assert "cannot be edited as it has a payment or credit note allocated" in refusal(frozen)
	void = xero.post("/Invoices", {"Invoices": [{"InvoiceID": inv["InvoiceID"], "Status": "VOIDED"}]})
	assert "credit allocated" in refusal(void)


def test_allocation_rules(xero):
	contact = customer(xero)
	inv = authorised_invoice(xero, contact)  # 34.50 due
	big = created(xero, credit_note(contact, [{**LINE, "Quantity": 4}]))  # 46.00
	assert "greater than amount outstanding" in refusal(
		allocate(xero, big["CreditNoteID"], inv["InvoiceID"], "46.00")
	)
	small = created(xero, credit_note(contact))  # 11.50
	assert "remaining credit" in refusal(allocate(xero, small["CreditNoteID"], inv["InvoiceID"], "12.00"))
	assert "greater than zero" in refusal(allocate(xero, small["CreditNoteID"], inv["InvoiceID"], "0"))
	draft_note = created(xero, credit_note(contact, Status="DRAFT"))
	assert "Only an AUTHORISED credit note" in refusal(
		allocate(xero, draft_note["CreditNoteID"], inv["InvoiceID"], "1")
	)
	draft_invoice = create(xero, invoice_body(contact))
	assert "AUTHORISED invoice" in refusal(
		allocate(xero, small["CreditNoteID"], draft_invoice["InvoiceID"], "1")
	)
	bill_line = {**LINE, "AccountCode": "400", "TaxType": "INPUT2"}
	bill = create(xero, {**invoice_body(contact, [bill_line]), "Type": "ACCPAY", "Status": "AUTHORISED"})
	assert "incorrect invoice type" in refusal(allocate(xero, small["CreditNoteID"], bill["InvoiceID"], "1"))
	# The whole amount due: the invoice is paid off by credit, and a further allocation is refused.
	assert allocate(xero, big["CreditNoteID"], inv["InvoiceID"], "34.50").status_code == 200
	paid = invoice(xero, inv["InvoiceID"])
	assert (paid["Status"], paid["AmountDue"], paid["AmountCredited"]) == ("PAID", D("0.00"), D("34.50"))
	assert "already been paid off" in refusal(allocate(xero, small["CreditNoteID"], inv["InvoiceID"], "1"))
	left = decimals(xero.get(f"/CreditNotes/{big['CreditNoteID']}"))["CreditNotes"][0]
	assert (left["Status"], left["RemainingCredit"]) == ("AUTHORISED", D("11.50"))
	assert "remove its allocations" in refusal(
		xero.post(f"/CreditNotes/{big['CreditNoteID']}", {"CreditNotes": [{"Status": "VOIDED"}]})
	)
	# Deleting the allocation gives both back.
	allocation_id = left["Allocations"][0]["AllocationID"]
	undone = xero.api("DELETE", f"/CreditNotes/{big['CreditNoteID']}/Allocations/{allocation_id}")
	assert undone.status_code == 200 and undone.json()["IsDeleted"] is True
	back = invoice(xero, inv["InvoiceID"])
	assert (back["Status"], back["AmountDue"], back["CreditNotes"]) == ("AUTHORISED", D("34.50"), [])
	voided = xero.post(f"/CreditNotes/{big['CreditNoteID']}", {"CreditNotes": [{"Status": "VOIDED"}]})
	assert voided.status_code == 200 and voided.json()["CreditNotes"][0]["Status"] == "VOIDED"


def test_credit_notes_are_listed_by_where_paged_and_since(xero):
	contact = customer(xero)
	notes = [created(xero, credit_note(contact, CreditNoteNumber=f"N-{n}")) for n in range(3)]
	by_number = xero.get("/CreditNotes", params={"where": 'CreditNoteNumber=="N-1"'}).json()["CreditNotes"]
	assert [n["CreditNoteID"] for n in by_number] == [notes[1]["CreditNoteID"]]
	assert "LineItems" not in by_number[0]  # unpaged lists carry no lines, as for invoices
	ids = " OR ".join(f'CreditNoteID==Guid("{n["CreditNoteID"]}")' for n in notes[:2])
	paged = xero.get("/CreditNotes", params={"where": ids, "page": 1, "pageSize": 100, "unitdp": 4}).json()
	assert sorted(n["CreditNoteNumber"] for n in paged["CreditNotes"]) == ["N-0", "N-1"]
	assert paged["pagination"]["itemCount"] == 2 and paged["CreditNotes"][0]["LineItems"]
	later = xero.get("/CreditNotes", headers={"If-Modified-Since": "2999-01-01T00:00:00Z"}).json()
	assert later["CreditNotes"] == []
	assert xero.get("/CreditNotes/00000000-0000-4000-8000-000000000001").status_code == 404


def test_email_sends_approved_invoices_to_a_contact_with_an_address(xero, sandbox):
	contact = customer(xero)
	draft = create(xero, invoice_body(contact))
	assert "not DRAFT" in refusal(xero.post(f"/Invoices/{draft['InvoiceID']}/Email", {}))
	inv = authorised_invoice(xero, contact)
	assert inv["SentToContact"] is False
	sent = xero.post(f"/Invoices/{inv['InvoiceID']}/Email", {})
	assert sent.status_code == 204 and sent.content == b""
	after = invoice(xero, inv["InvoiceID"])
	assert after["SentToContact"] is True and after["UpdatedDateUTC"] != inv["UpdatedDateUTC"]
	history = xero.get(f"/Invoices/{inv['InvoiceID']}/History").json()["HistoryRecords"]
	assert history[-1]["Changes"] == "Sent" and "@" in history[-1]["Details"]

	nobody = xero.put("/Contacts", {"Contacts": [{"Name": "No Email Ltd"}]}).json()["Contacts"][0]
	unsendable = authorised_invoice(xero, nobody["ContactID"])
	answer = xero.post(f"/Invoices/{unsendable['InvoiceID']}/Email", {})
	assert "No Email Ltd has no email address" in refusal(answer)
	assert invoice(xero, unsendable["InvoiceID"])["SentToContact"] is False


def test_history_notes_and_url(xero):
	inv = authorised_invoice(xero, Url="http://127.0.0.1:8000/app/xero-sales-order/XSO-00001")
	assert inv["Url"] == "http://127.0.0.1:8000/app/xero-sales-order/XSO-00001"
	note = "Raised from Xero Sales Order XSO-00001 (PO-4471) by Jane Doe <jane@example.com>"
	answer = xero.put(f"/Invoices/{inv['InvoiceID']}/History", {"HistoryRecords": [{"Details": note}]})
	assert answer.status_code == 200 and answer.json()["HistoryRecords"][0]["Details"] == note
	records = xero.get(f"/Invoices/{inv['InvoiceNumber']}/History").json()["HistoryRecords"]
	assert records[-1] == {**records[-1], "Details": note, "User": "System Generated", "Changes": "Note"}
	too_long = xero.put(f"/Invoices/{inv['InvoiceID']}/History", {"HistoryRecords": [{"Details": "x" * 251}]})
	assert "at most 250 characters" in refusal(too_long)
	contact = customer(xero)
	cn = created(xero, credit_note(contact))
	assert xero.put(f"/CreditNotes/{cn['CreditNoteID']}/History", {"HistoryRecords": [{"Details": "ok"}]}).ok


def test_a_creditnote_webhook_carries_its_type_and_status(sandbox, xero, xero_conformance):
	contact = customer(xero)
	note = created(xero, credit_note(contact))
	receiver = Receiver(sandbox.webhook_key)
	try:
		event = {
			"tenant_id": xero.tenant_id,
			"category": "CREDITNOTE",
			"type": "CREATE",
			"resource_id": note["CreditNoteID"],
		}
		answer = requests.post(
			f"{sandbox.url}/_sandbox/webhooks/send", json={"events": [event], "url": receiver.url}, timeout=10
		)
		assert answer.json()["status"] == 200
		body, headers = receiver.deliveries[-1]
	finally:
		receiver.stop()
	sent = json.loads(body)["events"][0]
	assert sent["data"] == {"Type": "ACCRECCREDIT", "Status": "AUTHORISED"}
	assert sent["resourceUrl"].endswith(f"/api.xro/2.0/CreditNotes/{note['CreditNoteID']}")
	assert xero_conformance.check_webhook(body, headers, name="creditNotes") == []
	unknown = {**event, "resource_id": "00000000-0000-4000-8000-000000000001"}
	answer = requests.post(
		f"{sandbox.url}/_sandbox/webhooks/send",
		json={"events": [unknown], "url": "http://127.0.0.1:1"},
		timeout=10,
	)
	assert answer.status_code == 400 and "pass its data" in answer.json()["error"]
