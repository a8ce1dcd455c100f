"""Credit plans (core.credit_plans): never more than invoiced and not yet credited, and an invoice line credited
in any number of parts is credited to the cent; what the app sends makes the sandbox's own arithmetic (an
independent oracle, written from Xero's documentation) hold exactly the planned figures."""

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_invoice_plans import make_line, orders
from xero_sales_orders.core.credit_plans import (
	CreditableLine,
	parse_credit_lines,
	plan_credit,
	xero_credit_line_terms,
)
from xero_sales_orders.core.errors import (
	CreditExceededError,
	InvalidQtyError,
	NothingToCreditError,
	UnknownLineError,
)
from xero_sales_orders.core.money import EXCLUSIVE, INCLUSIVE, ZERO
from xero_sandbox.arithmetic import compute_line


def creditable(order_line, qty=None) -> CreditableLine:
	"""An invoice line billing ``order_line`` in full (the figures an invoice of the whole line holds)."""
	return CreditableLine(
		name=order_line.name,
		qty=qty or order_line.qty,
		unit_price=order_line.unit_price,
		discount_rate=order_line.discount_rate,
		tax_rate=order_line.tax_rate,
		line_amount=order_line.line_amount,
		tax_amount=order_line.tax_amount,
	)


def book(lines, plan):
	"""The lines as they are after the credit note of ``plan`` (what the service sums from live credit notes)."""
	booked = {p.line.name: p for p in plan.lines}
	out = []
	for line in lines:
		p = booked.get(line.name)
		if p:
			line = CreditableLine(
				**{
					**line.__dict__,
					"credited_qty": line.credited_qty + p.qty,
					"credited_amount": line.credited_amount + p.line_amount,
					"credited_tax": line.credited_tax + p.tax_amount,
				}
			)
		out.append(line)
	return out


def xero_holds(terms: dict, tax_rate, lat):
	"""What the sandbox's arithmetic stores for a credit note line sent with these terms."""
	line, problems = compute_line(
		quantity=terms["Quantity"],
		unit=terms.get("UnitAmount"),
		tax_rate=tax_rate,
		line_amount_type=lat,
		unitdp=4,
		line_amount=terms.get("LineAmount"),
		tax_amount=terms.get("TaxAmount"),
	)
	assert not problems, problems
	return line.line_amount, line.tax_amount


def test_a_part_is_priced_as_xero_would_and_the_rest_takes_the_remainder():
	# 3 x 0.3333 at 15 %: the line is 1.00 + 0.15 tax; a third is 0.33 + 0.05, the rest 0.67 + 0.10.
	line = creditable(make_line("r1", "3", "0.3333"))
	first = plan_credit([line], [("r1", D(1))])
	assert (first.lines[0].line_amount, first.lines[0].tax_amount) == (D("0.33"), D("0.05"))
	rest = plan_credit(book([line], first), None)
	assert rest.lines[0].qty == D(2)
	assert (rest.lines[0].line_amount, rest.lines[0].tax_amount) == (D("0.67"), D("0.10"))
	assert first.totals.grand_total + rest.totals.grand_total == line.line_amount + line.tax_amount


def test_more_than_invoiced_and_not_yet_credited_is_refused():
	line = creditable(make_line("r1", "4", "10"))
	with pytest.raises(CreditExceededError, match="at most 4"):
		plan_credit([line], [("r1", D(5))])
	after = book([line], plan_credit([line], [("r1", D(3))]))
	with pytest.raises(CreditExceededError, match="3 is credited already, so at most 1"):
		plan_credit(after, [("r1", D(2))])
	everything = book(after, plan_credit(after, None))
	with pytest.raises(NothingToCreditError):
		plan_credit(everything, None)


@pytest.mark.parametrize(
	"requested, error",
	[
		([("nope", D(1))], UnknownLineError),
		([("r1", D(0))], InvalidQtyError),
		([("r1", D(-1))], InvalidQtyError),
		([("r1", D("0.00001"))], InvalidQtyError),
		([("r1", D(1)), ("r1", D(1))], InvalidQtyError),
		([], NothingToCreditError),
	],
)
def test_bad_requests_are_refused(requested, error):
	with pytest.raises(error):
		plan_credit([creditable(make_line("r1", "4", "10"))], requested)


def test_the_lines_argument_is_parsed_with_clear_errors():
	assert parse_credit_lines(None) is None
	assert parse_credit_lines([]) is None
	assert parse_credit_lines([{"item": "a", "qty": "1.5"}]) == [("a", D("1.5"))]
	for bad in ("a", {"item": "a"}, [{"qty": 1}], [{"item": "", "qty": 1}], [{"item": "a", "qty": "x"}]):
		with pytest.raises(InvalidQtyError):
			parse_credit_lines(bad)


def test_a_discounted_inclusive_line_goes_to_xero_without_a_discount():
	lat = INCLUSIVE
	line = creditable(make_line("r1", "7", "4.3333", "12.5", "15", lat))
	plan = plan_credit([line], [("r1", D(2))], lat)
	p = plan.lines[0]
	terms = xero_credit_line_terms(p.qty, p.line_amount, p.tax_amount, line.tax_rate, lat)
	assert "DiscountRate" not in terms and "DiscountAmount" not in terms and "UnitAmount" not in terms
	assert xero_holds(terms, line.tax_rate, lat) == (p.line_amount, p.tax_amount)


@settings(max_examples=300, deadline=None)
@given(orders(), st.data())
def test_random_part_credits_add_up_to_the_invoice_and_xero_holds_each_part(order, data):
	lat, order_lines = order
	lines = [creditable(line) for line in order_lines]
	invoiced = sum((ln.line_amount for ln in lines), ZERO), sum((ln.tax_amount for ln in lines), ZERO)
	credited_amount = credited_tax = ZERO
	for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
		open_lines = [ln for ln in lines if ln.creditable_qty > 0]
		if not open_lines:
			break
		line = data.draw(st.sampled_from(open_lines))
		qty = data.draw(st.decimals(min_value=D("0.0001"), max_value=line.creditable_qty, places=4))
		plan = plan_credit(lines, [(line.name, qty)], lat)
		for p in plan.lines:
			assert ZERO <= p.line_amount <= p.line.line_amount - p.line.credited_amount
			terms = xero_credit_line_terms(p.qty, p.line_amount, p.tax_amount, p.line.tax_rate, lat)
			assert xero_holds(terms, p.line.tax_rate, lat) == (p.line_amount, p.tax_amount)
		credited_amount += sum((p.line_amount for p in plan.lines), ZERO)
		credited_tax += sum((p.tax_amount for p in plan.lines), ZERO)
		lines = book(lines, plan)
	if any(ln.creditable_qty > 0 for ln in lines):
		rest = plan_credit(lines, None, lat)
		credited_amount += sum((p.line_amount for p in rest.lines), ZERO)
		credited_tax += sum((p.tax_amount for p in rest.lines), ZERO)
		lines = book(lines, rest)
	assert (credited_amount, credited_tax) == invoiced
	with pytest.raises(NothingToCreditError):
		plan_credit(lines, None, lat)


@settings(max_examples=200, deadline=None)
@given(orders(), st.data())
def test_over_crediting_is_always_refused(order, data):
	lat, order_lines = order
	lines = [creditable(line) for line in order_lines]
	line = data.draw(st.sampled_from(lines))
	extra = data.draw(st.decimals(min_value=D("0.0001"), max_value=D("10"), places=4))
	with pytest.raises(CreditExceededError):
		plan_credit(lines, [(line.name, line.creditable_qty + extra)], lat)


def test_exclusive_totals_are_xeros_sums():
	lines = [creditable(make_line("a", "3", "19.99")), creditable(make_line("b", "2.5", "250"))]
	plan = plan_credit(lines, [("a", D(1)), ("b", D("0.5"))], EXCLUSIVE)
	assert (plan.totals.subtotal, plan.totals.total_tax, plan.totals.grand_total) == (
		D("144.99"),
		D("21.75"),
		D("166.74"),
	)
