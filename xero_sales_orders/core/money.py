"""Decimal money that matches Xero's own arithmetic.

Xero rounds every line to 2 dp, computes tax per line on the rounded line amount and sums the
rounded figures (never tax on the invoice total). Quantities and unit amounts keep 4 dp.
Xero staff describe half-up rounding (2.165 -> 2.17), so ROUND_HALF_UP is used throughout.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import MoneyError

CENT = Decimal("0.01")
QTY_STEP = Decimal("0.0001")
RATE_STEP = Decimal("0.0001")
ZERO = Decimal("0")
HUNDRED = Decimal("100")

EXCLUSIVE = "Exclusive"
INCLUSIVE = "Inclusive"
NO_TAX = "NoTax"
LINE_AMOUNT_TYPES = (EXCLUSIVE, INCLUSIVE, NO_TAX)

# Frappe keeps Float, Currency and Percent fields in DECIMAL(21,9) columns: 12 digits before the point.
# Xero documents no larger limit for quantities, unit amounts or totals, so every figure the app stores (a
# quantity, a price, a rate, a line's amount with its tax, an order's total) must stay below 10^12.
MAX_DIGITS = 12
FIGURE_LIMIT = Decimal(10) ** MAX_DIGITS  # exclusive
LIMIT_TEXT = "1,000,000,000,000 (the 12 digits before the decimal point that the app's columns hold)"


def to_decimal(value, what: str = "value") -> Decimal:
	"""Converts user or database input to Decimal without float noise.

	Floats come from the database (Frappe reads DECIMAL columns as float); their shortest repr is
	the stored figure, so ``str`` recovers it exactly for the precisions used here.
	"""
	kind = type(value)
	if kind is Decimal or kind is str and value:
		# The common cases first (an import reads hundreds of thousands of figures as text); Decimal itself
		# ignores the spaces around a text, as the strip below does.
		try:
			result = value if kind is Decimal else Decimal(value)
		except InvalidOperation:
			raise MoneyError(f"{what} must be a number, not {value!r}") from None
		if result.is_finite():
			return result
		raise MoneyError(f"{what} must be a finite number, not {value!r}")
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


def check_in_range(value: Decimal, what: str = "value") -> Decimal:
	"""``value`` if the app's columns can hold it, else MoneyError naming the limit.

	Call it before rounding: Decimal's default context (28 digits) cannot quantize a figure such as 1E+30 to
	4 places and would raise InvalidOperation instead of a message.
	"""
	if abs(value) >= FIGURE_LIMIT:
		raise MoneyError(f"{what} {figure_text(value)} is too large: it must be below {LIMIT_TEXT}")
	return value


def to_bounded_decimal(value, what: str = "value") -> Decimal:
	"""to_decimal for figures a user or Xero sends: finite and within what the app's columns hold."""
	return check_in_range(to_decimal(value, what), what)


def figure_text(value: Decimal) -> str:
	# 1E+30 rather than thirty zeros; an ordinary figure as it was given.
	return str(value) if len(str(value)) <= 24 else f"{value:.6E}"


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
