"""Deposit invoices and their deductions over HTTP: the sandbox (checked against Xero's OpenAPI spec) totals the
deposit line on the deposit account and the negative deduction lines exactly as the app does, and the order's
invoices in Xero add up to the order to the cent."""

from decimal import Decimal as D

import pytest

from tests.conftest_xero import login
from tests.test_deposit_plans import book, live_position, order_totals, shares_of
from tests.test_invoice_plans import make_line
from tests.test_sandbox_remainders import as_json_numbers, decimals, organisation_with_tax
from xero_sales_orders.core.deposit_plans import IN_PROPORTION, ON_FINAL_INVOICE, plan_deposit
from xero_sales_orders.core.invoice_plans import plan_invoice, xero_line_terms
from xero_sales_orders.core.money import EXCLUSIVE, INCLUSIVE

DEPOSITS = "835"  # the sandbox's Customer Deposits liability account
ORDER = [("a", "3", "19.99", "0"), ("b", "7", "4.3333", "12.5"), ("c", "2.5", "250", "0")]
PARTS = [[("a", D(1)), ("b", D(2))], [("c", D("0.5"))], None]


@pytest.fixture
def xero(sandbox):
	return login(sandbox)


@pytest.mark.parametrize("lat", [EXCLUSIVE, INCLUSIVE])
@pytest.mark.parametrize("mode", [IN_PROPORTION, ON_FINAL_INVOICE])
def test_deposit_and_deductions_total_in_xero_as_in_the_app(xero, lat, mode):
	tenant, tax_type = organisation_with_tax(xero, D(10))
	contact = xero.get("/Contacts", tenant_id=tenant, params={"where": 'ContactStatus=="ACTIVE"'}).json()[
		"Contacts"
	][0]["ContactID"]
	lines = [make_line(name, q, u, d, "10", lat) for name, q, u, d in ORDER]
	order = order_totals(lines, lat)
	deposit = plan_deposit(
		shares_of(lines, {name: tax_type for name, *_ in ORDER}),
		lat,
		DEPOSITS,
		D("333.33"),
		order.grand_total,
		order.grand_total,
	)
	invoices = [{"goods": (), "deposit": deposit.lines, "totals": deposit.totals, "live": True}]
	bodies = [
		(
			deposit.totals,
			[
				{
					"Description": "Deposit",
					"AccountCode": DEPOSITS,
					"TaxType": line.tax_type,
					**xero_line_terms(
						D(1), line.line_amount, D(0), line.tax_rate, line.line_amount, line.tax_amount, lat
					),
				}
				for line in deposit.lines
			],
		)
	]
	for part in PARTS:
		plan = plan_invoice(book(lines, invoices), part, lat, live_position(invoices, mode))
		invoices.append(
			{"goods": plan.lines, "deposit": plan.deposit_lines, "totals": plan.totals, "live": True}
		)
		items = [
			{
				"Description": f"Line {p.order_line.name}",
				"AccountCode": "200",
				"TaxType": tax_type,
				**xero_line_terms(
					p.qty,
					p.order_line.unit_price,
					p.order_line.discount_rate,
					p.order_line.tax_rate,
					p.line_amount,
					p.tax_amount,
					lat,
				),
			}
			for p in plan.lines
		]
		items += [
			{
				"Description": "Less deposit",
				"AccountCode": d.account_code,
				"TaxType": d.tax_type,
				**xero_line_terms(D(1), d.line_amount, D(0), d.tax_rate, d.line_amount, d.tax_amount, lat),
			}
			for d in plan.deposit_lines
		]
		bodies.append((plan.totals, items))
	assert any(d.line_amount < 0 for inv in invoices for d in inv["deposit"])
	numbers = []
	for number, (ours, items) in enumerate(bodies, start=1):
		invoice_number = f"DEP-{lat}-{mode[:2]}-{number}"
		body = {
			"Invoices": [
				{
					"Type": "ACCREC",
					"Contact": {"ContactID": contact},
					"InvoiceNumber": invoice_number,
					"Status": "AUTHORISED",
					"LineAmountTypes": lat,
					"LineItems": items,
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
		assert (element["SubTotal"], element["TotalTax"], element["Total"]) == (
			ours.subtotal,
			ours.total_tax,
			ours.grand_total,
		)
		numbers.append(invoice_number)
	stored = decimals(
		xero.get("/Invoices", tenant_id=tenant, params={"InvoiceNumbers": ",".join(numbers), "page": 1})
	)["Invoices"]
	assert len(stored) == 4
	assert sum(i["SubTotal"] for i in stored) == order.subtotal
	assert sum(i["TotalTax"] for i in stored) == order.total_tax
	assert sum(i["Total"] for i in stored) == order.grand_total
	assert all(i["Total"] >= 0 for i in stored)
