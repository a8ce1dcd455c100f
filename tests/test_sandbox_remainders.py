"""Remainder invoices over HTTP: Xero totals what the app sends exactly as the app totals it.

The order of the issue (3 x 19.99; 7 x 4.3333 at 12.5 % discount; 2.5 x 250; 10 % GST) is invoiced in three
parts; the last invoice takes each line's remainder, whose tax differs from Xero's per-line rounding, so the
app sends it as ``TaxAmount`` (``core.invoice_plans.xero_line_terms``). The sandbox (checked against Xero's
OpenAPI spec) must answer with the app's SubTotal, TotalTax and Total, and the three invoices must add up
to the order.
"""

import json
from decimal import Decimal as D

import pytest

from tests.conftest_xero import login
from tests.test_invoice_plans import apply, make_line
from xero_sales_orders.core.invoice_plans import plan_invoice, xero_line_terms
from xero_sales_orders.core.money import EXCLUSIVE, INCLUSIVE, line_tax
from xero_sales_orders.core.pricing import LineInput, price_line, totals

ORDER = [("a", "3", "19.99", "0"), ("b", "7", "4.3333", "12.5"), ("c", "2.5", "250", "0")]
PARTS = [[("a", D(1)), ("b", D(1)), ("c", D("0.5"))], [("a", D(1)), ("b", D(1)), ("c", D("0.5"))], None]
# What the app plans for the remainder invoice, and what Xero would say if it recomputed the tax per line.
EXPECTED = {
	EXCLUSIVE: {"app": ("413.95", "41.39", "455.34"), "recomputed": ("413.95", "41.40", "455.35")},
	INCLUSIVE: {"app": ("376.31", "37.64", "413.95"), "recomputed": ("376.32", "37.63", "413.95")},
}


@pytest.fixture
def xero(sandbox):
	return login(sandbox)


def organisation_with_tax(xero, rate: D) -> tuple[str, str]:
	"""(tenant id, tax type) of a sandbox organisation with a revenue tax at ``rate`` percent."""
	for connection in xero.connections:
		tenant = connection["tenantId"]
		rates = xero.get("/TaxRates", tenant_id=tenant).json()["TaxRates"]
		for tax in rates:
			if (
				tax["Status"] == "ACTIVE"
				and tax["CanApplyToRevenue"]
				and D(str(tax["EffectiveRate"])) == rate
			):
				return tenant, tax["TaxType"]
	raise AssertionError(f"no sandbox organisation has a {rate} % sales tax")


def as_json_numbers(value):
	"""Decimals as JSON numbers (``requests`` serialises floats, whose shortest form is the figure)."""
	if isinstance(value, dict):
		return {k: as_json_numbers(v) for k, v in value.items()}
	if isinstance(value, list):
		return [as_json_numbers(v) for v in value]
	return float(value) if isinstance(value, D) else value


def decimals(answer) -> dict:
	return json.loads(answer.content, parse_float=D)


@pytest.mark.parametrize("lat", [EXCLUSIVE, INCLUSIVE])
def test_remainder_invoices_total_in_xero_as_in_the_app(xero, lat):
	tenant, tax_type = organisation_with_tax(xero, D(10))
	contact = xero.get("/Contacts", tenant_id=tenant, params={"where": 'ContactStatus=="ACTIVE"'}).json()[
		"Contacts"
	][0]["ContactID"]
	lines = [make_line(name, q, u, d, "10", lat) for name, q, u, d in ORDER]
	order = totals(
		[price_line(LineInput(ln.qty, ln.unit_price, ln.discount_rate, ln.tax_rate), lat) for ln in lines],
		lat,
	)
	pushed = []
	for number, part in enumerate(PARTS, start=1):
		plan = plan_invoice(lines, part, lat)
		lines = apply(lines, plan)
		line_items = []
		for p in plan.lines:
			ol = p.order_line
			terms = xero_line_terms(
				p.qty, ol.unit_price, ol.discount_rate, ol.tax_rate, p.line_amount, p.tax_amount, lat
			)
			line_items.append(
				{"Description": f"Line {ol.name}", "AccountCode": "200", "TaxType": tax_type, **terms}
			)
		if part is None:
			# The remainder really does carry taxes that differ from Xero's per-line rounding.
			overridden = [
				p for p in plan.lines if p.tax_amount != line_tax(p.line_amount, p.order_line.tax_rate, lat)
			]
			sent_tax = {item["Description"] for item in line_items if "TaxAmount" in item}
			assert overridden and sent_tax == {f"Line {p.order_line.name}" for p in overridden}
			assert (str(plan.totals.subtotal), str(plan.totals.total_tax), str(plan.totals.grand_total)) == (
				EXPECTED[lat]["app"]
			)
		body = {
			"Invoices": [
				{
					"Type": "ACCREC",
					"Contact": {"ContactID": contact},
					"InvoiceNumber": f"REM-{lat}-{number}",
					"Status": "AUTHORISED",
					"LineAmountTypes": lat,
					"LineItems": line_items,
				}
			]
		}
		answer = xero.put(
			"/Invoices",
			as_json_numbers(body),
			tenant_id=tenant,
			params={"summarizeErrors": "false", "unitdp": 4},
		)
		assert answer.status_code == 200, answer.text
		element = decimals(answer)["Invoices"][0]
		assert element["StatusAttributeString"] == "OK", element
		# Line by line and in total, Xero's figures are the app's.
		assert [(item["LineAmount"], item["TaxAmount"]) for item in element["LineItems"]] == [
			(p.line_amount, p.tax_amount) for p in plan.lines
		]
		assert (element["SubTotal"], element["TotalTax"], element["Total"]) == (
			plan.totals.subtotal,
			plan.totals.total_tax,
			plan.totals.grand_total,
		)
		pushed.append(element)
	# Read back from Xero: the invoices add up to the order, to the cent.
	stored = decimals(
		xero.get(
			"/Invoices",
			tenant_id=tenant,
			params={"InvoiceNumbers": ",".join(e["InvoiceNumber"] for e in pushed), "page": 1},
		)
	)["Invoices"]
	assert len(stored) == 3
	assert sum(i["SubTotal"] for i in stored) == order.subtotal
	assert sum(i["TotalTax"] for i in stored) == order.total_tax
	assert sum(i["Total"] for i in stored) == order.grand_total
	last = pushed[-1]
	assert (str(last["SubTotal"]), str(last["TotalTax"]), str(last["Total"])) != EXPECTED[lat]["recomputed"]


def test_a_change_of_amount_type_reprices_lines_and_drops_a_tax_given_for_the_old_one(xero):
	tenant, tax_type = organisation_with_tax(xero, D(10))
	contact = xero.get("/Contacts", tenant_id=tenant, params={"where": 'ContactStatus=="ACTIVE"'}).json()[
		"Contacts"
	][0]["ContactID"]
	line = {"Description": "Desk", "Quantity": 2, "UnitAmount": 55, "AccountCode": "200", "TaxType": tax_type}
	body = {
		"Type": "ACCREC",
		"Contact": {"ContactID": contact},
		"LineItems": [{**line, "TaxAmount": 11.01}],
	}
	created = decimals(xero.put("/Invoices", {"Invoices": [body]}, tenant_id=tenant))["Invoices"][0]
	assert (created["SubTotal"], created["TotalTax"], created["Total"]) == (
		D("110.00"),
		D("11.01"),
		D("121.01"),
	)
	same = decimals(
		xero.post(
			f"/Invoices/{created['InvoiceID']}",
			{"Invoices": [{"InvoiceID": created["InvoiceID"], "LineAmountTypes": "Exclusive"}]},
			tenant_id=tenant,
		)
	)["Invoices"][0]
	assert same["TotalTax"] == D("11.01")  # the given tax stays while the amount type does not change
	inclusive = decimals(
		xero.post(
			f"/Invoices/{created['InvoiceID']}",
			{"Invoices": [{"InvoiceID": created["InvoiceID"], "LineAmountTypes": "Inclusive"}]},
			tenant_id=tenant,
		)
	)["Invoices"][0]
	assert inclusive["LineItems"][0]["Quantity"] == D("2.0000")
	assert (inclusive["SubTotal"], inclusive["TotalTax"], inclusive["Total"]) == (
		D("100.00"),
		D("10.00"),
		D("110.00"),
	)


def test_seeded_invoices_keep_their_lines_when_their_amount_type_changes(xero):
	drafts = decimals(xero.get("/Invoices", params={"Statuses": "DRAFT", "page": 1, "unitdp": 4}))["Invoices"]
	# One with a unit amount of 4 places: re-pricing it must not cut the unit to 2 (the POST has no unitdp).
	seeded = next(
		(
			i
			for i in drafts
			if any(line["UnitAmount"] != line["UnitAmount"].quantize(D("0.01")) for line in i["LineItems"])
		),
		drafts[0],
	)
	target = "Inclusive" if seeded["LineAmountTypes"] != "Inclusive" else "Exclusive"
	xero.post(
		f"/Invoices/{seeded['InvoiceID']}",
		{"Invoices": [{"InvoiceID": seeded["InvoiceID"], "LineAmountTypes": target}]},
	)
	changed = decimals(xero.get(f"/Invoices/{seeded['InvoiceID']}", params={"unitdp": 4}))["Invoices"][0]
	assert changed["LineAmountTypes"] == target
	keep = ("Quantity", "UnitAmount", "LineAmount")
	assert [[line[k] for k in keep] for line in changed["LineItems"]] == [
		[line[k] for k in keep] for line in seeded["LineItems"]
	]


@pytest.mark.parametrize(
	"line, lat, message",
	[
		(
			{"Quantity": 2, "UnitAmount": 10, "LineAmount": 20.01},
			EXCLUSIVE,
			"does not match the expected line total 20.00",
		),
		(
			{"Quantity": 2, "UnitAmount": 10, "TaxType": "NONE", "TaxAmount": 0.5},
			"NoTax",
			"A NoTax line cannot carry",
		),
		(
			{"Quantity": 2, "UnitAmount": 10, "DiscountRate": 5, "DiscountAmount": 1},
			EXCLUSIVE,
			"both a DiscountRate",
		),
	],
)
def test_inconsistent_line_figures_are_refused_over_http(xero, line, lat, message):
	contact = xero.get("/Contacts", params={"where": 'ContactStatus=="ACTIVE"'}).json()["Contacts"][0][
		"ContactID"
	]
	item = {"Description": "x", "AccountCode": "200", "TaxType": "OUTPUT2", **line}
	body = {"Type": "ACCREC", "Contact": {"ContactID": contact}, "LineAmountTypes": lat, "LineItems": [item]}
	answer = xero.put("/Invoices", {"Invoices": [body]})
	assert answer.status_code == 400
	messages = [m["Message"] for m in answer.json()["Elements"][0]["ValidationErrors"]]
	assert any(message in m for m in messages), messages


def test_a_line_amount_without_a_quantity_is_kept_and_the_quantity_derived(xero):
	contact = xero.get("/Contacts", params={"where": 'ContactStatus=="ACTIVE"'}).json()["Contacts"][0][
		"ContactID"
	]
	item = {"Description": "x", "AccountCode": "200", "TaxType": "OUTPUT2", "UnitAmount": 3, "LineAmount": 10}
	body = {"Type": "ACCREC", "Contact": {"ContactID": contact}, "LineItems": [item]}
	invoice = decimals(xero.put("/Invoices", {"Invoices": [body]}, params={"unitdp": 4}))["Invoices"][0]
	line = invoice["LineItems"][0]
	assert (line["Quantity"], line["LineAmount"], line["TaxAmount"]) == (D("3.3333"), D("10.00"), D("1.50"))
	assert invoice["Total"] == D("11.50")
