"""Invoice plans: which quantity of which order line an invoice bills, and for how much.

A partial invoice prices its quantity as Xero would on its own. The invoice that completes a line
takes what is left of the line's amount and tax, so the invoices of a fully invoiced order add up
to the order's totals cent for cent however the order was split.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from .deposit_plans import DepositPosition, line_total, plan_deductions
from .errors import InvalidQtyError, NothingToInvoiceError, OutstandingExceededError, UnknownLineError
from .money import (
	EXCLUSIVE,
	FIGURE_LIMIT,
	LIMIT_TEXT,
	ZERO,
	gross_and_line_amount,
	line_tax,
	qty_str,
	to_bounded_decimal,
)
from .pricing import PricedLine, Totals, totals


@dataclass(frozen=True)
class OrderLine:
	name: str
	qty: Decimal
	unit_price: Decimal
	discount_rate: Decimal
	tax_rate: Decimal
	line_amount: Decimal
	tax_amount: Decimal
	invoiced_qty: Decimal = ZERO
	invoiced_amount: Decimal = ZERO
	invoiced_tax: Decimal = ZERO
	label: str = ""

	@property
	def outstanding_qty(self) -> Decimal:
		return max(self.qty - self.invoiced_qty, ZERO)


@dataclass(frozen=True)
class PlannedLine:
	order_line: OrderLine
	qty: Decimal
	line_amount: Decimal
	tax_amount: Decimal
	discount_amount: Decimal

	@property
	def completes_line(self) -> bool:
		return self.order_line.invoiced_qty + self.qty >= self.order_line.qty

	def priced(self) -> PricedLine:
		return PricedLine(self.line_amount, self.tax_amount, self.discount_amount)


@dataclass(frozen=True)
class InvoicePlan:
	lines: tuple[PlannedLine, ...]
	totals: Totals  # with the deposit lines
	deposit_lines: tuple = ()  # core.deposit_plans.DepositLine: deposit deducted (or given back)


def parse_requested(requested: Iterable[dict] | None) -> list[tuple[str, Decimal]] | None:
	"""Turns ``[{"item": row name, "qty": q}]`` into (row, Decimal qty) pairs with clear errors."""
	if requested is None:
		return None
	if isinstance(requested, dict | str) or not isinstance(requested, Iterable):
		raise InvalidQtyError('lines must be a list of {"item": <order item row>, "qty": <qty>}')
	pairs = []
	for index, entry in enumerate(requested, start=1):
		if not isinstance(entry, dict) or "item" not in entry:
			raise InvalidQtyError(
				f'Line {index}: expected {{"item": <order item row>, "qty": <qty>}}, got {entry!r}'
			)
		item = entry["item"]
		if not isinstance(item, str) or not item:
			raise InvalidQtyError(f"Line {index}: item must be the name of an order item row, not {item!r}")
		try:
			qty = to_bounded_decimal(entry.get("qty"), "qty")
		except ValueError as e:
			raise InvalidQtyError(f"Line {index} ({item}): {e}") from None
		pairs.append((item, qty))
	return pairs


def _plan_line(line: OrderLine, qty: Decimal, line_amount_type: str) -> PlannedLine:
	gross, standalone_amount = gross_and_line_amount(qty, line.unit_price, line.discount_rate)
	remaining_amount = line.line_amount - line.invoiced_amount
	remaining_tax = line.tax_amount - line.invoiced_tax
	if line.invoiced_qty + qty >= line.qty:
		amount, tax = remaining_amount, remaining_tax
	else:
		amount = min(standalone_amount, remaining_amount)
		tax = min(line_tax(amount, line.tax_rate, line_amount_type), remaining_tax)
	return PlannedLine(line, qty, amount, tax, gross - amount)


def plan_invoice(
	lines: Sequence[OrderLine],
	requested: Iterable[tuple[str, Decimal]] | None = None,
	line_amount_type: str = EXCLUSIVE,
	deposits: DepositPosition | None = None,
) -> InvoicePlan:
	"""Plans an invoice for ``requested`` (row, qty) pairs, or for everything outstanding if None; with
	``deposits``, it deducts its part of the order's deposits (``core.deposit_plans.plan_deductions``)."""
	by_name = {line.name: line for line in lines}
	if requested is None:
		wanted = [(line.name, line.outstanding_qty) for line in lines if line.outstanding_qty > 0]
		if not wanted:
			raise NothingToInvoiceError("Nothing is left to invoice on this order")
	else:
		wanted = list(requested)
		if not wanted:
			raise NothingToInvoiceError("Choose at least one line and a quantity to invoice")

	seen: set[str] = set()
	planned = []
	for name, qty in wanted:
		line = by_name.get(name)
		if line is None:
			raise UnknownLineError(f"Line {name!r} is not a line of this order")
		label = line.label or name
		if name in seen:
			raise InvalidQtyError(f"Line {label} is listed more than once")
		seen.add(name)
		if not qty.is_finite() or qty >= FIGURE_LIMIT:
			raise InvalidQtyError(
				f"Quantity to invoice for {label} must be a finite number below {LIMIT_TEXT}"
			)
		if qty <= 0:
			raise InvalidQtyError(
				f"Quantity to invoice for {label} must be greater than 0, not {qty_str(qty)}"
			)
		if qty != qty.quantize(Decimal("0.0001")):
			raise InvalidQtyError(f"Quantity to invoice for {label} has more than 4 decimal places")
		if qty > line.outstanding_qty:
			raise OutstandingExceededError(
				f"Cannot invoice {qty_str(qty)} of {label}: "
				f"only {qty_str(line.outstanding_qty)} of {qty_str(line.qty)} is outstanding"
			)
		planned.append(_plan_line(line, qty, line_amount_type))
	goods = totals((p.priced() for p in planned), line_amount_type)
	if not deposits:
		return InvoicePlan(tuple(planned), goods)
	outstanding = sum((_left_to_invoice(line, line_amount_type) for line in lines), ZERO)
	billed = {p.order_line.name: p.qty for p in planned}
	completes = all(line.outstanding_qty <= billed.get(line.name, ZERO) for line in lines)
	deducted = plan_deductions(deposits, line_amount_type, goods.grand_total, outstanding, completes)
	priced = [*(p.priced() for p in planned), *(d.priced() for d in deducted)]
	return InvoicePlan(tuple(planned), totals(priced, line_amount_type), deducted)


def _left_to_invoice(line: OrderLine, line_amount_type: str):
	return line_total(
		line.line_amount - line.invoiced_amount, line.tax_amount - line.invoiced_tax, line_amount_type
	)


def xero_line_terms(
	qty: Decimal,
	unit_price: Decimal,
	discount_rate: Decimal,
	tax_rate: Decimal,
	planned_amount: Decimal,
	planned_tax: Decimal,
	line_amount_type: str = EXCLUSIVE,
) -> dict:
	"""The LineItem fields that make Xero compute exactly the planned line amount and tax.

	A partial line is what Xero computes from Quantity, UnitAmount and DiscountRate. A line that takes
	a remainder may differ by a cent or so, and Xero refuses a LineAmount that disagrees with its own
	arithmetic: so the discount is sent as DiscountAmount (Xero computes Qty x Unit - DiscountAmount),
	and when the remainder is above Qty x Unit the unit amount is raised to the smallest 4 dp figure
	that covers it. A tax that differs from Xero's per-line rounding is sent as TaxAmount, which Xero
	accepts as given.
	"""
	terms = {"Quantity": qty, "UnitAmount": unit_price}
	gross, standalone = gross_and_line_amount(qty, unit_price, discount_rate)
	if planned_amount == standalone:
		if discount_rate:
			terms["DiscountRate"] = discount_rate
	else:
		if planned_amount > gross:
			unit_price = (planned_amount / qty).quantize(Decimal("0.0001"), rounding=ROUND_CEILING)
			gross = gross_and_line_amount(qty, unit_price)[0]
			terms["UnitAmount"] = unit_price
		if gross > planned_amount:
			terms["DiscountAmount"] = gross - planned_amount
	if planned_tax != line_tax(planned_amount, tax_rate, line_amount_type):
		terms["TaxAmount"] = planned_tax
	return terms
