"""Decimal money that matches Xero's own arithmetic.

Xero rounds every line to 2 dp, computes tax per line on the rounded line amount and sums the
rounded figures (never tax on the invoice total). Quantities and unit amounts keep 4 dp.
Xero staff describe half-up rounding (2.165 -> 2.17), so ROUND_HALF_UP is used throughout.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
QTY_STEP = Decimal("0.0001")
RATE_STEP = Decimal("0.0001")
ZERO = Decimal("0")
HUNDRED = Decimal("100")

EXCLUSIVE = "Exclusive"
INCLUSIVE = "Inclusive"
NO_TAX = "NoTax"
LINE_AMOUNT_TYPES = (EXCLUSIVE, INCLUSIVE, NO_TAX)


class MoneyError(ValueError):
	"""A value that cannot be used as money, a quantity or a rate."""


def to_decimal(value, what: str = "value") -> Decimal:
	"""Converts user or database input to Decimal without float noise.

	Floats come from the database (Frappe reads DECIMAL columns as float); their shortest repr is
	the stored figure, so ``str`` recovers it exactly for the precisions used here.
	"""
	if value is None or value == "":
		return ZERO
	if isinstance(value, bool):
		raise MoneyError(f"{what} must be a number, not {value!r}")
	if isinstance(value, Decimal):
		result = value
	elif isinstance(value, int | float | str):
		try:
			result = Decimal(str(value).strip())
		except InvalidOperation:
			raise MoneyError(f"{what} must be a number, not {value!r}") from None
	else:
		raise MoneyError(f"{what} must be a number, not {type(value).__name__}")
	if not result.is_finite():
		raise MoneyError(f"{what} must be a finite number, not {value!r}")
	return result


def round_money(value: Decimal) -> Decimal:
	return value.quantize(CENT, rounding=ROUND_HALF_UP)


def round_qty(value: Decimal) -> Decimal:
	return value.quantize(QTY_STEP, rounding=ROUND_HALF_UP)


def gross_and_line_amount(
	qty: Decimal, unit_price: Decimal, discount_rate: Decimal = ZERO, unitdp: int = 4
) -> tuple[Decimal, Decimal]:
	"""(Qty x UnitAmount, LineAmount = Qty x UnitAmount x (100 - DiscountRate) / 100), each rounded to 2 dp.

	Quantities and unit amounts carry at most 4 dp (parse_line enforces it); without ``unitdp=4``
	Xero first cuts UnitAmount to 2 dp. This is the hot path of pricing: one product, two roundings.
	"""
	if unitdp != 4:
		unit_price = unit_price.quantize(CENT, rounding=ROUND_HALF_UP)
	raw = qty * unit_price
	gross = raw.quantize(CENT, rounding=ROUND_HALF_UP)
	if not discount_rate:
		return gross, gross
	return gross, (raw * (HUNDRED - discount_rate) / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(qty: Decimal, unit_price: Decimal, discount_rate: Decimal = ZERO, unitdp: int = 4) -> Decimal:
	return gross_and_line_amount(qty, unit_price, discount_rate, unitdp)[1]


def gross_amount(qty: Decimal, unit_price: Decimal, unitdp: int = 4) -> Decimal:
	"""Qty x UnitAmount before discount, rounded to 2 dp (what the discount is taken from)."""
	return gross_and_line_amount(qty, unit_price, ZERO, unitdp)[0]


def line_tax(amount: Decimal, tax_rate: Decimal, line_amount_type: str = EXCLUSIVE) -> Decimal:
	"""Tax of one line, rounded on its own as Xero does.

	Exclusive: amount x r; Inclusive: the tax contained in the amount, amount x r / (100 + r).
	"""
	if line_amount_type == NO_TAX or not tax_rate:
		return ZERO
	if line_amount_type == EXCLUSIVE:
		return round_money(amount * tax_rate / HUNDRED)
	if line_amount_type == INCLUSIVE:
		return round_money(amount * tax_rate / (HUNDRED + tax_rate))
	raise MoneyError(
		f"line amount type must be one of {', '.join(LINE_AMOUNT_TYPES)}, not {line_amount_type!r}"
	)


def qty_str(value: Decimal) -> str:
	"""A quantity for people: 3 rather than 3.0000, 2.5 rather than 2.5000."""
	return format(value.normalize(), "f")


def money_str(value: Decimal) -> str:
	return str(round_money(value))
