"""The pure rules behind the order form's new Xero contact, the invoice's chosen date / due date / status, and
the addresses the order confirmation prints."""

from datetime import date

import pytest

from xero_sales_orders.core.errors import ContactRuleError, InvoiceOptionError, InvoicingError
from xero_sales_orders.core.invoice_options import InvoiceOptions, parse_invoice_options
from xero_sales_orders.core.master_fields import contact_fields, organisation_fields, postal_address
from xero_sales_orders.core.new_contacts import (
	NewContact,
	holder,
	parse_new_contact,
	parse_request_id,
	taken_by,
)


def test_a_new_contact_is_normalised_and_sent_as_xero_takes_it():
	new = parse_new_contact(
		"  Harbour   Lights Ltd ", "accounts@harbour.example", " HL-1 ", "20", "offollowingmonth"
	)
	assert new == NewContact("Harbour Lights Ltd", "accounts@harbour.example", "HL-1", 20, "OFFOLLOWINGMONTH")
	assert new.xero_body() == {
		"Name": "Harbour Lights Ltd",
		"EmailAddress": "accounts@harbour.example",
		"AccountNumber": "HL-1",
		"PaymentTerms": {"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}},
	}
	assert parse_new_contact("Only A Name", "", None, "", "").xero_body() == {"Name": "Only A Name"}


@pytest.mark.parametrize(
	"args, message",
	[
		(("",), "Give the contact's name"),
		(("   ",), "Give the contact's name"),
		((None,), "Give the contact's name"),
		((["Boom FM"],), "Name must be text"),
		(("x" * 256,), "Name must be at most 255 characters"),
		(("Ltd", "not-an-email"), "is not an email address"),
		(("Ltd", None, "A" * 51), "Account Number must be at most 50 characters"),
		(("Ltd", None, None, "20", "NEXTWEEK"), "Payment terms type must be one of"),
		(("Ltd", None, None, "twenty", "DAYSAFTERBILLDATE"), "must be a whole number"),
		(("Ltd", None, None, "0", "OFFOLLOWINGMONTH"), "day of the month from 1 to 31"),
		(("Ltd", None, None, "32", "OFCURRENTMONTH"), "day of the month from 1 to 31"),
		(("Ltd", None, None, "-3", "DAYSAFTERBILLDATE"), "from 0 to 366 days"),
		(("Ltd", None, None, None, "DAYSAFTERBILLDATE"), "Give the payment terms day"),
		(("Ltd", None, None, "14", None), "Give the payment terms type"),
	],
)
def test_fields_xero_would_refuse_are_refused_with_the_reason(args, message):
	with pytest.raises(ContactRuleError, match=message):
		parse_new_contact(*args)


def test_request_ids_are_short_plain_keys():
	assert parse_request_id(None) is None
	assert parse_request_id("a1b2c3d4e5f6") == "a1b2c3d4e5f6"
	for bad in ("short", "has space in it", "x" * 65, 12345678, "new-contact/../x"):
		with pytest.raises(ContactRuleError):
			parse_request_id(bad)


def test_xeros_refusals_of_a_contact_it_holds_are_recognised():
	assert (
		taken_by(
			[
				"The contact name Boom FM is already assigned to another contact. "
				"The contact name must be unique across all active contacts."
			]
		)
		== "name"
	)
	assert (
		taken_by(["The Account Number already exists. Please enter a different Account Number."])
		== "account_number"
	)
	assert taken_by(["Email address must be valid."]) is None


def test_the_holder_is_the_active_contact_of_that_name_or_the_one_of_that_account_number():
	new = NewContact("Boom FM", account_number="CUST-7")
	contacts = [
		{"ContactID": "a", "Name": "BOOM FM", "ContactStatus": "ARCHIVED", "AccountNumber": "OLD"},
		{"ContactID": "b", "Name": "boom fm", "ContactStatus": "ACTIVE"},
		{"ContactID": "c", "Name": "Other", "ContactStatus": "ARCHIVED", "AccountNumber": "cust-7"},
	]
	assert holder(contacts, new, "name")["ContactID"] == "b"
	assert holder(contacts, new, "account_number")["ContactID"] == "c"
	assert holder(contacts[:1], new, "name") is None


def test_postal_address_prefers_the_po_box_and_skips_empty_parts():
	addresses = [
		{"AddressType": "STREET", "AddressLine1": "1 Main Street", "City": "Wellington"},
		{
			"AddressType": "POBOX",
			"AttentionTo": "Accounts",
			"AddressLine1": "PO Box 1000",
			"AddressLine2": "",
			"City": "Wellington",
			"PostalCode": "6011",
			"Country": "New Zealand",
		},
	]
	assert postal_address(addresses) == "Attn: Accounts\nPO Box 1000\nWellington 6011\nNew Zealand"
	assert postal_address(addresses, ("STREET",)) == "1 Main Street\nWellington"
	assert postal_address([{"AddressType": "POBOX"}, addresses[0]]) == "1 Main Street\nWellington"
	assert postal_address([]) is None and postal_address(None) is None
	assert contact_fields({"ContactID": "x", "Name": "N", "Addresses": addresses})["address"].startswith(
		"Attn"
	)


def test_organisation_fields_are_the_seller_block():
	org = {
		"Name": "Demo Company (NZ)",
		"LegalName": "Demo Company (NZ) Limited",
		"TaxNumber": "123-456-789",
		"Addresses": [
			{"AddressType": "POBOX", "AddressLine1": "PO Box 1234", "City": "Wellington"},
			{"AddressType": "STREET", "AddressLine1": "23 Main Street", "City": "Wellington"},
		],
	}
	assert organisation_fields(org) == {
		"legal_name": "Demo Company (NZ) Limited",
		"organisation_address": "23 Main Street\nWellington",
		"tax_number": "123-456-789",
	}
	assert organisation_fields({"Name": "Bare"}) == {
		"legal_name": "Bare",
		"organisation_address": None,
		"tax_number": None,
	}


TODAY = date(2026, 5, 10)


def test_invoice_options_are_parsed_and_default_to_the_organisations():
	assert parse_invoice_options(today=TODAY) == InvoiceOptions()
	assert parse_invoice_options("2026-05-01", "2026-05-31", "authorised", today=TODAY) == InvoiceOptions(
		date(2026, 5, 1), date(2026, 5, 31), "AUTHORISED"
	)
	assert parse_invoice_options(None, "2026-05-10", "DRAFT", today=TODAY).due_date == TODAY


@pytest.mark.parametrize(
	"args, message",
	[
		(("10/05/2026",), "Invoice Date must be a date as YYYY-MM-DD"),
		(("2026-02-30",), "Invoice Date must be a date"),
		((None, 20260510), "Due Date must be a date"),
		(("2026-05-10", "2026-05-09"), "Due Date 2026-05-09 is before the invoice's date 2026-05-10"),
		((None, "2026-05-09"), "before the invoice's date 2026-05-10"),
		((None, None, "PAID"), "Status must be DRAFT or AUTHORISED"),
		((None, None, "SUBMITTED"), "Status must be DRAFT or AUTHORISED"),
		((None, None, 1), "Status must be DRAFT or AUTHORISED"),
	],
)
def test_invoice_options_xero_would_not_take_are_refused(args, message):
	with pytest.raises(InvoiceOptionError, match=message) as refused:
		parse_invoice_options(*args, today=TODAY)
	assert isinstance(refused.value, InvoicingError)  # answered as a malformed request (400)
