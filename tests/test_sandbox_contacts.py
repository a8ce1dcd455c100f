"""Xero sandbox contacts: PUT /Contacts with Xero's rules (unique name among active contacts, unique account
number, a valid email address, sales payment terms), the organisation's address and tax number, and the Xero
client's contact calls, every exchange checked against Xero's OpenAPI spec."""

import uuid

import pytest

from tests.conftest_xero import login
from tests.test_xero_client import client_factory
from tests.test_xero_support import start_sandbox
from xero_sales_orders.xero.client import element_errors, where_string

NAME_TAKEN = (
	"is already assigned to another contact. The contact name must be unique across all active contacts."
)
NUMBER_TAKEN = "The Account Number already exists. Please enter a different Account Number."


@pytest.fixture
def xero(sandbox):
	return login(sandbox)


def put_contact(xero, **fields):
	answer = xero.put("/Contacts", {"Contacts": [fields]}, params={"summarizeErrors": "false"})
	assert answer.status_code == 200, answer.text
	return answer.json()["Contacts"][0]


def test_a_new_contact_is_created_with_its_email_account_number_and_payment_terms(xero):
	created = put_contact(
		xero,
		Name="Harbour Lights Ltd",
		EmailAddress="accounts@harbourlights.example",
		AccountNumber="HL-001",
		PaymentTerms={"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}},
	)
	assert created["StatusAttributeString"] == "OK" and created["ContactID"]
	stored = xero.get(f"/Contacts/{created['ContactID']}").json()["Contacts"][0]
	assert stored["Name"] == "Harbour Lights Ltd"
	assert stored["AccountNumber"] == "HL-001"
	assert stored["EmailAddress"] == "accounts@harbourlights.example"
	assert stored["PaymentTerms"] == {"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}}
	assert stored["ContactStatus"] == "ACTIVE"


def test_a_name_or_account_number_xero_holds_is_refused_with_xeros_words(xero):
	existing = xero.get("/Contacts", params={"where": 'Name=="Boom FM"'}).json()["Contacts"][0]
	same_name = put_contact(xero, Name="boom fm")
	assert same_name["HasValidationErrors"] is True
	assert [e["Message"] for e in same_name["ValidationErrors"]] == [f"The contact name boom fm {NAME_TAKEN}"]
	same_number = put_contact(xero, Name="Boom FM Two", AccountNumber=existing["AccountNumber"].lower())
	assert [e["Message"] for e in same_number["ValidationErrors"]] == [NUMBER_TAKEN]
	# Summarised (Xero's default), the same refusal is a 400 ValidationException naming the element.
	answer = xero.put("/Contacts", {"Contacts": [{"Name": "Boom FM"}]})
	assert answer.status_code == 400
	assert NAME_TAKEN in answer.json()["Elements"][0]["ValidationErrors"][0]["Message"]
	names = [c["Name"] for c in xero.get("/Contacts", params={"includeArchived": "true"}).json()["Contacts"]]
	assert names.count("Boom FM") == 1 and "Boom FM Two" not in names


def test_an_archived_contact_keeps_its_account_number_but_frees_its_name(xero):
	archived = next(
		c
		for c in xero.get("/Contacts", params={"includeArchived": "true"}).json()["Contacts"]
		if c["ContactStatus"] == "ARCHIVED"
	)
	reused_name = put_contact(xero, Name=archived["Name"])
	assert reused_name["StatusAttributeString"] == "OK"
	reused_number = put_contact(xero, Name="Someone Else Ltd", AccountNumber=archived["AccountNumber"])
	assert [e["Message"] for e in reused_number["ValidationErrors"]] == [NUMBER_TAKEN]


@pytest.mark.parametrize(
	"fields, message",
	[
		({"EmailAddress": "not an address"}, "Email address must be valid."),
		(
			{"PaymentTerms": {"Sales": {"Day": 0, "Type": "OFFOLLOWINGMONTH"}}},
			"Due Date for Sales Invoices must be between 1 and 31 when set to the following (or current) month",
		),
		(
			{"PaymentTerms": {"Sales": {"Day": 32, "Type": "OFCURRENTMONTH"}}},
			"Due Date for Sales Invoices must be between 1 and 31 when set to the following (or current) month",
		),
		(
			{"PaymentTerms": {"Sales": {"Day": -1, "Type": "DAYSAFTERBILLDATE"}}},
			"PaymentTerms.Sales.Day must be a whole number of days",
		),
	],
)
def test_bad_contact_fields_are_refused_and_nothing_is_stored(xero, fields, message):
	name = f"Refused {uuid.uuid4().hex[:6]}"
	refused = put_contact(xero, Name=name, **fields)
	assert [e["Message"] for e in refused["ValidationErrors"]] == [message]
	assert xero.get("/Contacts", params={"where": f'Name=="{name}"'}).json()["Contacts"] == []


def test_the_organisation_has_an_address_and_a_tax_number(xero):
	org = xero.get("/Organisation").json()["Organisations"][0]
	assert org["TaxNumber"]
	kinds = {a["AddressType"]: a for a in org["Addresses"]}
	assert set(kinds) == {"POBOX", "STREET"}
	assert kinds["STREET"]["City"] and kinds["STREET"]["Country"]


def test_where_text_literals_keep_accents_and_escaped_quotes(xero):
	name = 'Café "Lumière" \\ Co'
	created = put_contact(xero, Name=name)
	assert created["StatusAttributeString"] == "OK", created
	found = xero.get("/Contacts", params={"where": f"Name=={where_string(name)}"}).json()["Contacts"]
	assert [c["ContactID"] for c in found] == [created["ContactID"]]


@pytest.fixture(scope="module")
def contacts_sandbox():
	running = start_sandbox(tenants=1)
	yield running
	running.stop()


@pytest.fixture
def make_client(contacts_sandbox, xero_conformance):
	make, clients = client_factory(contacts_sandbox, xero_conformance)
	yield make
	for client in clients:
		client.close()


def test_client_creates_a_contact_once_per_idempotency_key(contacts_sandbox, make_client):
	client = make_client()
	body = {"Name": "Keyed Customer Ltd", "EmailAddress": "a@keyed.example", "AccountNumber": "KEY-1"}
	first = client.create_contact(body, idempotency_key="new-contact-1")
	again = client.create_contact(body, idempotency_key="new-contact-1")
	assert element_errors(first) == [] and first["ContactID"] == again["ContactID"]
	assert contacts_sandbox.endpoint_calls("PUT /api.xro/2.0/Contacts") == 2
	found = client.find_contacts(name="keyed customer ltd")
	assert [c["ContactID"] for c in found] == [first["ContactID"]]
	# A new key (a retry after Xero forgot the first) is refused by Xero's own uniqueness: still one contact.
	refused = client.create_contact(body, idempotency_key="new-contact-2")
	assert any("already assigned" in e for e in element_errors(refused))
	assert [c["ContactID"] for c in client.find_contacts(account_number="KEY-1")] == [first["ContactID"]]


def test_client_finds_a_contact_by_name_or_account_number_in_one_call(contacts_sandbox, make_client):
	client = make_client()
	contacts_sandbox.clear_calls()
	found = client.find_contacts(name="Boom FM", account_number="CUST-00001")
	assert sorted(c["Name"] for c in found) == ["ABC Furniture", "Boom FM"]
	assert contacts_sandbox.endpoint_calls("GET /api.xro/2.0/Contacts") == 1
	assert client.find_contacts() == []
