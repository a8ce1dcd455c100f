from decimal import Decimal as D

import pytest

from xero_sales_orders.core.errors import LineValidationError, MoneyError
from xero_sales_orders.core.money import (
	EXCLUSIVE,
	INCLUSIVE,
	NO_TAX,
	check_in_range,
	line_amount,
	line_tax,
	round_money,
	to_bounded_decimal,
	to_decimal,
)
from xero_sales_orders.core.pricing import LineInput, parse_line, price_line, totals


def test_xero_rounding_example_taxes_each_line_then_sums():
	# Xero's rounding guide: 15 % on three lines gives 11.44, not 15 % of the total (11.45).
	lines = [
		price_line(LineInput(D(1), amount, D(0), D(15))) for amount in (D("25.06"), D("25.61"), D("25.63"))
	]
	assert [p.tax_amount for p in lines] == [D("3.76"), D("3.84"), D("3.84")]
	t = totals(lines)
	assert t.subtotal == D("76.30")
	assert t.total_tax == D("11.44")
	assert t.grand_total == D("87.74")
	assert round_money(t.subtotal * D("0.15")) == D("11.45")


def test_half_up_on_the_half_cent():
	assert line_tax(D("14.50"), D("15")) == D("2.18")  # 2.175 -> 2.18
	assert line_tax(D("14.30"), D("15")) == D("2.15")  # 2.145 -> 2.15 (banker's would give 2.14)
	assert round_money(D("2.165")) == D("2.17")
	assert round_money(D("2.164")) == D("2.16")


def test_line_amount_with_discount_and_four_decimal_places():
	assert line_amount(D("3"), D("0.3333")) == D("1.00")
	assert line_amount(D("2.5"), D("19.99"), D("10")) == D("44.98")  # 44.9775
	assert line_amount(D("1.2345"), D("9.8765"), D("12.5")) == D("10.67")  # 10.6681...
	assert line_amount(D("1"), D("10.005"), unitdp=2) == D("10.01")  # unit cut to 2 dp first


def test_inclusive_and_no_tax_lines():
	assert line_tax(D("115.00"), D("15"), INCLUSIVE) == D("15.00")
	assert line_tax(D("100.00"), D("15"), INCLUSIVE) == D("13.04")
	assert line_tax(D("100.00"), D("15"), NO_TAX) == D("0")
	inclusive = totals([price_line(LineInput(D(1), D("115")), INCLUSIVE)], INCLUSIVE)
	assert (inclusive.subtotal, inclusive.total_tax, inclusive.grand_total) == (D("115"), D("0"), D("115"))
	taxed = price_line(LineInput(D(2), D("57.50"), D(0), D(15)), INCLUSIVE)
	t = totals([taxed], INCLUSIVE)
	assert (t.subtotal, t.total_tax, t.grand_total) == (D("100.00"), D("15.00"), D("115.00"))


def test_discount_total_is_gross_minus_line_amount():
	p = price_line(LineInput(D("3"), D("10"), D("25"), D("15")), EXCLUSIVE)
	assert (p.line_amount, p.discount_amount, p.tax_amount) == (D("22.50"), D("7.50"), D("3.38"))


@pytest.mark.parametrize("bad", ["abc", "", None, "1e", float("nan"), "inf", True])
def test_to_decimal_refuses_non_numbers(bad):
	if bad in ("", None):
		assert to_decimal(bad) == 0
		return
	with pytest.raises(MoneyError):
		to_decimal(bad, "Quantity")


def test_to_decimal_keeps_database_floats_exact():
	assert to_decimal(0.3333) == D("0.3333")
	assert to_decimal(25.06) == D("25.06")


@pytest.mark.parametrize(
	"args, field",
	[
		((0, 10), "qty"),
		((-1, 10), "qty"),
		((1, -0.01), "unit_price"),
		((1, 10, 101), "discount_rate"),
		((1, 10, -1), "discount_rate"),
		((1, 10, 0, -15), "tax_rate"),
		(("1.00001", 10), "qty"),
		((1, "10.00001"), "unit_price"),
	],
)
def test_parse_line_refuses_bad_figures(args, field):
	with pytest.raises(LineValidationError) as e:
		parse_line(*args, row=3)
	assert e.value.field == field
	assert str(e.value).startswith("Row 3: ")


def test_parse_line_refuses_text():
	with pytest.raises(LineValidationError, match="Quantity must be a number"):
		parse_line("ten", 10)


@pytest.mark.parametrize("value", ["1e30", 1e30, "1E+12", 10**12, "-1e13", D("1e30")])
def test_figures_beyond_the_columns_are_refused_with_the_limit(value):
	with pytest.raises(MoneyError, match="too large: it must be below 1,000,000,000,000"):
		to_bounded_decimal(value, "Quantity")


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-Infinity", float("nan"), float("inf"), D("sNaN")])
def test_nan_and_infinity_are_refused(value):
	with pytest.raises(MoneyError, match="finite number"):
		to_bounded_decimal(value, "Unit price")


def test_the_largest_figures_the_columns_hold_are_accepted():
	assert to_bounded_decimal("999999999999.9999") == D("999999999999.9999")
	assert check_in_range(D("-999999999999.99")) == D("-999999999999.99")


@pytest.mark.parametrize(
	"qty, price, tax, message",
	[
		("1e30", "1", "0", "Quantity 1E\\+30 is too large"),
		("1", "1e30", "0", "Unit price 1E\\+30 is too large"),
		("1", "1", "1e30", "Tax rate 1E\\+30 is too large"),
		("nan", "1", "0", "Quantity must be a finite number"),
		("1", "inf", "0", "Unit price must be a finite number"),
		("1000000", "1000000", "0", "line's amount with its tax must be below"),
		("1000000", "900000", "15", "line's amount with its tax must be below"),
	],
)
def test_parse_line_refuses_figures_out_of_range_with_a_message(qty, price, tax, message):
	with pytest.raises(LineValidationError, match=message):
		parse_line(qty, price, "0", tax, 1)


def test_a_line_just_inside_the_columns_prices_exactly():
	line = parse_line("1000000", "869565.2173", "0", "15")
	priced = price_line(line)
	assert priced.line_amount + priced.tax_amount < D("1e12")


def test_totals_beyond_the_columns_are_refused():
	big = price_line(parse_line("1000000", "600000", "0", "0"))
	with pytest.raises(LineValidationError, match="total 1200000000000.00 is too large"):
		totals([big, big])
