"""The client's calls for tracking categories, currencies and branding themes (one Xero call each, checked
against the OpenAPI spec), and the pure rules the app applies with them: tracking on lines, payment terms,
exchange rates and which branding theme an invoice goes out with."""

from datetime import date
from decimal import Decimal as D

import pytest

from tests.test_xero_support import TokenSupplier, start_sandbox
from xero_sales_orders.core.branding import branding_theme_fields, choose_theme, default_theme_id
from xero_sales_orders.core.currencies import base_amount, currency_fields, parse_rate
from xero_sales_orders.core.errors import CurrencyRateError, PaymentTermsError, TrackingRuleError
from xero_sales_orders.core.payment_terms import due_date, sales_terms
from xero_sales_orders.core.tracking import (
	TrackingOption,
	check_line,
	flatten_categories,
	line_option_ids,
	tracking_option_fields,
	with_defaults,
	xero_tracking,
)
from xero_sales_orders.xero.client import XeroClient


@pytest.fixture(scope="module")
def running_sandbox():
	running = start_sandbox(tenants=1)
	yield running
	running.stop()


@pytest.fixture
def client(running_sandbox, xero_conformance):
	running_sandbox.reset()
	xero_conformance.watch(running_sandbox.url)
	tokens = running_sandbox.connect()
	tenant_id = running_sandbox.tenant_ids(tokens)[0]
	running_sandbox.clear_calls()
	made = XeroClient(running_sandbox.endpoints, tenant_id, TokenSupplier(running_sandbox, tokens))
	yield made
	made.close()


def test_a_sync_of_tracking_categories_currencies_and_themes_costs_one_call_each(running_sandbox, client):
	categories = client.tracking_categories()
	currencies = client.currencies()
	themes = client.branding_themes()
	calls = running_sandbox.calls()["by_endpoint"]
	print(f"\nXero calls for one sync of tracking categories, currencies and branding themes: {calls}")
	assert calls == {
		"GET /api.xro/2.0/TrackingCategories": 1,
		"GET /api.xro/2.0/Currencies": 1,
		"GET /api.xro/2.0/BrandingThemes": 1,
	}
	# The sync asks for archived ones too, so that archiving an option in Xero reaches the local copy.
	assert [c["Status"] for c in categories] == ["ACTIVE", "ACTIVE", "ARCHIVED"]
	options = [tracking_option_fields(r) for r in flatten_categories(categories)]
	assert len(options) == 8
	assert {(o["title"], o["is_active"]) for o in options} >= {
		("Region: North", 1),
		("Region: West", 0),
		("Projects 2019: Fit-out", 0),
	}
	assert [currency_fields(c)["currency_code"] for c in currencies] == ["NZD", "AUD", "USD"]
	assert [branding_theme_fields(t)["title"] for t in themes][0] == "Standard (default)"
	assert default_theme_id(themes) == themes[0]["BrandingThemeID"]
	only_active = client.tracking_categories(include_archived=False)
	assert [c["Name"] for c in only_active] == ["Region", "Department"]


def option(name, category="c1", status="ACTIVE", category_status="ACTIVE", organisation=("conn", "t1")):
	return TrackingOption(
		name=name,
		option_id=name,
		option_name=name.title(),
		status=status,
		category_id=category,
		category_name={"c1": "Region", "c2": "Department"}.get(category, category),
		category_status=category_status,
		organisation=organisation,
	)


OPTIONS = {
	o.name: o
	for o in (
		option("north"),
		option("south"),
		option("west", status="ARCHIVED"),
		option("sales", "c2"),
		option("fitout", "c3", category_status="ARCHIVED"),
		option("elsewhere", "c9", organisation=("conn", "t2")),
	)
}
ORG = ("conn", "t1")


def test_a_line_takes_the_orders_option_of_each_category_it_does_not_name():
	assert with_defaults([None, None], ["north", "sales"], OPTIONS) == ("north", "sales")
	assert with_defaults(["south", None], ["north", "sales"], OPTIONS) == ("south", "sales")
	assert with_defaults(["sales", None], ["north", None], OPTIONS) == ("sales", "north")
	assert with_defaults([None, None], [None, None], OPTIONS) == ()


@pytest.mark.parametrize(
	"chosen, message",
	[
		(["nowhere"], "there is no Xero tracking option 'nowhere'"),
		(["elsewhere"], "tracking option c9: Elsewhere belongs to another Xero organisation than this order"),
		(["west"], "tracking option Region: West cannot be used: it is archived in Xero"),
		(["fitout"], "cannot be used: its category c3 is archived in Xero"),
		(["north", "south"], "Region: North and Region: South are both options of Region"),
		(["north", "sales", "fitout"], "at most 2 tracking options a line"),
	],
)
def test_tracking_that_xero_would_not_take_is_refused_with_the_reason(chosen, message):
	with pytest.raises(TrackingRuleError) as refused:
		check_line(chosen, OPTIONS, ORG, "Row 3")
	assert message in str(refused.value)
	assert str(refused.value).startswith("Row 3: ")


def test_tracking_xero_receives_and_what_is_left_off():
	check_line(["north", "sales"], OPTIONS, ORG, "Row 1")
	check_line(["west"], OPTIONS, ORG, "Row 1", new=False)  # already on a line: kept, not refused
	sent, left_off = xero_tracking(["north", "west"], OPTIONS)
	assert sent == [
		{"TrackingCategoryID": "c1", "TrackingOptionID": "north", "Name": "Region", "Option": "North"}
	]
	assert [o.label for o in left_off] == ["Region: West"]
	assert line_option_ids([{"TrackingOptionID": "ABC"}, {"Name": "Region"}]) == ("abc",)


@pytest.mark.parametrize(
	"issued, day, kind, due",
	[
		(date(2026, 1, 25), 14, "DAYSAFTERBILLDATE", date(2026, 2, 8)),
		(date(2026, 1, 25), 0, "DAYSAFTERBILLDATE", date(2026, 1, 25)),
		(date(2026, 1, 25), 5, "DAYSAFTERBILLMONTH", date(2026, 2, 5)),
		(date(2026, 12, 31), 31, "DAYSAFTERBILLMONTH", date(2027, 1, 31)),
		(date(2026, 2, 3), 31, "OFCURRENTMONTH", date(2026, 2, 28)),
		(date(2028, 2, 3), 31, "OFCURRENTMONTH", date(2028, 2, 29)),
		(date(2026, 12, 25), 20, "OFFOLLOWINGMONTH", date(2027, 1, 20)),
		(date(2026, 1, 31), 30, "OFFOLLOWINGMONTH", date(2026, 2, 28)),
	],
)
def test_due_dates_follow_xeros_four_kinds_of_payment_terms(issued, day, kind, due):
	assert due_date(issued, day, kind) == due


@pytest.mark.parametrize(
	"day, kind, message",
	[
		(0, "OFFOLLOWINGMONTH", "must be between 1 and 31"),
		(32, "OFCURRENTMONTH", "must be between 1 and 31"),
		(-1, "DAYSAFTERBILLDATE", "between 0 and 3650"),
		("ten", "DAYSAFTERBILLDATE", "must be a whole number"),
		(10, "NEXTWEEK", "Payment terms must be one of DAYSAFTERBILLDATE"),
	],
)
def test_payment_terms_xero_refuses(day, kind, message):
	with pytest.raises(PaymentTermsError) as refused:
		due_date(date(2026, 1, 1), day, kind)
	assert message in str(refused.value)


def test_a_contacts_sales_terms_are_read_from_xero():
	assert sales_terms({"PaymentTerms": {"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}}}) == (
		20,
		"OFFOLLOWINGMONTH",
	)
	assert sales_terms({"PaymentTerms": {"Bills": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}}}) == (None, None)
	assert sales_terms({"PaymentTerms": {"Sales": {"Day": 40, "Type": "OFCURRENTMONTH"}}}) == (None, None)
	assert sales_terms({}) == (None, None)


def test_exchange_rates_as_xero_takes_them_and_base_figures():
	assert parse_rate(None) is None and parse_rate(" ") is None
	assert parse_rate("0.6123") == D("0.612300")
	assert parse_rate(1.65) == D("1.650000")
	for bad in ("abc", 0, -1, "NaN", "Infinity", "0.1234567", True, "1e13"):
		with pytest.raises(CurrencyRateError):
			parse_rate(bad)
	# 1 NZD = 0.6123 USD: 1,000.00 USD is 1,633.19 NZD (1000 / 0.6123 = 1633.187...).
	assert base_amount(D("1000.00"), D("0.6123")) == D("1633.19")
	assert base_amount(D("1000.00"), None) is None


def test_an_invoice_goes_out_with_the_contacts_theme_else_the_organisations_never_a_deleted_one():
	status = {"contact": "ACTIVE", "org": "ACTIVE", "gone": "DELETED"}
	assert choose_theme("contact", "org", status) == ("contact", [])
	assert choose_theme(None, "org", status) == ("org", [])
	assert choose_theme("gone", "org", status) == ("org", ["gone"])
	assert choose_theme("gone", "unknown", status) == (None, ["gone", "unknown"])
	assert choose_theme(None, None, status) == (None, [])


def test_imported_lines_of_different_tracking_never_merge_and_keep_xeros_options():
	from dataclasses import replace

	from tests.test_import_grouping import build, invoice, line

	north, south = ("opt-north",), ("opt-south",)
	first = invoice(
		"INV-1", "PO-9", [replace(line(), tracking=north), replace(line(), tracking=south), line()]
	)
	second = invoice("INV-2", "PO-9", [replace(line(qty="2"), tracking=north)])
	[group] = build([first, second])
	assert sorted((str(order_line.qty), order_line.tracking) for order_line in group.lines) == [
		("1", ()),
		("1", south),
		("3", north),
	]
