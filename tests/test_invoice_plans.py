from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xero_sales_orders.core.errors import (
	InvalidQtyError,
	NothingToInvoiceError,
	OutstandingExceededError,
	StatusRuleError,
	UnknownLineError,
)
from xero_sales_orders.core.invoice_plans import (
	OrderLine,
	parse_requested,
	plan_invoice,
	xero_line_terms,
)
from xero_sales_orders.core.money import (
	EXCLUSIVE,
	INCLUSIVE,
	LINE_AMOUNT_TYPES,
	NO_TAX,
	ZERO,
	gross_and_line_amount,
	line_tax,
)
from xero_sales_orders.core.order_status import (
	CLOSED,
	DRAFT,
	FULLY_INVOICED,
	OPEN,
	PARTIALLY_INVOICED,
	derive_status,
	ensure_can_invoice,
	ensure_can_reopen,
)
from xero_sales_orders.core.pricing import LineInput, price_line, totals


def make_line(name, qty, unit, discount="0", tax="15", lat=EXCLUSIVE):
	line = LineInput(D(qty), D(unit), D(discount), D(tax))
	p = price_line(line, lat)
	return OrderLine(
		name, line.qty, line.unit_price, line.discount_rate, line.tax_rate, p.line_amount, p.tax_amount
	)


def apply(lines, plan):
	"""Books a plan onto the lines, as the order does after an invoice is created."""
	booked = {p.order_line.name: p for p in plan.lines}
	out = []
	for line in lines:
		p = booked.get(line.name)
		if p:
			line = replace(
				line,
				invoiced_qty=line.invoiced_qty + p.qty,
				invoiced_amount=line.invoiced_amount + p.line_amount,
				invoiced_tax=line.invoiced_tax + p.tax_amount,
			)
		out.append(line)
	return out


def test_last_invoice_of_a_line_takes_the_remainder():
	lines = [make_line("a", "3", "0.3333")]  # line amount 1.00, tax 0.15
	first = plan_invoice(lines, [("a", D(1))])
	assert first.lines[0].line_amount == D("0.33")
	lines = apply(lines, first)
	second = plan_invoice(lines, [("a", D(1))])
	lines = apply(lines, second)
	last = plan_invoice(lines, [("a", D(1))])
	assert last.lines[0].line_amount == D("0.34")
	assert first.lines[0].tax_amount + second.lines[0].tax_amount + last.lines[0].tax_amount == D("0.15")


def test_no_lines_means_everything_outstanding():
	lines = [make_line("a", "2", "10"), make_line("b", "5", "3")]
	lines = apply(lines, plan_invoice(lines, [("a", D(2))]))
	plan = plan_invoice(lines)
	assert [(p.order_line.name, p.qty) for p in plan.lines] == [("b", D(5))]
	lines = apply(lines, plan)
	with pytest.raises(NothingToInvoiceError):
		plan_invoice(lines)


def test_bad_requests_are_refused_with_reasons():
	lines = [make_line("a", "2", "10")]
	with pytest.raises(UnknownLineError, match="not a line of this order"):
		plan_invoice(lines, [("zzz", D(1))])
	with pytest.raises(InvalidQtyError, match="greater than 0"):
		plan_invoice(lines, [("a", D(0))])
	with pytest.raises(InvalidQtyError, match="greater than 0"):
		plan_invoice(lines, [("a", D(-1))])
	with pytest.raises(OutstandingExceededError, match="only 2 of 2 is outstanding"):
		plan_invoice(lines, [("a", D("2.0001"))])
	with pytest.raises(InvalidQtyError, match="more than once"):
		plan_invoice(lines, [("a", D(1)), ("a", D(1))])
	with pytest.raises(NothingToInvoiceError):
		plan_invoice(lines, [])


@pytest.mark.parametrize("qty", [D("1e30"), D("NaN"), D("Infinity"), D("1e12")])
def test_plans_refuse_quantities_no_column_holds_without_a_decimal_crash(qty):
	# Decimal cannot quantize 1E+30 to 4 places (InvalidOperation) and NaN cannot be compared: both are answers.
	with pytest.raises(InvalidQtyError, match="finite number below 1,000,000,000,000"):
		plan_invoice([make_line("a", "2", "10")], [("a", qty)])


@pytest.mark.parametrize(
	"requested, message",
	[
		("a", "must be a list"),
		({"item": "a"}, "must be a list"),
		([["a", 1]], "expected"),
		([{"item": 5, "qty": 1}], "item must be"),
		([{"item": "a", "qty": "many"}], "qty must be a number"),
		([{"item": "a", "qty": True}], "qty must be a number"),
		([{"item": "a", "qty": 1e30}], "qty 1E\\+30 is too large: it must be below 1,000,000,000,000"),
		([{"item": "a", "qty": "1e30"}], "too large"),
		([{"item": "a", "qty": "nan"}], "finite number"),
		([{"item": "a", "qty": float("nan")}], "finite number"),
		([{"item": "a", "qty": "inf"}], "finite number"),
		([{"item": "a", "qty": "-Infinity"}], "finite number"),
	],
)
def test_parse_requested_explains_wrong_shapes(requested, message):
	with pytest.raises(InvalidQtyError, match=message):
		parse_requested(requested)


def test_parse_requested_reads_numbers_and_text():
	assert parse_requested([{"item": "a", "qty": 1.5}, {"item": "b", "qty": "2"}]) == [
		("a", D("1.5")),
		("b", D(2)),
	]


def test_status_lifecycle():
	assert derive_status(0, False, [(D(1), ZERO)]) == DRAFT
	assert derive_status(1, False, [(D(2), ZERO), (D(1), ZERO)]) == OPEN
	assert derive_status(1, False, [(D(2), D(1)), (D(1), ZERO)]) == PARTIALLY_INVOICED
	assert derive_status(1, False, [(D(2), D(2)), (D(1), ZERO)]) == PARTIALLY_INVOICED
	assert derive_status(1, False, [(D(2), D(2)), (D(1), D(1))]) == FULLY_INVOICED
	assert derive_status(1, True, [(D(2), D(1))]) == CLOSED
	assert derive_status(2, False, [(D(2), D(1))]) == "Cancelled"
	for status in (DRAFT, CLOSED, FULLY_INVOICED, "Cancelled"):
		with pytest.raises(StatusRuleError):
			ensure_can_invoice(status)
	ensure_can_invoice(OPEN)
	with pytest.raises(StatusRuleError):
		ensure_can_reopen(OPEN)


qty_st = st.decimals(min_value=D("0.0001"), max_value=D("500"), places=4)
unit_st = st.decimals(min_value=D("0"), max_value=D("5000"), places=4)
disc_st = st.sampled_from([D(0), D(0), D("5"), D("12.5"), D("33.3333"), D("100")])
tax_st = st.sampled_from([D(0), D("15"), D("12.5"), D("20"), D("7.75")])


@st.composite
def orders(draw):
	lat = draw(st.sampled_from(LINE_AMOUNT_TYPES))
	n = draw(st.integers(min_value=1, max_value=6))
	lines = [
		make_line(f"r{i}", draw(qty_st), draw(unit_st), draw(disc_st), draw(tax_st), lat) for i in range(n)
	]
	return lat, lines


@settings(max_examples=300, deadline=None)
@given(orders(), st.data())
def test_random_partial_invoices_never_drift_and_never_over_invoice(order, data):
	lat, lines = order
	order_totals = totals(
		[price_line(LineInput(ln.qty, ln.unit_price, ln.discount_rate, ln.tax_rate), lat) for ln in lines],
		lat,
	)
	invoice_totals = []
	for _ in range(40):
		open_lines = [ln for ln in lines if ln.outstanding_qty > 0]
		if not open_lines:
			break
		chosen = data.draw(st.lists(st.sampled_from(open_lines), min_size=1, unique_by=lambda ln: ln.name))
		requested = []
		for line in chosen:
			# Either the whole remainder or a random 4 dp part of it.
			q = data.draw(
				st.one_of(
					st.just(line.outstanding_qty),
					st.decimals(min_value=D("0.0001"), max_value=line.outstanding_qty, places=4),
				)
			)
			requested.append((line.name, q))
		plan = plan_invoice(lines, requested, lat)
		for p in plan.lines:
			assert p.line_amount >= 0 and p.tax_amount >= 0
		invoice_totals.append(plan.totals)
		lines = apply(lines, plan)
		for line in lines:
			assert line.invoiced_qty <= line.qty
			assert line.invoiced_amount <= line.line_amount
			assert line.invoiced_tax <= line.tax_amount
	# Finish whatever is left in one invoice, then every cent must add up.
	if any(ln.outstanding_qty > 0 for ln in lines):
		plan = plan_invoice(lines, None, lat)
		invoice_totals.append(plan.totals)
		lines = apply(lines, plan)
	for line in lines:
		assert line.invoiced_qty == line.qty
		assert line.invoiced_amount == line.line_amount
		assert line.invoiced_tax == line.tax_amount
	assert sum(t.subtotal for t in invoice_totals) == order_totals.subtotal
	assert sum(t.total_tax for t in invoice_totals) == order_totals.total_tax
	assert sum(t.grand_total for t in invoice_totals) == order_totals.grand_total
	with pytest.raises((NothingToInvoiceError, OutstandingExceededError)):
		plan_invoice(lines, [(lines[0].name, D("0.0001"))], lat)


@settings(max_examples=200, deadline=None)
@given(orders(), st.data())
def test_over_invoicing_is_always_refused(order, data):
	lat, lines = order
	line = data.draw(st.sampled_from(lines))
	extra = data.draw(st.decimals(min_value=D("0.0001"), max_value=D("10"), places=4))
	with pytest.raises(OutstandingExceededError):
		plan_invoice(lines, [(line.name, line.qty + extra)], lat)


def test_inclusive_and_notax_plans():
	lines = [make_line("a", "3", "10", tax="15", lat=INCLUSIVE)]
	plan = plan_invoice(lines, [("a", D(1))], INCLUSIVE)
	assert plan.totals.grand_total == D("10.00") and plan.totals.total_tax == D("1.30")
	lines = [make_line("a", "3", "10", tax="15", lat=NO_TAX)]
	assert plan_invoice(lines, None, NO_TAX).totals.total_tax == 0


def test_xero_line_terms_reproduce_every_planned_figure():
	# A remainder of 0.34 on a 1 x 0.3333 line: Xero alone would say 0.33.
	terms = xero_line_terms(D(1), D("0.3333"), D(0), D(15), D("0.34"), D("0.05"))
	assert terms == {"Quantity": D(1), "UnitAmount": D("0.34")}
	# A remainder below Xero's own figure becomes a discount amount.
	terms = xero_line_terms(D(1), D("0.3367"), D(0), D(15), D("0.33"), D("0.05"))
	assert terms["DiscountAmount"] == D("0.01") and "TaxAmount" not in terms
	# The plain case sends the discount rate and lets Xero compute the rest.
	assert xero_line_terms(D(2), D(10), D(5), D(15), D("19.00"), D("2.85")) == {
		"Quantity": D(2),
		"UnitAmount": D(10),
		"DiscountRate": D(5),
	}
	# A remainder tax is sent as is.
	assert xero_line_terms(D(1), D(10), D(0), D(15), D("10.00"), D("1.49"))["TaxAmount"] == D("1.49")


@settings(max_examples=200, deadline=None)
@given(orders(), st.data())
def test_xero_line_terms_make_xero_compute_the_plan(order, data):
	lat, lines = order
	line = data.draw(st.sampled_from(lines))
	first = data.draw(st.decimals(min_value=D("0.0001"), max_value=line.qty, places=4))
	first_plan = plan_invoice([line], [(line.name, first)], lat)
	plans = [first_plan]
	rest = apply([line], first_plan)
	if rest[0].outstanding_qty > 0:
		plans.append(plan_invoice(rest, None, lat))  # the remainder invoice
	for plan in plans:
		p = plan.lines[0]
		terms = xero_line_terms(
			p.qty, line.unit_price, line.discount_rate, line.tax_rate, p.line_amount, p.tax_amount, lat
		)
		# What Xero computes from these terms:
		assert "LineAmount" not in terms  # Xero refuses a LineAmount that disagrees with its arithmetic
		if "DiscountAmount" in terms:
			assert terms["DiscountAmount"] > 0
			amount = gross_and_line_amount(p.qty, terms["UnitAmount"])[0] - terms["DiscountAmount"]
		else:
			amount = gross_and_line_amount(p.qty, terms["UnitAmount"], terms.get("DiscountRate", ZERO))[1]
		tax = terms.get("TaxAmount", line_tax(amount, line.tax_rate, lat))
		assert (amount, tax) == (p.line_amount, p.tax_amount)
