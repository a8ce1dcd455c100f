"""Xero sandbox: tracking categories, branding themes, currencies and contacts' payment terms, with Xero's rules
for a line's tracking, an invoice's branding theme and its currency rate; every exchange checked against the
OpenAPI spec (the conformance fixture)."""

import contextlib
from datetime import date
from decimal import Decimal as D

import pytest

from tests.conftest_xero import login


@pytest.fixture
def xero(sandbox):
	return login(sandbox)


def categories(xero, **params) -> list[dict]:
	answer = xero.get("/TrackingCategories", params=params)
	assert answer.status_code == 200, answer.text
	return answer.json()["TrackingCategories"]


def option(xero, category: str, name: str, include_archived: bool = True) -> tuple[dict, dict]:
	params = {"includeArchived": "true"} if include_archived else {}
	found = next(c for c in categories(xero, **params) if c["Name"] == category)
	return found, next(o for o in found["Options"] if o["Name"] == name)


def customer(xero) -> dict:
	return xero.get("/Contacts", params={"where": 'ContactStatus=="ACTIVE"'}).json()["Contacts"][0]


def invoice(xero, tracking=None, **fields) -> dict:
	line = {
		"Description": "Widget",
		"Quantity": 2,
		"UnitAmount": 10,
		"AccountCode": "200",
		"TaxType": "OUTPUT2",
	}
	if tracking is not None:
		line["Tracking"] = tracking
	body = {
		"Type": "ACCREC",
		"Contact": {"ContactID": customer(xero)["ContactID"]},
		"LineItems": [line],
		**fields,
	}
	answer = xero.put("/Invoices", {"Invoices": [body]}, params={"summarizeErrors": "false"})
	assert answer.status_code == 200, answer.text
	return answer.json()["Invoices"][0]


def errors(element: dict) -> list[str]:
	return [e["Message"] for e in element.get("ValidationErrors") or []]


def test_tracking_categories_list_active_ones_and_archived_ones_on_request(xero):
	active = categories(xero)
	assert [c["Name"] for c in active] == ["Region", "Department"]
	region = active[0]
	assert [o["Name"] for o in region["Options"]] == ["North", "South", "Eastside"]
	assert all(o["Status"] == "ACTIVE" for c in active for o in c["Options"])
	everything = categories(xero, includeArchived="true")
	assert [(c["Name"], c["Status"]) for c in everything] == [
		("Region", "ACTIVE"),
		("Department", "ACTIVE"),
		("Projects 2019", "ARCHIVED"),
	]
	assert ("West", "ARCHIVED") in [(o["Name"], o["Status"]) for o in everything[0]["Options"]]
	assert [c["Name"] for c in categories(xero, where='Name=="Department"')] == ["Department"]
	one = xero.get(f"/TrackingCategories/{region['TrackingCategoryID']}")
	assert one.status_code == 200 and one.json()["TrackingCategories"][0]["Name"] == "Region"
	assert xero.get("/TrackingCategories/6b0c8b57-0000-4000-8000-000000000000").status_code == 404


def test_a_line_tracked_by_ids_comes_back_with_all_four_fields(xero):
	region, north = option(xero, "Region", "North")
	department, sales = option(xero, "Department", "Sales")
	element = invoice(
		xero,
		[
			{
				"TrackingCategoryID": region["TrackingCategoryID"],
				"TrackingOptionID": north["TrackingOptionID"],
			},
			{
				"TrackingCategoryID": department["TrackingCategoryID"],
				"TrackingOptionID": sales["TrackingOptionID"],
			},
		],
	)
	assert not errors(element)
	assert element["LineItems"][0]["Tracking"] == [
		{
			"TrackingCategoryID": region["TrackingCategoryID"],
			"TrackingOptionID": north["TrackingOptionID"],
			"Name": "Region",
			"Option": "North",
		},
		{
			"TrackingCategoryID": department["TrackingCategoryID"],
			"TrackingOptionID": sales["TrackingOptionID"],
			"Name": "Department",
			"Option": "Sales",
		},
	]
	again = xero.get(f"/Invoices/{element['InvoiceID']}").json()["Invoices"][0]
	assert again["LineItems"][0]["Tracking"] == element["LineItems"][0]["Tracking"]


def test_a_name_and_option_are_matched_and_an_unknown_pair_is_dropped_silently(xero):
	named = invoice(xero, [{"Name": "region", "Option": "south"}])
	assert [(t["Name"], t["Option"]) for t in named["LineItems"][0]["Tracking"]] == [("Region", "South")]
	dropped = invoice(xero, [{"Name": "Region", "Option": "Atlantis"}])
	assert not errors(dropped)
	assert dropped["LineItems"][0]["Tracking"] == []


@pytest.mark.parametrize(
	"case, expected",
	[
		("archived option", "is archived and cannot be used"),
		("archived category", "is archived and cannot be used"),
		("unknown option id", "TrackingOptionID 6b0c8b57-0000-4000-8000-000000000001 is not valid"),
		("two of one category", "only one option of the tracking category 'Region'"),
		("three options", "at most two tracking categories"),
		("not a list", "Tracking must be a list"),
		("half a pair", "needs both Name and Option"),
	],
)
def test_tracking_xero_refuses(xero, xero_conformance, case, expected):
	region, north = option(xero, "Region", "North")
	_, south = option(xero, "Region", "South")
	_, west = option(xero, "Region", "West")
	_, sales = option(xero, "Department", "Sales")
	projects, fit_out = option(xero, "Projects 2019", "Fit-out")
	by_id = lambda o: {"TrackingOptionID": o["TrackingOptionID"]}  # noqa: E731
	tracking = {
		"archived option": [by_id(west)],
		"archived category": [by_id(fit_out)],
		"unknown option id": [{"TrackingOptionID": "6b0c8b57-0000-4000-8000-000000000001"}],
		"two of one category": [by_id(north), by_id(south)],
		"three options": [by_id(north), by_id(sales), by_id(fit_out)],
		"not a list": {"Name": "Region", "Option": "North"},
		"half a pair": [{"Name": "Region"}],
	}[case]
	before = len(xero.get("/Invoices").json()["Invoices"])
	# A non-array Tracking is outside Xero's schema: only the answer is checked against the spec.
	with xero_conformance.expect_invalid_request() if case == "not a list" else contextlib.nullcontext():
		element = invoice(xero, tracking)
	assert any(expected in message for message in errors(element)), errors(element)
	assert len(xero.get("/Invoices").json()["Invoices"]) == before  # nothing stored


def test_an_option_archived_in_xero_is_refused_from_then_on(sandbox, xero):
	_, eastside = option(xero, "Region", "Eastside")
	assert not errors(invoice(xero, [{"TrackingOptionID": eastside["TrackingOptionID"]}]))
	changed = xero.control("POST", f"tracking/{eastside['TrackingOptionID']}", {"status": "ARCHIVED"})
	assert changed.status_code == 200, changed.text
	assert "Eastside" not in [o["Name"] for o in categories(xero)[0]["Options"]]
	refused = invoice(xero, [{"TrackingOptionID": eastside["TrackingOptionID"]}])
	assert "The tracking option 'Eastside' of 'Region' is archived and cannot be used" in errors(refused)
	xero.control("POST", f"tracking/{eastside['TrackingOptionID']}", {"status": "DELETED"})
	assert "Eastside" not in [o["Name"] for o in categories(xero, includeArchived="true")[0]["Options"]]


def test_branding_themes_default_first_and_a_deleted_one_refused_on_invoices(xero):
	answer = xero.get("/BrandingThemes")
	assert answer.status_code == 200, answer.text
	themes = answer.json()["BrandingThemes"]
	assert [(t["Name"], t["SortOrder"]) for t in themes] == [
		("Standard", 0),
		("Special Projects", 1),
		("Very orange invoice!", 2),
	]
	assert all(t["Type"] == "INVOICE" for t in themes)
	special = themes[1]["BrandingThemeID"]
	assert xero.get(f"/BrandingThemes/{special}").json()["BrandingThemes"][0]["Name"] == "Special Projects"
	themed = invoice(xero, BrandingThemeID=special)
	assert themed["BrandingThemeID"] == special
	assert xero.control("DELETE", f"branding-themes/{special}").status_code == 200
	assert [t["Name"] for t in xero.get("/BrandingThemes").json()["BrandingThemes"]] == [
		"Standard",
		"Very orange invoice!",
	]
	assert xero.get(f"/BrandingThemes/{special}").status_code == 404
	refused = invoice(xero, BrandingThemeID=special)
	assert errors(refused) == [f"Branding theme {special} does not exist or has been deleted"]


def test_contacts_carry_their_own_theme_and_sales_payment_terms(xero):
	contacts = xero.get("/Contacts", params={"includeArchived": "true"}).json()["Contacts"]
	themed = [c for c in contacts if c.get("BrandingTheme")]
	assert themed and all(c["BrandingTheme"]["Name"] == "Special Projects" for c in themed)
	kinds = {(c.get("PaymentTerms") or {}).get("Sales", {}).get("Type") for c in contacts}
	assert {"DAYSAFTERBILLDATE", "DAYSAFTERBILLMONTH", "OFCURRENTMONTH"} <= kinds


@pytest.mark.parametrize(
	"terms, issued, due",
	[
		({"Day": 14, "Type": "DAYSAFTERBILLDATE"}, date(2026, 1, 25), date(2026, 2, 8)),
		({"Day": 5, "Type": "DAYSAFTERBILLMONTH"}, date(2026, 1, 25), date(2026, 2, 5)),
		({"Day": 31, "Type": "OFCURRENTMONTH"}, date(2026, 2, 3), date(2026, 2, 28)),
		({"Day": 20, "Type": "OFFOLLOWINGMONTH"}, date(2026, 12, 25), date(2027, 1, 20)),
	],
)
def test_an_invoice_without_a_due_date_follows_the_contacts_sales_terms(xero, terms, issued, due):
	contact = xero.put(
		"/Contacts",
		{"Contacts": [{"Name": f"Terms {terms['Type']} {terms['Day']}", "PaymentTerms": {"Sales": terms}}]},
	).json()["Contacts"][0]
	line = {
		"Description": "Widget",
		"Quantity": 1,
		"UnitAmount": 10,
		"AccountCode": "200",
		"TaxType": "OUTPUT2",
	}
	body = {
		"Type": "ACCREC",
		"Contact": {"ContactID": contact["ContactID"]},
		"Date": issued.isoformat(),
		"LineItems": [line],
	}
	element = xero.put("/Invoices", {"Invoices": [body]}).json()["Invoices"][0]
	assert element["DueDateString"] == f"{due.isoformat()}T00:00:00"


def test_currencies_and_the_currency_rate_of_a_foreign_invoice(xero):
	codes = [c["Code"] for c in xero.get("/Currencies").json()["Currencies"]]
	assert codes == ["NZD", "AUD", "USD"]
	assert invoice(xero)["CurrencyRate"] == 1
	# Omitted, the rate is the sandbox's XE rate: USD per NZD, 1 / 1.65.
	assert D(str(invoice(xero, CurrencyCode="USD")["CurrencyRate"])) == D("0.606061")
	assert D(str(invoice(xero, CurrencyCode="USD", CurrencyRate=0.6123)["CurrencyRate"])) == D("0.6123")
	# A base-currency invoice always has the rate 1, whatever is sent.
	assert invoice(xero, CurrencyRate=2.5)["CurrencyRate"] == 1
	bad_rate = invoice(xero, CurrencyCode="AUD", CurrencyRate=-1)
	assert errors(bad_rate) == ["CurrencyRate must be a positive number with at most 6 decimal places"]
	too_fine = invoice(xero, CurrencyCode="AUD", CurrencyRate=0.1234567)
	assert errors(too_fine) == ["CurrencyRate must be a positive number with at most 6 decimal places"]
	not_enabled = invoice(xero, CurrencyCode="EUR")
	assert errors(not_enabled) == ["Organisation is not subscribed to currency EUR"]


def test_sandbox_controls_say_what_they_cannot_find(xero):
	assert xero.control("POST", "tracking/nothing-here", {"status": "ARCHIVED"}).status_code == 404
	assert xero.control("DELETE", "branding-themes/nothing-here").status_code == 404
	_, north = option(xero, "Region", "North")
	assert (
		xero.control("POST", f"tracking/{north['TrackingOptionID']}", {"status": "GONE"}).status_code == 400
	)
