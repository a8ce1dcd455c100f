"""Order lines and totals priced as Xero prices an invoice."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from .errors import LineValidationError
from .money import (
	EXCLUSIVE,
	FIGURE_LIMIT,
	HUNDRED,
	INCLUSIVE,
	LIMIT_TEXT,
	LINE_AMOUNT_TYPES,
	ZERO,
	gross_and_line_amount,
	line_tax,
	to_bounded_decimal,
)


@dataclass(frozen=True)
class LineInput:
	qty: Decimal
	unit_price: Decimal
	discount_rate: Decimal = ZERO
	tax_rate: Decimal = ZERO


@dataclass(frozen=True)
class PricedLine:
	line_amount: Decimal
	tax_amount: Decimal
	discount_amount: Decimal


@dataclass(frozen=True)
class Totals:
	subtotal: Decimal
	total_discount: Decimal
	total_tax: Decimal
	grand_total: Decimal


_QUANTUM = {places: Decimal(1).scaleb(-places) for places in range(7)}


def _max_places(value: Decimal, places: int, label: str, field: str, row: int | None) -> None:
	if value != value.quantize(_QUANTUM[places]):
		raise LineValidationError(f"{label} {value} has more than {places} decimal places", field, row)


def validate_line_amount_type(line_amount_type: str) -> str:
	if line_amount_type not in LINE_AMOUNT_TYPES:
		raise LineValidationError(
			f"Line amount type must be one of {', '.join(LINE_AMOUNT_TYPES)}, not {line_amount_type!r}",
			"line_amount_type",
		)
	return line_amount_type


def parse_line(qty, unit_price, discount_rate=None, tax_rate=None, row: int | None = None) -> LineInput:
	"""Validates one line's figures and returns them as Decimals (raises LineValidationError)."""
	where = f"Row {row}: " if row is not None else ""
	try:
		values = LineInput(
			qty=to_bounded_decimal(qty, "Quantity"),
			unit_price=to_bounded_decimal(unit_price, "Unit price"),
			discount_rate=to_bounded_decimal(discount_rate, "Discount %"),
			tax_rate=to_bounded_decimal(tax_rate, "Tax rate"),
		)
	except ValueError as e:
		raise LineValidationError(f"{where}{e}", None, row) from None
	if values.qty <= 0:
		raise LineValidationError(f"{where}Quantity must be greater than 0, not {values.qty}", "qty", row)
	if values.unit_price < 0:
		raise LineValidationError(
			f"{where}Unit price cannot be negative ({values.unit_price})", "unit_price", row
		)
	if not ZERO <= values.discount_rate <= HUNDRED:
		raise LineValidationError(
			f"{where}Discount % must be between 0 and 100, not {values.discount_rate}", "discount_rate", row
		)
	if values.tax_rate < 0:
		raise LineValidationError(f"{where}Tax rate cannot be negative ({values.tax_rate})", "tax_rate", row)
	_max_places(values.qty, 4, f"{where}Quantity", "qty", row)
	_max_places(values.unit_price, 4, f"{where}Unit price", "unit_price", row)
	_max_places(values.discount_rate, 4, f"{where}Discount %", "discount_rate", row)
	_max_places(values.tax_rate, 4, f"{where}Tax rate", "tax_rate", row)
	# The line's amount with its tax must fit the columns too (Qty x Unit price, before any discount).
	gross = values.qty * values.unit_price
	if gross * (HUNDRED + values.tax_rate) / HUNDRED >= FIGURE_LIMIT:
		raise LineValidationError(
			f"{where}Quantity {values.qty} x Unit price {values.unit_price} is too large: the line's amount "
			f"with its tax must be below {LIMIT_TEXT}",
			"qty",
			row,
		)
	return values


def price_line(line: LineInput, line_amount_type: str = EXCLUSIVE) -> PricedLine:
	"""Prices a validated line (see parse_line): the same figures as money.line_amount and line_tax."""
	gross, amount = gross_and_line_amount(line.qty, line.unit_price, line.discount_rate)
	return PricedLine(amount, line_tax(amount, line.tax_rate, line_amount_type), gross - amount)


def totals(lines: Iterable[PricedLine], line_amount_type: str = EXCLUSIVE) -> Totals:
	"""Invoice or order totals as sums of rounded line figures (Xero's SubTotal/TotalTax/Total)."""
	amount = tax = discount = ZERO
	for line in lines:
		amount += line.line_amount
		tax += line.tax_amount
		discount += line.discount_amount
	if line_amount_type == INCLUSIVE:
		result = Totals(amount - tax, discount, tax, amount)
	else:
		result = Totals(amount, discount, tax, amount + tax)
	if result.grand_total >= FIGURE_LIMIT or result.total_discount >= FIGURE_LIMIT:
		raise LineValidationError(
			f"The total {result.grand_total} is too large: it must be below {LIMIT_TEXT}; split the order",
			"grand_total",
		)
	return result
