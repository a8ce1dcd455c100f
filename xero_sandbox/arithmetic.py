"""Xero's line and invoice arithmetic, written from Xero's documentation and nothing else.

The sandbox is an oracle for the app only if it does not share the app's code: this module imports
nothing but the standard library, and follows what Xero documents (the ``LineItem`` schema of the
official OpenAPI file, the "Rounding in Xero" guide and the Invoices page):

- ``LineAmount = Quantity x UnitAmount x (100 - DiscountRate) / 100``, or
  ``LineAmount = Quantity x UnitAmount - DiscountAmount``, rounded to 2 decimal places. Without
  ``unitdp=4`` Xero first rounds UnitAmount to 2 places. Quantities carry at most 4 places.
- "If you wish to omit either the Quantity or UnitAmount you can provide a LineAmount and Xero will
  calculate the missing amount for you": a LineAmount sent with Quantity or UnitAmount missing is kept
  as sent and the missing figure is derived from it. A LineAmount sent with both must equal Xero's own
  figure, or the line is refused.
- Tax is computed per line on the line amount and rounded on its own (never on the invoice total):
  Exclusive ``LineAmount x r / 100``; Inclusive, the tax contained in the amount,
  ``LineAmount x r / (100 + r)``; NoTax, none. Half-up rounding, as Xero's staff describe it
  (2.165 -> 2.17).
- "The tax amount is auto calculated ... This value can be overriden if the calculated TaxAmount is not
  correct": a sent TaxAmount is taken as given (rounded to the cent). A NoTax line carries no tax, so a
  TaxAmount other than 0 there is refused.
- SubTotal, TotalTax and Total are sums of the rounded line figures: Exclusive SubTotal = sum of line
  amounts and Total = SubTotal + TotalTax; Inclusive Total = sum of line amounts and SubTotal =
  Total - TotalTax; NoTax Total = SubTotal. TotalDiscount is the sum of each line's
  ``round(Quantity x UnitAmount) - LineAmount``.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
FOUR_PLACES = Decimal("0.0001")
ZERO = Decimal("0")
HUNDRED = Decimal("100")

EXCLUSIVE = "Exclusive"
INCLUSIVE = "Inclusive"
NO_TAX = "NoTax"
LINE_AMOUNT_TYPES = (EXCLUSIVE, INCLUSIVE, NO_TAX)


def cents(value: Decimal) -> Decimal:
	"""Rounded half-up to 2 places, as Xero rounds every amount."""
	return value.quantize(CENT, rounding=ROUND_HALF_UP)


def four_places(value: Decimal) -> Decimal:
	return value.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def unit_amount(value: Decimal, unitdp: int) -> Decimal:
	"""UnitAmount as Xero keeps it: 4 places with ``unitdp=4``, else rounded to 2."""
	return four_places(value) if unitdp == 4 else cents(value)


def tax_on(amount: Decimal, rate: Decimal, line_amount_type: str) -> Decimal:
	"""The tax Xero computes for one line amount at ``rate`` percent."""
	if line_amount_type == NO_TAX or not rate:
		return ZERO.quantize(CENT)
	if line_amount_type == INCLUSIVE:
		return cents(amount * rate / (HUNDRED + rate))
	return cents(amount * rate / HUNDRED)


@dataclass(frozen=True)
class Line:
	"""One line as Xero stores it after its arithmetic."""

	quantity: Decimal
	unit_amount: Decimal
	line_amount: Decimal
	tax_amount: Decimal
	discount: Decimal  # round(Quantity x UnitAmount) - LineAmount: this line's part of TotalDiscount
	discount_rate: Decimal | None = None
	discount_amount: Decimal | None = None
	tax_overridden: bool = False  # a TaxAmount was sent and differs from Xero's own figure


@dataclass(frozen=True)
class Totals:
	sub_total: Decimal
	total_tax: Decimal
	total: Decimal
	total_discount: Decimal


def compute_line(
	*,
	quantity: Decimal | None,
	unit: Decimal | None,
	tax_rate: Decimal,
	line_amount_type: str,
	unitdp: int = 2,
	line_amount: Decimal | None = None,
	tax_amount: Decimal | None = None,
	discount_rate: Decimal | None = None,
	discount_amount: Decimal | None = None,
	default_unit: Decimal = ZERO,
) -> tuple[Line | None, list[str]]:
	"""Prices one line from the figures a client sent (None: not sent). Returns (line, []) or
	(None, Xero's validation messages)."""
	problems = []
	if discount_rate is not None and discount_amount is not None and (discount_rate or discount_amount):
		problems.append("A line item cannot have both a DiscountRate and a DiscountAmount")
	if discount_rate is not None and not ZERO <= discount_rate <= HUNDRED:
		problems.append(f"DiscountRate must be between 0 and 100, not {discount_rate}")
	if quantity is not None and quantity != quantity.quantize(FOUR_PLACES):
		problems.append(f"Quantity {quantity} has more than 4 decimal places")
	if line_amount_type not in LINE_AMOUNT_TYPES:
		problems.append(
			f"LineAmountTypes must be one of {', '.join(LINE_AMOUNT_TYPES)}, not {line_amount_type!r}"
		)
	if problems:
		return None, problems
	rate_factor = (HUNDRED - (discount_rate or ZERO)) / HUNDRED
	off = cents(discount_amount) if discount_amount else ZERO
	given_amount = cents(line_amount) if line_amount is not None else None

	derived = False
	if given_amount is not None and (quantity is None or unit is None):
		# Xero calculates the missing figure from the LineAmount, which it keeps as sent.
		derived = True
		gross_wanted = given_amount + off
		if quantity is None and unit is None:
			quantity = Decimal(1)
			unit = gross_wanted / rate_factor if rate_factor else gross_wanted
			unit = unit_amount(unit, unitdp)
		elif quantity is None:
			unit = unit_amount(unit, unitdp)
			if not unit or not rate_factor:
				return None, ["Quantity cannot be calculated from the LineAmount with a UnitAmount of 0"]
			quantity = four_places(gross_wanted / (unit * rate_factor))
		else:
			if not quantity or not rate_factor:
				return None, ["UnitAmount cannot be calculated from the LineAmount with a Quantity of 0"]
			unit = unit_amount(gross_wanted / (quantity * rate_factor), unitdp)
	else:
		if quantity is None:
			quantity = Decimal(1)
		unit = unit_amount(default_unit if unit is None else unit, unitdp)

	raw = quantity * unit
	gross = cents(raw)
	if derived:
		amount = given_amount
	elif discount_amount:
		amount = cents(raw - off)
	elif discount_rate:
		amount = cents(raw * rate_factor)
	else:
		amount = gross
	if given_amount is not None and not derived and given_amount != amount:
		return None, [f"The line total {line_amount} does not match the expected line total {amount}"]

	computed_tax = tax_on(amount, tax_rate, line_amount_type)
	tax = computed_tax
	if tax_amount is not None:
		sent_tax = cents(tax_amount)
		if line_amount_type == NO_TAX and sent_tax:
			return None, [f"A NoTax line cannot carry a TaxAmount ({tax_amount})"]
		tax = sent_tax
	return (
		Line(
			quantity=quantity.quantize(FOUR_PLACES),
			unit_amount=unit,
			line_amount=amount,
			tax_amount=tax,
			discount=gross - amount,
			discount_rate=discount_rate if discount_rate else None,
			discount_amount=off if discount_amount else None,
			tax_overridden=tax != computed_tax,
		),
		[],
	)


def invoice_totals(lines: Iterable[Line], line_amount_type: str) -> Totals:
	"""SubTotal, TotalTax, Total and TotalDiscount as Xero sums the rounded line figures."""
	amount = tax = discount = ZERO.quantize(CENT)
	for line in lines:
		amount += line.line_amount
		tax += line.tax_amount
		discount += line.discount
	if line_amount_type == INCLUSIVE:
		return Totals(amount - tax, tax, amount, discount)
	return Totals(amount, tax, amount + tax, discount)
