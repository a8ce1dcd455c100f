"""Orders from Xero quotes (core.quote_orders): the order's lines are the quote's, its totals the quote's totals
as Xero computes them to the cent (the sandbox's own arithmetic is the oracle), and its invoices, however the
order is split, add up to the quote; quotes an order cannot be made from are refused with the reason."""

import random
from datetime import datetime, timezone
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_invoice_plans import apply
from xero_sales_orders.core.errors import QuoteRuleError, QuoteStatusError
from xero_sales_orders.core.invoice_plans import OrderLine, plan_invoice
from xero_sales_orders.core.money import EXCLUSIVE, INCLUSIVE, NO_TAX
from xero_sales_orders.core.pricing import LineInput, price_line
from xero_sales_orders.core.quote_orders import ensure_accepted, quote_order, quote_summary
from xero_sales_orders.xero.parsing import loads
from xero_sandbox import quotes as sandbox_quotes
from xero_sandbox.seed import make_tenant
from xero_sandbox.xerojson import dumps

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def tenant():
	return make_tenant(0, seed=7, contacts=3, items=4, invoices=0, now=NOW)


def revenue_rates(tenant) -> dict[str, D]:
	return {
		t["TaxType"]: D(str(t["EffectiveRate"]))
		for t in tenant.tax_rates.values()
		if t["Status"] == "ACTIVE" and t["CanApplyToRevenue"]
	}


def xero_quote(tenant, lines, amount_type="EXCLUSIVE", status="ACCEPTED", **fields) -> dict:
	"""A quote priced by the sandbox (Xero's arithmetic, independent of the app's), moved to ``status``, as
	the app receives it over the wire."""
	contact = next(iter(tenant.contacts.values()))
	element = {
		"Contact": {"ContactID": contact["ContactID"]},
		"Date": "2026-05-04",
		"LineAmountTypes": amount_type,
		"LineItems": lines,
		**fields,
	}
	quote, problems = sandbox_quotes.write_quote(tenant, element, now=NOW, existing=None)
	assert not problems, problems
	path = {"DRAFT": [], "SENT": ["SENT"], "ACCEPTED": ["SENT", "ACCEPTED"], "DECLINED": ["SENT", "DECLINED"]}
	for step in path[status]:
		body = {**element, "Status": step}
		body.pop("LineItems")
		quote, problems = sandbox_quotes.write_quote(tenant, body, now=NOW, existing=quote)
		assert not problems, problems
	return loads(dumps(sandbox_quotes.render_quote(tenant, quote)))


def line(description="Desk", qty="3", unit="0.3333", tax="OUTPUT2", **extra) -> dict:
	return {"Description": description, "Quantity": D(qty), "UnitAmount": D(unit), "TaxType": tax, **extra}


def as_order_lines(order) -> list[OrderLine]:
	return [
		OrderLine(str(n), q.qty, q.unit_price, q.discount_rate, q.tax_rate, q.line_amount, q.tax_amount)
		for n, q in enumerate(order.lines)
	]


def test_the_order_is_the_quote_line_for_line(tenant):
	quote = xero_quote(
		tenant,
		[
			line("Oak desk", "12", "849", ItemCode="", AccountCode="200", DiscountRate=D("5")),
			line("Chair", "24", "389.5", AccountCode="200"),
			line("Third", "3", "0.3333", tax="ZERORATEDOUTPUT"),
		],
		Reference="PO-4471",
		Title="Office fit-out",
		Summary="Desks and chairs",
		Terms="Net 20",
		ExpiryDate="2026-06-30",
	)
	order = quote_order(quote, revenue_rates(tenant))
	assert (order.number, order.po_number, order.date, order.expiry_date) == (
		quote["QuoteNumber"],
		"PO-4471",
		"2026-05-04",
		"2026-06-30",
	)
	assert (order.currency, order.line_amount_type, order.contact_id) == (
		"NZD",
		EXCLUSIVE,
		quote["Contact"]["ContactID"],
	)
	assert [(q.description, q.qty, q.unit_price, q.discount_rate, q.tax_type) for q in order.lines] == [
		("Oak desk", D(12), D(849), D(5), "OUTPUT2"),
		("Chair", D(24), D("389.5"), D(0), "OUTPUT2"),
		("Third", D(3), D("0.3333"), D(0), "ZERORATEDOUTPUT"),
	]
	assert not any(q.carried for q in order.lines)
	t = order.totals
	assert (t.subtotal, t.total_tax, t.grand_total) == (quote["SubTotal"], quote["TotalTax"], quote["Total"])
	assert "From Xero quote" in order.remarks and "Desks and chairs" in order.remarks


@pytest.mark.parametrize("amount_type, ours", [("INCLUSIVE", INCLUSIVE), ("NOTAX", NO_TAX)])
def test_inclusive_and_notax_quotes(tenant, amount_type, ours):
	quote = xero_quote(tenant, [line(qty="7", unit="12.3456"), line(qty="1", unit="25.63")], amount_type)
	order = quote_order(quote, revenue_rates(tenant))
	assert order.line_amount_type == ours
	t = order.totals
	assert (t.subtotal, t.total_tax, t.grand_total) == (quote["SubTotal"], quote["TotalTax"], quote["Total"])


def test_xeros_own_figures_are_carried_and_a_discount_amount_is_its_rate(tenant):
	quote = xero_quote(
		tenant,
		[
			line("Off", "10", "10", DiscountAmount=D("33.33")),
			line("Typed tax", "1", "10", TaxAmount=D("1.49")),
			line("Note only", "0", "0", tax="NONE"),
		],
	)
	order = quote_order(quote, revenue_rates(tenant) | {"NONE": D(0)})
	off, typed = order.lines
	assert (off.line_amount, off.discount_rate) == (D("66.67"), D("33.33"))
	assert off.carried is False  # 100 x (1 - 33.33 %) = 66.67: the rate prices it exactly
	assert (typed.tax_amount, typed.carried) == (D("1.49"), True)
	assert order.skipped == ("Note only",)
	assert order.totals.grand_total == quote["Total"]


@pytest.mark.parametrize("status", ["DRAFT", "SENT", "DECLINED"])
def test_only_an_accepted_quote_becomes_an_order(tenant, status):
	quote = xero_quote(tenant, [line()], status=status)
	with pytest.raises(QuoteStatusError, match=f"is {status} in Xero: only an ACCEPTED quote"):
		ensure_accepted(quote)
	with pytest.raises(QuoteStatusError):
		quote_order(quote, revenue_rates(tenant))


def test_quotes_an_order_cannot_hold_are_refused_with_the_reason(tenant):
	rates = revenue_rates(tenant)
	good = xero_quote(tenant, [line()])
	cases = [
		({**good, "LineAmountTypes": "Exclusive"}, "Xero's are EXCLUSIVE, INCLUSIVE, NOTAX"),
		({**good, "Contact": {}}, "has no contact"),
		({**good, "LineItems": [{**good["LineItems"][0], "TaxType": "OUTPUT9"}]}, "tax type OUTPUT9"),
		({**good, "LineItems": [{**good["LineItems"][0], "Quantity": D(-3)}]}, "negative amount|Quantity"),
		({**good, "LineItems": [{**good["LineItems"][0], "UnitAmount": D("1E+13")}]}, "too large"),
		({**good, "LineItems": []}, "no line that orders anything"),
		({**good, "Total": good["Total"] + D("0.01")}, "not the sum of its lines"),
	]
	for quote, reason in cases:
		with pytest.raises(QuoteRuleError, match=reason):
			quote_order(quote, rates)


def test_a_reference_too_long_for_the_order_is_kept_in_its_remarks(tenant):
	quote = xero_quote(tenant, [line()], Reference="R" * 200)
	order = quote_order(quote, revenue_rates(tenant))
	assert order.po_number == quote["QuoteNumber"]
	assert "R" * 200 in order.remarks


def test_the_list_summary_spells_the_amount_type_as_the_order_does(tenant):
	quote = xero_quote(tenant, [line()], "INCLUSIVE", status="SENT", Title="T")
	summary = quote_summary(quote)
	assert (summary["line_amount_type"], summary["status"], summary["lines"]) == (INCLUSIVE, "SENT", 1)
	assert summary["total"] == str(quote["Total"])


four_places = st.decimals(min_value=D("0.0001"), max_value=D("500"), places=4)
units = st.decimals(min_value=D("0"), max_value=D("2000"), places=4)


@st.composite
def quote_lines(draw, tax_types, amount_type):
	kinds = ["plain", "rate", "amount"] + (
		["tax"] if amount_type != "NOTAX" else []
	)  # NOTAX lines carry none
	kind = draw(st.sampled_from(kinds))
	qty, unit = draw(four_places), draw(units)
	raw = line(qty=str(qty), unit=str(unit), tax=draw(st.sampled_from(tax_types)))
	gross = (qty * unit).quantize(D("0.01"))
	if kind == "rate":
		raw["DiscountRate"] = draw(st.decimals(min_value=D("0.01"), max_value=D("99.99"), places=2))
	elif kind == "amount" and gross > D("0.01"):
		raw["DiscountAmount"] = draw(st.decimals(min_value=D("0.01"), max_value=gross, places=2))
	elif kind == "tax":
		raw["TaxAmount"] = draw(st.decimals(min_value=D("0"), max_value=gross / 4 + 1, places=2))
	return raw


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_orders_from_quotes_equal_xeros_totals_and_their_invoices_add_up_to_the_cent(tenant, data):
	rates = revenue_rates(tenant)
	amount_type = data.draw(st.sampled_from(["EXCLUSIVE", "INCLUSIVE", "NOTAX"]))
	raw_lines = data.draw(st.lists(quote_lines(sorted(rates), amount_type), min_size=1, max_size=5))
	quote = xero_quote(tenant, raw_lines, amount_type)
	order = quote_order(quote, rates)
	t = order.totals
	assert (t.subtotal, t.total_tax, t.grand_total) == (quote["SubTotal"], quote["TotalTax"], quote["Total"])
	for ours, theirs in zip(order.lines, quote["LineItems"], strict=True):
		assert (ours.line_amount, ours.tax_amount) == (theirs["LineAmount"], theirs["TaxAmount"])
		if not ours.carried:  # an ordinary line is what the app's arithmetic prices it to
			p = price_line(
				LineInput(ours.qty, ours.unit_price, ours.discount_rate, ours.tax_rate),
				order.line_amount_type,
			)
			assert (p.line_amount, p.tax_amount) == (ours.line_amount, ours.tax_amount)
	# Invoiced in random parts, the last taking each line's remainder: the invoices add up to the quote.
	rng = random.Random(data.draw(st.integers(0, 2**32)))
	lines, invoiced = as_order_lines(order), []
	while any(x.outstanding_qty for x in lines):
		wanted = []
		for x in lines:
			if x.outstanding_qty and rng.random() < 0.7:
				part = (x.outstanding_qty * D(rng.choice(["0.25", "0.5", "1"]))).quantize(D("0.0001"))
				wanted.append((x.name, max(min(part, x.outstanding_qty), D("0.0001"))))
		if not wanted:
			continue
		plan = plan_invoice(lines, wanted, order.line_amount_type)
		invoiced.append(plan.totals)
		lines = apply(lines, plan)
	assert sum(i.grand_total for i in invoiced) == quote["Total"]
	assert sum(i.total_tax for i in invoiced) == quote["TotalTax"]
