"""Changing a submitted order's lines after part of it is invoiced ("Update items").

The request is the order's new list of lines: a stored line keeps its row name, a new line has none, and a stored
line left out is removed. What the order's invoices have billed cannot change:

- a line's quantity never goes below what is invoiced of it;
- its unit price, discount, tax, item and account change only while nothing of it is invoiced;
- a line with anything invoiced cannot be removed;
- only an Open or Partially Invoiced order changes (a Draft is edited as usual; Fully Invoiced, Closed and
  Cancelled orders refuse);
- what is still to invoice never falls below the deposits not yet deducted (``core.deposit_plans``).

A changed line is priced again as Xero would (``core.pricing``). A line whose quantity drops to exactly what is
invoiced keeps the invoiced amount and tax, and a partly invoiced line never gets an amount below what its
invoices billed, so the order's invoices still add up to its total to the cent when it is fully invoiced. A
line that does not change keeps its stored figures (an imported line keeps Xero's amounts).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from .deposit_plans import line_total
from .errors import InvalidItemChangeError, ItemChangeRefusedError
from .money import ZERO, gross_and_line_amount, money_str, qty_str
from .order_status import OPEN, PARTIALLY_INVOICED
from .pricing import LineInput, PricedLine, Totals, parse_line, price_line, totals

# The texts and links of a line, beside its figures (qty, unit price, discount %, tax rate); any other detail
# the caller passes (e.g. tracking) is compared too, after these.
DETAIL_FIELDS = ("item", "item_code", "description", "tax", "tax_type", "account", "account_code")
FIGURE_FIELDS = ("qty", "unit_price", "discount_rate", "tax_rate")
LABELS = {
	"qty": "Qty",
	"unit_price": "Unit Price",
	"discount_rate": "Discount %",
	"tax_rate": "Tax Rate",
	"item": "Item",
	"item_code": "Item Code",
	"description": "Description",
	"tax": "Tax",
	"tax_type": "Tax Type",
	"account": "Account",
	"account_code": "Account Code",
}


def label(fieldname: str) -> str:
	return LABELS.get(fieldname) or fieldname.replace("_", " ").title()


@dataclass(frozen=True)
class StoredLine:
	name: str
	idx: int
	figures: LineInput
	line_amount: Decimal
	tax_amount: Decimal
	invoiced_qty: Decimal = ZERO
	invoiced_amount: Decimal = ZERO
	invoiced_tax: Decimal = ZERO
	details: dict = field(default_factory=dict)

	@property
	def label(self) -> str:
		text = self.details.get("item_code") or (self.details.get("description") or "")[:40]
		return f"row {self.idx} ({text})" if text else f"row {self.idx}"


@dataclass(frozen=True)
class WantedLine:
	"""A line as the request wants it: ``name`` is the stored row (None for a new line); figures as sent."""

	name: str | None
	qty: object
	unit_price: object
	discount_rate: object = None
	tax_rate: object = None
	details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class NewLine:
	name: str | None
	figures: LineInput
	line_amount: Decimal
	tax_amount: Decimal
	details: dict
	changed: bool  # added, or stored and changed: its row is written

	def priced(self) -> PricedLine:
		gross = gross_and_line_amount(self.figures.qty, self.figures.unit_price)[0]
		return PricedLine(self.line_amount, self.tax_amount, gross - self.line_amount)


@dataclass(frozen=True)
class Change:
	"""One line's change for the order's timeline: (field name, before, after) triples; None is "not there"."""

	kind: str  # "changed", "added" or "removed"
	label: str
	fields: tuple[tuple[str, str | None, str | None], ...]


@dataclass(frozen=True)
class ItemChanges:
	lines: tuple[NewLine, ...]
	removed: tuple[str, ...]
	changes: tuple[Change, ...]
	totals: Totals


def ensure_can_change_items(status: str) -> None:
	if status in (OPEN, PARTIALLY_INVOICED):
		return
	reasons = {
		"Draft": "it is a Draft: edit and save it as usual",
		"Fully Invoiced": "it is fully invoiced",
		"Closed": "it is Closed; re-open it first",
		"Cancelled": "it is Cancelled",
	}
	raise ItemChangeRefusedError(
		f"Cannot update the items of this order: {reasons.get(status, f'its status is {status}')}"
	)


def _text(value) -> str:
	return "" if value is None else str(value).strip()


def _figures_of(line: LineInput) -> dict:
	return {
		"qty": line.qty,
		"unit_price": line.unit_price,
		"discount_rate": line.discount_rate,
		"tax_rate": line.tax_rate,
	}


def differences(stored: StoredLine, figures: LineInput, details: dict) -> list[tuple[str, str, str]]:
	"""(field, before, after) for what ``figures`` and ``details`` change on ``stored``."""
	found = []
	before, after = _figures_of(stored.figures), _figures_of(figures)
	for name in FIGURE_FIELDS:
		if before[name] != after[name]:
			found.append((name, qty_str(before[name]), qty_str(after[name])))
	extra = sorted((set(stored.details) | set(details)) - set(DETAIL_FIELDS))
	for name in (*DETAIL_FIELDS, *extra):
		old, new = _text(stored.details.get(name)), _text(details.get(name))
		if old != new:
			found.append((name, old, new))
	return found


def parse_wanted(wanted: WantedLine, row: int) -> LineInput:
	"""The wanted line's figures, validated as an order line (raises LineValidationError)."""
	return parse_line(wanted.qty, wanted.unit_price, wanted.discount_rate, wanted.tax_rate, row)


def plan_item_changes(
	stored: Sequence[StoredLine],
	wanted: Sequence[WantedLine],
	line_amount_type: str,
	deposit_remaining: Decimal = ZERO,
) -> ItemChanges:
	"""The order's lines after the change, what changed, and its new totals; refuses what the invoices forbid."""
	if not wanted:
		raise InvalidItemChangeError("An order keeps at least one line: give the lines it should have")
	by_name = {line.name: line for line in stored}
	seen: set[str] = set()
	lines, changes = [], []
	for position, want in enumerate(wanted, start=1):
		if want.name is not None:
			if want.name not in by_name:
				raise InvalidItemChangeError(f"Line {want.name!r} is not a line of this order")
			if want.name in seen:
				raise InvalidItemChangeError(f"Line {by_name[want.name].label} is listed more than once")
			seen.add(want.name)
		if not (_text(want.details.get("item_code")) or _text(want.details.get("description"))):
			raise InvalidItemChangeError(f"Row {position}: give an item code or a description")
		figures = parse_wanted(want, position)
		old = by_name.get(want.name)
		if old is None:
			priced = price_line(figures, line_amount_type)
			lines.append(
				NewLine(None, figures, priced.line_amount, priced.tax_amount, dict(want.details), True)
			)
			added = [("qty", None, qty_str(figures.qty)), ("unit_price", None, qty_str(figures.unit_price))]
			if figures.discount_rate:
				added.append(("discount_rate", None, qty_str(figures.discount_rate)))
			if figures.tax_rate:
				added.append(("tax_rate", None, qty_str(figures.tax_rate)))
			text = _text(want.details.get("item_code")) or _text(want.details.get("description"))[:40]
			changes.append(Change("added", f"row {position} ({text})", tuple(added)))
			continue
		found = differences(old, figures, want.details)
		if not found:
			lines.append(
				NewLine(old.name, old.figures, old.line_amount, old.tax_amount, dict(old.details), False)
			)
			continue
		if old.invoiced_qty > 0:
			others = [label(name) for name, _, _ in found if name != "qty"]
			if others:
				raise ItemChangeRefusedError(
					f"Cannot change {', '.join(others)} of {old.label}: {qty_str(old.invoiced_qty)} of it is "
					"invoiced, so only its quantity can change"
				)
			if figures.qty < old.invoiced_qty:
				raise ItemChangeRefusedError(
					f"Cannot set the quantity of {old.label} to {qty_str(figures.qty)}: "
					f"{qty_str(old.invoiced_qty)} of it is invoiced already"
				)
		amount, tax = _amounts(old, figures, line_amount_type)
		lines.append(NewLine(old.name, figures, amount, tax, dict(want.details), True))
		changes.append(Change("changed", old.label, tuple(found)))
	removed = []
	for old in stored:
		if old.name in seen:
			continue
		if old.invoiced_qty > 0 or old.invoiced_amount or old.invoiced_tax:
			raise ItemChangeRefusedError(
				f"Cannot remove {old.label}: {qty_str(old.invoiced_qty)} of it is invoiced; "
				f"lower its quantity to {qty_str(old.invoiced_qty)} instead"
			)
		removed.append(old.name)
		changes.append(
			Change(
				"removed",
				old.label,
				(
					("qty", qty_str(old.figures.qty), None),
					("unit_price", qty_str(old.figures.unit_price), None),
				),
			)
		)
	new_totals = totals((line.priced() for line in lines), line_amount_type)
	invoiced = sum(
		(line_total(old.invoiced_amount, old.invoiced_tax, line_amount_type) for old in stored), ZERO
	)
	still_to_invoice = new_totals.grand_total - invoiced
	if changes and still_to_invoice < deposit_remaining:
		raise ItemChangeRefusedError(
			f"After this change {money_str(still_to_invoice)} would be left to invoice on the order, less than the "
			f"{money_str(deposit_remaining)} of deposit that later invoices must still deduct"
		)
	return ItemChanges(tuple(lines), tuple(removed), tuple(changes), new_totals)


def _amounts(old: StoredLine, figures: LineInput, line_amount_type: str) -> tuple[Decimal, Decimal]:
	"""A changed line's amount and tax: priced as Xero would, never below what its invoices billed, and exactly
	that when its quantity is what is invoiced."""
	if old.invoiced_qty > 0 and figures.qty == old.invoiced_qty:
		return old.invoiced_amount, old.invoiced_tax
	priced = price_line(figures, line_amount_type)
	return max(priced.line_amount, old.invoiced_amount), max(priced.tax_amount, old.invoiced_tax)
