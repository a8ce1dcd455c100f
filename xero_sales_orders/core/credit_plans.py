"""Credit plans: which quantity of which invoice line a credit note credits, and for how much.

An invoice line can be credited in parts, never beyond the quantity invoiced less what earlier credit notes
(not voided or deleted) credited. A part credit prices its quantity as Xero would price it on its own (the
invoice line's unit price and discount, tax per line); the credit note that credits the rest of a line takes
what is left of the line's amount and tax, so an invoice credited in full in any number of parts is credited to
the cent. Xero's credit notes carry no discounts, so a line goes to Xero as its Quantity and LineAmount (Xero
works the unit amount out from them and keeps the amount as sent), with a TaxAmount only where the planned tax
differs from Xero's own rounding of it.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .errors import CreditExceededError, InvalidQtyError, NothingToCreditError, UnknownLineError
from .money import (
	EXCLUSIVE,
	FIGURE_LIMIT,
	LIMIT_TEXT,
	QTY_STEP,
	ZERO,
	gross_and_line_amount,
	line_tax,
	qty_str,
	to_bounded_decimal,
)
from .pricing import PricedLine, Totals, totals


@dataclass(frozen=True)
class CreditableLine:
	"""One invoice line as invoiced, with what live credit notes have credited of it already."""

	name: str
	qty: Decimal
	unit_price: Decimal
	discount_rate: Decimal
	tax_rate: Decimal
	line_amount: Decimal
	tax_amount: Decimal
	credited_qty: Decimal = ZERO
	credited_amount: Decimal = ZERO
	credited_tax: Decimal = ZERO
	label: str = ""

	@property
	def creditable_qty(self) -> Decimal:
		return max(self.qty - self.credited_qty, ZERO)


@dataclass(frozen=True)
class PlannedCredit:
	line: CreditableLine
	qty: Decimal
	line_amount: Decimal
	tax_amount: Decimal

	@property
	def completes_line(self) -> bool:
		return self.line.credited_qty + self.qty >= self.line.qty

	def priced(self) -> PricedLine:
		return PricedLine(self.line_amount, self.tax_amount, ZERO)


@dataclass(frozen=True)
class CreditPlan:
	lines: tuple[PlannedCredit, ...]
	totals: Totals


def parse_credit_lines(requested) -> list[tuple[str, Decimal]] | None:
	"""``[{"item": <invoice line row>, "qty": q}]`` as (row, Decimal qty) pairs; None (or []) credits everything
	not yet credited."""
	if requested is None:
		return None
	if isinstance(requested, dict | str) or not isinstance(requested, Iterable):
		raise InvalidQtyError('lines must be a list of {"item": <invoice line row>, "qty": <qty>}')
	pairs = []
	for index, entry in enumerate(requested, start=1):
		if not isinstance(entry, dict) or "item" not in entry:
			raise InvalidQtyError(
				f'Line {index}: expected {{"item": <invoice line row>, "qty": <qty>}}, got {entry!r}'
			)
		item = entry["item"]
		if not isinstance(item, str) or not item:
			raise InvalidQtyError(f"Line {index}: item must be the name of an invoice line row, not {item!r}")
		try:
			qty = to_bounded_decimal(entry.get("qty"), "qty")
		except ValueError as e:
			raise InvalidQtyError(f"Line {index} ({item}): {e}") from None
		pairs.append((item, qty))
	return pairs or None


def _plan_line(line: CreditableLine, qty: Decimal, line_amount_type: str) -> PlannedCredit:
	remaining_amount = line.line_amount - line.credited_amount
	remaining_tax = line.tax_amount - line.credited_tax
	if line.credited_qty + qty >= line.qty:
		return PlannedCredit(line, qty, remaining_amount, remaining_tax)
	standalone = gross_and_line_amount(qty, line.unit_price, line.discount_rate)[1]
	amount = min(standalone, remaining_amount)
	tax = min(line_tax(amount, line.tax_rate, line_amount_type), remaining_tax)
	return PlannedCredit(line, qty, amount, tax)


def plan_credit(
	lines: Sequence[CreditableLine],
	requested: Iterable[tuple[str, Decimal]] | None = None,
	line_amount_type: str = EXCLUSIVE,
) -> CreditPlan:
	"""Plans a credit note for ``requested`` (invoice line row, qty) pairs, or for everything not yet credited."""
	by_name = {line.name: line for line in lines}
	if requested is None:
		wanted = [(line.name, line.creditable_qty) for line in lines if line.creditable_qty > 0]
		if not wanted:
			raise NothingToCreditError("Everything on this invoice is credited already")
	else:
		wanted = list(requested)
		if not wanted:
			raise NothingToCreditError("Choose at least one line and a quantity to credit")
	seen: set[str] = set()
	planned = []
	for name, qty in wanted:
		line = by_name.get(name)
		if line is None:
			raise UnknownLineError(f"Line {name!r} is not a line of this invoice")
		label = line.label or name
		if name in seen:
			raise InvalidQtyError(f"Line {label} is listed more than once")
		seen.add(name)
		if not qty.is_finite() or qty >= FIGURE_LIMIT:
			raise InvalidQtyError(
				f"Quantity to credit for {label} must be a finite number below {LIMIT_TEXT}"
			)
		if qty <= 0:
			raise InvalidQtyError(
				f"Quantity to credit for {label} must be greater than 0, not {qty_str(qty)}"
			)
		if qty != qty.quantize(QTY_STEP):
			raise InvalidQtyError(f"Quantity to credit for {label} has more than 4 decimal places")
		if qty > line.creditable_qty:
			raise CreditExceededError(
				f"Cannot credit {qty_str(qty)} of {label}: {qty_str(line.qty)} was invoiced and "
				f"{qty_str(line.credited_qty)} is credited already, so at most {qty_str(line.creditable_qty)} "
				"can be credited"
			)
		planned.append(_plan_line(line, qty, line_amount_type))
	return CreditPlan(tuple(planned), totals((p.priced() for p in planned), line_amount_type))


def xero_credit_line_terms(
	qty: Decimal, amount: Decimal, tax: Decimal, tax_rate: Decimal, line_amount_type: str = EXCLUSIVE
) -> dict:
	"""The LineItem figures that make Xero hold exactly the planned amount and tax: Quantity and LineAmount
	(Xero derives UnitAmount and keeps LineAmount as sent), TaxAmount where Xero's rounding would differ."""
	terms = {"Quantity": qty, "LineAmount": amount}
	if tax != line_tax(amount, tax_rate, line_amount_type):
		terms["TaxAmount"] = tax
	return terms
