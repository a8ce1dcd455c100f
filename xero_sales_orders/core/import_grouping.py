"""Bulk import rules: Xero invoices grouped into proposed orders, with flags saying why a group is left out.

Pure functions over plain data (no Frappe): the import service fetches the invoices, this module decides
which orders they make. An imported order equals its invoices to the cent: its lines carry the amounts and
taxes Xero invoiced. Lines of the same item, description, price, discount and tax are merged into one
order line only when ``core.pricing`` prices the merged quantity to exactly the sum of the merged lines'
amounts and taxes (Xero rounds each invoice line on its own, so 3 + 1 chairs at 15 % may carry one cent
more tax than 4 chairs); otherwise they stay separate lines. A line whose own figures are not what its
quantity, price and discount price to (a TaxAmount or DiscountAmount given in Xero) keeps Xero's figures
and is marked ``carried``. Voided and deleted invoices bill nothing: they are left out of the order
(and said so in the preview), unless the batch asks for their quantities as demand, still to invoice.

A large fetch is grouped without holding it: each page is stored with its invoices' ``group_id`` as it
comes, and a second pass reads the store ordered by that id (``read_in_groups``) and proposes the orders
group by group (``stream_proposed_orders``), with the same result as ``build_proposed_orders`` over
everything at once.
"""

import functools
import hashlib
import itertools
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

try:  # the parser behind re.compile, to see a pattern's structure before it ever runs
	from re import _parser as _sre_parse
except ImportError:  # Python 3.10
	import sre_parse as _sre_parse

from .errors import ImportRuleError
from .money import FIGURE_LIMIT, LIMIT_TEXT, ZERO, figure_text
from .order_status import is_live_invoice
from .pricing import LineValidationError, PricedLine, Totals, parse_line, price_line, totals

GROUP_BY_REFERENCE = "Reference"
GROUP_BY_PATTERN = "PO Pattern"
GROUPINGS = (GROUP_BY_REFERENCE, GROUP_BY_PATTERN)

# Flag codes. Blocking flags keep a group out of the import; the others are warnings shown in the preview.
ALREADY_IMPORTED = "already_imported"
NO_REFERENCE = "no_reference"
MIXED_CONTACTS = "mixed_contacts"
MIXED_CURRENCIES = "mixed_currencies"
MIXED_AMOUNT_TYPES = "mixed_amount_types"
ALL_DEAD = "all_voided"
DEAD_INVOICES = "voided_invoices"
NUMBER_TAKEN = "number_taken"
UNKNOWN_CONTACT = "unknown_contact"
UNKNOWN_TAX = "unknown_tax"
BAD_LINE = "bad_line"
TOO_LONG = "too_long"
OUT_OF_RANGE = "out_of_range"
ROUNDING = "rounding"  # no longer raised: imported orders equal their invoices by construction
TOTALS_MISMATCH = "totals_mismatch"
# Groups that cannot become one order because their invoices disagree with each other.
CONFLICTS = frozenset({MIXED_CONTACTS, MIXED_CURRENCIES, MIXED_AMOUNT_TYPES})
WARNINGS = frozenset({DEAD_INVOICES, ROUNDING})


# A PO pattern runs over every reference a preview fetches, so it must not be able to hang the worker. Python's re backtracks; a pattern is refused unless its worst case is small on the longest
# reference it is ever given, and a preview that still takes too long stops with a message.
MAX_PATTERN_LENGTH = 200
# References are matched on their first 140 characters: a longer one does not fit the app's reference column
# and its group is flagged (TOO_LONG) anyway.
MATCH_INPUT_LIMIT = 140
# A rough bound on the backtracking steps of one match: the product of how many ways each repeat and each
# alternation can be tried, an unbounded repeat counting as the input length. Three unbounded repeats
# (``(?:PO|Order)\s*#?\s*(\w+)``) are allowed; nested repeats, repeats of alternatives and back-references
# never are. At this bound the worst match of 140 characters takes well under 0.1 s.
MAX_PATTERN_COST = 2**25
MATCH_TIME_BUDGET = 10.0  # seconds for the keys of one call (a preview, or one page of a streamed fetch)


def compile_po_pattern(pattern: str | None) -> re.Pattern:
	"""Compiles a user's PO pattern; it must have exactly one capturing group, which is the PO number, and
	be cheap to match (see MAX_PATTERN_COST)."""
	if not pattern or not pattern.strip():
		raise ImportRuleError("Give a PO pattern, for example PO-(\\d+)")
	if len(pattern) > MAX_PATTERN_LENGTH:
		raise ImportRuleError(
			f"The PO pattern is {len(pattern)} characters long; keep it to {MAX_PATTERN_LENGTH}, "
			"for example PO-(\\d+)"
		)
	try:
		compiled = re.compile(pattern, re.IGNORECASE)
		parsed = _sre_parse.parse(pattern, re.IGNORECASE)
	except (re.error, RecursionError, OverflowError) as e:
		raise ImportRuleError(f"The PO pattern {pattern!r} is not a valid regular expression: {e}") from None
	if compiled.groups != 1:
		raise ImportRuleError(
			f"The PO pattern {pattern!r} must have exactly one capturing group (the PO number), "
			f"not {compiled.groups}; use (?:...) for other groups"
		)
	_pattern_cost(pattern, parsed)
	return compiled


_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})


def _pattern_cost(pattern: str, parsed) -> int:
	def refuse(why: str):
		raise ImportRuleError(
			f"The PO pattern {pattern} could take too long to match ({why}); "
			"use a simpler one, for example PO-(\\d+) or (?:PO|Order)[-#\\s]*(\\w+)"
		)

	def cost(items, inside_repeat: bool) -> int:
		total = 1
		for op, av in items:
			name = str(op)
			if name in _REPEATS:
				low, high, body = av
				if inside_repeat:
					refuse("a repeat inside a repeat")
				if high > 1:
					cost(body, inside_repeat=True)  # refuses anything repeated or alternative inside
					total *= min(high, MATCH_INPUT_LIMIT + 1) + 1
				else:
					total *= 1 + cost(body, inside_repeat)
			elif name == "SUBPATTERN":
				total *= cost(av[-1], inside_repeat)
			elif name == "ATOMIC_GROUP":
				total *= cost(av, inside_repeat)
			elif name in ("ASSERT", "ASSERT_NOT"):
				total *= cost(av[1], inside_repeat)
			elif name == "BRANCH":
				if inside_repeat:
					refuse("a repeat of alternatives")
				total *= sum(cost(branch, inside_repeat) for branch in av[1])
			elif name in ("GROUPREF", "GROUPREF_EXISTS", "GROUPREF_IGNORE", "GROUPREF_LOC_IGNORE"):
				refuse("a back-reference")
			if total > MAX_PATTERN_COST:
				refuse("too many repeats or alternatives")
		return total

	return cost(parsed, inside_repeat=False)


def group_key(reference: str | None, grouping: str, pattern: re.Pattern | None = None) -> str | None:
	"""The order a reference belongs to, or None when it has none (empty, or the pattern does not match)."""
	text = " ".join((reference or "").split())
	if grouping == GROUP_BY_REFERENCE:
		return text or None
	if grouping != GROUP_BY_PATTERN or pattern is None:
		raise ImportRuleError(f"Grouping must be one of {', '.join(GROUPINGS)}, not {grouping!r}")
	match = pattern.search(text[:MATCH_INPUT_LIMIT])
	captured = match.group(1) if match else None
	return captured.strip().upper() if captured and captured.strip() else None


@dataclass(frozen=True)
class SourceLine:
	"""One Xero invoice line (figures as Xero sent them)."""

	item_code: str
	description: str
	qty: Decimal
	unit_price: Decimal
	discount_rate: Decimal
	tax_type: str
	account_code: str
	line_amount: Decimal
	tax_amount: Decimal
	discount_amount: Decimal = ZERO  # Xero's DiscountAmount, when the line was given one
	tracking: tuple = ()  # the line's TrackingOptionIDs in Xero

	@property
	def is_text_only(self) -> bool:
		# Xero allows lines that only carry a note; they order nothing.
		return not self.qty and not self.line_amount


@dataclass(frozen=True)
class SourceInvoice:
	invoice_id: str
	number: str
	reference: str
	contact_id: str
	contact_name: str
	currency: str
	line_amount_type: str
	status: str
	date: str
	lines: tuple[SourceLine, ...]
	total: Decimal = ZERO
	subtotal: Decimal | None = None  # Xero's SubTotal and TotalTax, when known
	total_tax: Decimal | None = None
	# What the caller read the invoice from (the import keeps its stored form here for the writer).
	raw: Any = field(default=None, compare=False, repr=False)

	@property
	def is_live(self) -> bool:
		return is_live_invoice(self.status)


def in_group_order(invoice: SourceInvoice) -> tuple:
	"""The order of a group's invoices: by date, then number. A group's proposal (its first contact, how its
	lines merge) never depends on the order Xero's pages came in."""
	return (invoice.date, invoice.number, invoice.invoice_id)


@dataclass(frozen=True)
class Flag:
	code: str
	reason: str

	@property
	def blocking(self) -> bool:
		return self.code not in WARNINGS


@dataclass
class OrderLine:
	item_code: str
	description: str
	unit_price: Decimal
	discount_rate: Decimal
	tax_type: str
	tax_rate: Decimal
	account_code: str
	qty: Decimal = ZERO
	invoiced_qty: Decimal = ZERO
	priced: PricedLine | None = None
	# The sums of the invoice lines this order line stands for, as Xero invoiced them.
	line_amount: Decimal = ZERO
	tax_amount: Decimal = ZERO
	discount_amount: Decimal = ZERO
	# True when the amounts are Xero's and not what qty x unit price x discount prices to.
	carried: bool = False
	tracking: tuple = ()  # Xero's TrackingOptionIDs of the invoice lines it stands for (all the same)


@dataclass
class ProposedOrder:
	"""One group of invoices and the order it would become."""

	key: str | None
	invoices: list[SourceInvoice]
	contact_id: str = ""
	contact_name: str = ""
	currency: str = ""
	line_amount_type: str = ""
	order_date: str = ""
	lines: list[OrderLine] = field(default_factory=list)
	# (invoice index, line index) -> order line index, for the invoice lines that order something.
	line_of: dict[tuple[int, int], int] = field(default_factory=dict)
	# invoice index -> why the invoice is not part of the order (voided or deleted, not asked for as demand)
	left_out: dict[int, str] = field(default_factory=dict)
	totals: Totals | None = None
	flags: list[Flag] = field(default_factory=list)

	@property
	def importable(self) -> bool:
		return not any(flag.blocking for flag in self.flags)

	@property
	def is_conflict(self) -> bool:
		return any(flag.code in CONFLICTS for flag in self.flags)

	@property
	def label(self) -> str:
		return self.key or f"(no reference) {self.invoices[0].number}"

	def flag(self, code: str, reason: str) -> None:
		self.flags.append(Flag(code, reason))


def merge_key(line: SourceLine, tax_rate: Decimal) -> tuple:
	return (
		line.item_code.casefold(),
		" ".join(line.description.split()),
		line.unit_price,
		line.discount_rate,
		line.tax_type,
		tax_rate,
		tuple(sorted(line.tracking)),  # lines tracked differently stay separate order lines
	)


def group_invoices(
	invoices: Iterable[SourceInvoice], grouping: str, pattern: re.Pattern | None = None
) -> list[ProposedOrder]:
	"""Invoices grouped by their key, in key order; each invoice without a key is a group of its own."""
	invoices = list(invoices)
	buckets: dict[str, list[SourceInvoice]] = {}
	orphans = []
	for invoice, key in zip(invoices, _keys(invoices, grouping, pattern), strict=True):
		if key is None:
			orphans.append(ProposedOrder(None, [invoice]))
		else:
			buckets.setdefault(key.casefold(), []).append(invoice)
	groups = [new_group(members, grouping, pattern) for members in buckets.values()]
	ordered = sorted(groups, key=lambda g: g.key.casefold())
	return ordered + sorted(orphans, key=lambda g: g.invoices[0].number)


def _keys(invoices: Iterable[SourceInvoice], grouping: str, pattern: re.Pattern | None) -> Iterator:
	deadline = time.monotonic() + MATCH_TIME_BUDGET
	for count, invoice in enumerate(invoices, start=1):
		if time.monotonic() > deadline:
			raise ImportRuleError(
				f"The PO pattern took more than {MATCH_TIME_BUDGET:.0f} s to match {count} references; "
				"use a simpler one, for example PO-(\\d+)"
			)
		yield group_key(invoice.reference, grouping, pattern)


def new_group(invoices: Sequence[SourceInvoice], grouping: str, pattern: re.Pattern | None) -> ProposedOrder:
	"""The group of invoices that share a key (or one invoice without a key), in their group's order; its key
	as the first of them spells it."""
	members = sorted(invoices, key=in_group_order)
	return ProposedOrder(group_key(members[0].reference, grouping, pattern), members)


# ---- streaming: invoices stored page by page, grouped in a second pass ------------------------------------


def group_id(key: str | None, invoice_id: str) -> str:
	"""The id an invoice's group is stored under: the same for every invoice whose key is the same (keys are
	compared casefolded, as ``group_invoices`` does), an id of its own for an invoice without a key. Lower-case
	hex of one length, so that a database compares and orders the ids exactly as Python does."""
	text = "k" + key.casefold() if key is not None else "o" + invoice_id
	return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def group_ids(
	invoices: Sequence[SourceInvoice], grouping: str, pattern: re.Pattern | None = None
) -> list[str]:
	"""``group_id`` of each invoice (one page of a fetch), within the PO pattern's time budget."""
	return [
		group_id(key, invoice.invoice_id)
		for invoice, key in zip(invoices, _keys(invoices, grouping, pattern), strict=True)
	]


def read_in_groups(
	read: Callable[[str | None, int], Sequence[tuple[str, Any]]], chunk: int
) -> Iterator[list]:
	"""Every group of a store of ``(group id, item)`` rows, one group at a time.

	``read(after, limit)`` returns up to ``limit`` rows whose group id is greater than ``after`` (None: from the
	start), ordered by group id: a keyset read, as an index gives it. Only one read is held at a time; the
	last group of a full read may go on in the next one, so it is read again with the next read. A group
	larger than a read is read whole with a larger limit (it is one order: it must be held).
	"""
	after, limit = None, chunk
	while True:
		rows = read(after, limit)
		if not rows:
			return
		full = len(rows) >= limit
		if full:
			last = rows[-1][0]
			end = len(rows)
			while end and rows[end - 1][0] == last:
				end -= 1
			if not end:  # one group fills the whole read: read it with room to spare
				limit *= 2
				continue
			rows = rows[:end]
		for _, members in itertools.groupby(rows, key=lambda row: row[0]):
			yield [item for _, item in members]
		if not full:
			return
		after, limit = rows[-1][0], chunk


def _names(values: Iterable[str]) -> str:
	return ", ".join(sorted(set(values)))


def _flag_mixtures(group: ProposedOrder) -> None:
	contacts = {i.contact_id: i.contact_name for i in group.invoices}
	if len(contacts) > 1:
		group.flag(MIXED_CONTACTS, f"Invoices are for {len(contacts)} contacts: {_names(contacts.values())}")
	currencies = {i.currency for i in group.invoices}
	if len(currencies) > 1:
		group.flag(MIXED_CURRENCIES, f"Invoices are in {len(currencies)} currencies: {_names(currencies)}")
	amount_types = {i.line_amount_type for i in group.invoices}
	if len(amount_types) > 1:
		group.flag(
			MIXED_AMOUNT_TYPES,
			f"Invoices mix tax-exclusive and tax-inclusive amounts ({_names(amount_types)})",
		)


# The app's columns for the texts an import writes (Frappe's Data fields are VARCHAR(140) unless the doctype
# says otherwise); the import service passes the lengths its doctypes really have.
TEXT_LIMITS = {
	"po_number": 140,  # the order's PO / reference: the group's key
	"reference": 140,  # each invoice's reference
	"invoice_number": 140,
	"contact_name": 140,
	"item_code": 30,
	"account_code": 10,
	"tax_type": 140,
}
_TEXT_LABELS = {
	"po_number": "PO number",
	"reference": "Reference",
	"invoice_number": "Invoice number",
	"contact_name": "Contact name",
	"item_code": "Item code",
	"account_code": "Account code",
	"tax_type": "Tax type",
}


def _flag_out_of_range(group: ProposedOrder, limits: Mapping[str, int]) -> None:
	"""Texts longer than their columns and figures beyond them, flagged here instead of failing the import."""
	too_long = []

	def check(field_name: str, value: str, owner: str) -> None:
		limit = limits.get(field_name)
		if limit and value and len(value) > limit:
			too_long.append(
				f"{owner}: {_TEXT_LABELS[field_name]} is {len(value)} characters long (at most {limit})"
			)

	if group.key is not None:
		check("po_number", group.key, "Group")
	for invoice in group.invoices:
		owner = invoice.number[:40] + ("…" if len(invoice.number) > 40 else "")
		check("invoice_number", invoice.number, owner)
		check("reference", invoice.reference, owner)
		check("contact_name", invoice.contact_name, owner)
		for line in invoice.lines:
			check("item_code", line.item_code, owner)
			check("account_code", line.account_code, owner)
			check("tax_type", line.tax_type, owner)
		if abs(invoice.total) >= FIGURE_LIMIT:
			group.flag(OUT_OF_RANGE, f"{owner}: total {figure_text(invoice.total)} is not below {LIMIT_TEXT}")
	if too_long:
		group.flag(TOO_LONG, "; ".join(dict.fromkeys(too_long)))


@functools.lru_cache(maxsize=4096)
def _priced(qty: Decimal, unit_price: Decimal, discount_rate: Decimal, rate: Decimal, line_amount_type: str):
	"""What a line prices to (validated). Remembered: an order book repeats its quantities and prices (10,000
	sandbox invoices: 30,000 lines, 630 different), and pricing each line is most of a preview's grouping."""
	return price_line(parse_line(qty, unit_price, discount_rate, rate), line_amount_type)


def _own_price(line: SourceLine, rate: Decimal, line_amount_type: str) -> PricedLine:
	return _priced(line.qty, line.unit_price, line.discount_rate, rate, line_amount_type)


def _merges_exactly(order_line: OrderLine, line: SourceLine, line_amount_type: str) -> bool:
	"""Whether the order line, with ``line`` added, still prices to the sum of what was invoiced."""
	try:
		merged = _priced(
			order_line.qty + line.qty,
			order_line.unit_price,
			order_line.discount_rate,
			order_line.tax_rate,
			line_amount_type,
		)
	except LineValidationError:
		return False
	return (merged.line_amount, merged.tax_amount) == (
		order_line.line_amount + line.line_amount,
		order_line.tax_amount + line.tax_amount,
	)


def _merge_lines(
	group: ProposedOrder, tax_rates: Mapping[str, Decimal], voided_as_demand: bool = False
) -> None:
	"""The order's lines from the invoices' lines, each carrying the amounts Xero invoiced.

	An invoice line joins an order line of the same merge key only if the merged quantity prices to
	exactly the sum of the amounts and taxes (so the order line is what its qty x price says, and equals
	its invoices); otherwise it makes an order line of its own. A line whose own figures are not what it
	prices to becomes an order line of its own with Xero's figures (``carried``), never merged.
	"""
	candidates: dict[tuple, list[int]] = {}
	for invoice_index, invoice in enumerate(group.invoices):
		if invoice_index in group.left_out:
			continue
		for line_index, line in enumerate(invoice.lines):
			if line.is_text_only:
				continue
			rate = tax_rates.get(line.tax_type) if line.tax_type else ZERO
			if rate is None:
				group.flag(
					UNKNOWN_TAX,
					f"{invoice.number} uses tax type {line.tax_type}, unknown here: sync the tax rates",
				)
				continue
			try:
				own = _own_price(line, rate, group.line_amount_type)
			except LineValidationError as e:
				group.flag(BAD_LINE, f"{invoice.number}: {e}")
				continue
			exact = not line.discount_amount and (own.line_amount, own.tax_amount) == (
				line.line_amount,
				line.tax_amount,
			)
			key = merge_key(line, rate)
			position = None
			if exact:
				position = next(
					(
						c
						for c in candidates.get(key, ())
						if _merges_exactly(group.lines[c], line, group.line_amount_type)
					),
					None,
				)
			if position is None:
				position = len(group.lines)
				if exact:
					candidates.setdefault(key, []).append(position)
				group.lines.append(
					OrderLine(
						item_code=line.item_code,
						description=line.description or line.item_code,
						unit_price=line.unit_price,
						discount_rate=line.discount_rate,
						tax_type=line.tax_type,
						tax_rate=rate,
						account_code=line.account_code,
						carried=not exact,
						tracking=line.tracking,
					)
				)
			order_line = group.lines[position]
			order_line.qty += line.qty
			order_line.line_amount += line.line_amount
			order_line.tax_amount += line.tax_amount
			gross = own.line_amount + own.discount_amount  # qty x unit price, rounded
			order_line.discount_amount += gross - line.line_amount
			if invoice.is_live:
				order_line.invoiced_qty += line.qty
			group.line_of[(invoice_index, line_index)] = position


def _price(group: ProposedOrder) -> None:
	"""The order's totals: the sums of its lines, which are the sums of the invoices it was made from."""
	for line in group.lines:
		line.priced = PricedLine(line.line_amount, line.tax_amount, line.discount_amount)
	group.totals = totals((line.priced for line in group.lines), group.line_amount_type)
	included = [i for index, i in enumerate(group.invoices) if index not in group.left_out]
	t = group.totals
	pairs = [(sum((i.total for i in included), ZERO), t.grand_total)]
	if all(i.subtotal is not None and i.total_tax is not None for i in included):
		pairs.append((sum((i.subtotal for i in included), ZERO), t.subtotal))
		pairs.append((sum((i.total_tax for i in included), ZERO), t.total_tax))
	if any(theirs != ours for theirs, ours in pairs):
		# Only an invoice whose own totals are not the sum of its lines can get here.
		group.flag(
			TOTALS_MISMATCH,
			f"The order's lines come to {t.grand_total} ({t.subtotal} + {t.total_tax} tax), but its invoices' "
			f"totals to {pairs[0][0]}: an invoice's totals are not the sum of its lines",
		)


def _flag_dead(group: ProposedOrder, voided_as_demand: bool) -> None:
	"""Voided and deleted invoices billed nothing: left out, or (asked for) ordered but not invoiced."""
	dead = [(index, i) for index, i in enumerate(group.invoices) if not i.is_live]
	if not dead:
		return
	names = ", ".join(f"{i.number} ({i.status})" for _, i in dead)
	if voided_as_demand:
		group.flag(
			DEAD_INVOICES,
			f"Ordered but not invoiced: {names}. Their quantities are still to invoice "
			"(Voided Invoices Become Demand is ticked)",
		)
		return
	for index, invoice in dead:
		group.left_out[index] = f"{invoice.status.lower()}: it bills nothing"
	if len(dead) == len(group.invoices):
		group.flag(ALL_DEAD, f"Every invoice is voided or deleted ({names}): nothing was sold")
	else:
		group.flag(
			DEAD_INVOICES,
			f"Left out: {names}. A voided or deleted invoice bills nothing, so its quantities are not "
			"part of the order (tick Voided Invoices Become Demand to order them)",
		)


@dataclass(frozen=True)
class Rules:
	"""What a proposal needs to know of the site: see ``build_proposed_orders``."""

	tax_rates: Mapping[str, Decimal]
	imported: Mapping[str, str] = field(default_factory=dict)
	taken: frozenset = frozenset()  # casefolded invoice numbers
	known_contacts: set[str] | None = None
	limits: Mapping[str, int] = field(default_factory=lambda: dict(TEXT_LIMITS))
	voided_as_demand: bool = False

	@property
	def digest(self) -> str:
		"""What a proposal depends on besides its invoices and the site's records: the tax rates, the columns'
		lengths and whether voided invoices are demand (a kept proposal is used only under the same)."""
		text = repr((sorted(self.tax_rates.items()), sorted(self.limits.items()), self.voided_as_demand))
		return hashlib.sha1(text.encode()).hexdigest()[:16]

	@classmethod
	def of(
		cls,
		tax_rates: Mapping[str, Decimal],
		imported: Mapping[str, str] | None = None,
		taken_numbers: Iterable[str] = (),
		known_contacts: set[str] | None = None,
		text_limits: Mapping[str, int] | None = None,
		voided_as_demand: bool = False,
	) -> "Rules":
		return cls(
			tax_rates=tax_rates,
			imported=imported or {},
			taken=frozenset(number.casefold() for number in taken_numbers),
			known_contacts=known_contacts,
			limits={**TEXT_LIMITS, **(text_limits or {})},
			voided_as_demand=voided_as_demand,
		)


def build_proposed_orders(
	invoices: Iterable[SourceInvoice],
	grouping: str,
	pattern: re.Pattern | None,
	tax_rates: Mapping[str, Decimal],
	imported: Mapping[str, str] | None = None,
	taken_numbers: Iterable[str] = (),
	known_contacts: set[str] | None = None,
	text_limits: Mapping[str, int] | None = None,
	voided_as_demand: bool = False,
) -> list[ProposedOrder]:
	"""Groups the invoices and proposes one order per group, flagged with the reasons it cannot be imported.

	``imported`` maps Xero InvoiceIDs already linked here to their order; ``taken_numbers`` are invoice
	numbers used here by other invoices; ``known_contacts`` (None: not checked) are the ContactIDs that
	exist here as customers; ``text_limits`` the lengths of the columns Xero's texts go to (TEXT_LIMITS by
	default). Voided and deleted invoices are left out of their group's order unless ``voided_as_demand``,
	which orders their quantities as still to invoice.
	"""
	rules = Rules.of(tax_rates, imported, taken_numbers, known_contacts, text_limits, voided_as_demand)
	return [propose(group, rules) for group in group_invoices(invoices, grouping, pattern)]


def stream_proposed_orders(
	groups: Iterable[Sequence[SourceInvoice]],
	grouping: str,
	pattern: re.Pattern | None,
	rules_for: Callable[[list[SourceInvoice]], Rules],
	chunk_invoices: int = 2000,
) -> Iterator[ProposedOrder]:
	"""``build_proposed_orders`` over groups read one at a time (``read_in_groups``): the site's lookups are
	asked once per run of groups of about ``chunk_invoices`` invoices (``rules_for`` gets their invoices),
	so memory holds one such run, never the whole fetch. Proposes each group as ``build_proposed_orders``
	does, in the order the groups come."""
	pending: list[ProposedOrder] = []
	count = 0
	for members in groups:
		group = new_group(members, grouping, pattern)
		pending.append(group)
		count += len(group.invoices)
		if count >= chunk_invoices:
			yield from _propose_all(pending, rules_for)
			pending, count = [], 0
	if pending:
		yield from _propose_all(pending, rules_for)


def _propose_all(groups: list[ProposedOrder], rules_for) -> Iterator[ProposedOrder]:
	rules = rules_for([invoice for group in groups for invoice in group.invoices])
	for group in groups:
		yield propose(group, rules)


def propose(group: ProposedOrder, rules: Rules) -> ProposedOrder:
	"""Flags the group with the reasons it cannot be imported and works out the order it would become."""
	first = group.invoices[0]
	group.contact_id, group.contact_name = first.contact_id, first.contact_name
	group.currency, group.line_amount_type = first.currency, first.line_amount_type
	group.order_date = min(i.date for i in group.invoices)
	if group.key is None:
		group.flag(
			NO_REFERENCE,
			"No reference"
			if not first.reference.strip()
			else f"Reference {first.reference!r} has no PO number matching the pattern",
		)
	_flag_dead(group, rules.voided_as_demand)
	_flag_mixtures(group)
	_flag_out_of_range(group, rules.limits)
	_merge_lines(group, rules.tax_rates, rules.voided_as_demand)
	if not group.lines and not any(f.code in (ALL_DEAD, BAD_LINE, UNKNOWN_TAX) for f in group.flags):
		group.flag(BAD_LINE, "No line orders anything")
	if group.lines and not any(
		f.code in CONFLICTS | {UNKNOWN_TAX, BAD_LINE, OUT_OF_RANGE} for f in group.flags
	):
		try:
			_price(group)
		except LineValidationError as e:  # merged quantities or totals the columns cannot hold
			group.totals = None
			group.flag(OUT_OF_RANGE, f"The order would be too large: {e}")
	flag_site(group, rules)
	return group


# What a proposal owes to the site's records (its invoices imported or their numbers taken here since, its
# contact synced), checked again at the import; the rest of it depends only on the invoices and ``Rules.digest``.
SITE_FLAGS = frozenset({ALREADY_IMPORTED, NUMBER_TAKEN, UNKNOWN_CONTACT})


def flag_site(group: ProposedOrder, rules: Rules) -> None:
	"""Flags what keeps the group out because of the site's records (``SITE_FLAGS``)."""
	imported, taken = rules.imported, rules.taken
	linked = {i.number: imported[i.invoice_id] for i in group.invoices if i.invoice_id in imported}
	if linked:
		orders = _names(linked.values())
		group.flag(ALREADY_IMPORTED, f"Already imported: {_names(linked)} (order {orders})")
	clashes = [
		i.number
		for index, i in enumerate(group.invoices)
		if index not in group.left_out and i.invoice_id not in imported and i.number.casefold() in taken
	]
	if clashes:
		group.flag(NUMBER_TAKEN, f"Invoice number already used here by another invoice: {_names(clashes)}")
	if rules.known_contacts is not None and group.contact_id not in rules.known_contacts:
		group.flag(UNKNOWN_CONTACT, f"Contact {group.contact_name} is not in the synced Xero contacts")


# ---- a preview's proposal kept for its import -------------------------------------------------------------

# An order line as a plan keeps it: these fields in this order, the figures as their exact text.
PLAN_LINE_FIELDS = (
	"item_code",
	"description",
	"unit_price",
	"discount_rate",
	"tax_type",
	"tax_rate",
	"account_code",
	"qty",
	"invoiced_qty",
	"line_amount",
	"tax_amount",
	"discount_amount",
	"carried",
	"tracking",
)
_PLAN_FIGURES = frozenset(
	{
		"unit_price",
		"discount_rate",
		"tax_rate",
		"qty",
		"invoiced_qty",
		"line_amount",
		"tax_amount",
		"discount_amount",
	}
)
_TOTALS_FIELDS = ("subtotal", "total_discount", "total_tax", "grand_total")


def _plan_value(line: OrderLine, name: str):
	value = getattr(line, name)
	if name in _PLAN_FIGURES:
		return str(value)
	return list(value) if name == "tracking" else value


def _line_value(name: str, value):
	if name in _PLAN_FIGURES:
		return Decimal(value)
	return tuple(value) if name == "tracking" else value


def plan_of(group: ProposedOrder, digest: str) -> dict:
	"""What the import needs of a proposal, JSON-ready (figures as their exact text), under the digest of the
	rules it was made with: the import takes it as it is (``from_plan``) instead of proposing again, and
	checks only the site's records again (``flag_site``)."""
	return {
		"rules": digest,
		"invoices": [i.invoice_id for i in group.invoices],
		"key": group.key,
		"contact": [group.contact_id, group.contact_name],
		"currency": group.currency,
		"amount_type": group.line_amount_type,
		"date": group.order_date,
		"left_out": [[index, reason] for index, reason in group.left_out.items()],
		"flags": [[f.code, f.reason] for f in group.flags if f.code not in SITE_FLAGS],
		"lines": [[_plan_value(line, name) for name in PLAN_LINE_FIELDS] for line in group.lines],
		"line_of": [[invoice, line, position] for (invoice, line), position in group.line_of.items()],
		"totals": [str(getattr(group.totals, f)) for f in _TOTALS_FIELDS] if group.totals else None,
	}


def from_plan(plan: dict, invoices: Sequence[SourceInvoice], digest: str) -> ProposedOrder | None:
	"""The proposal ``plan_of`` kept, over the group's invoices (in any order; their lines are not read), or
	None when it no longer applies: made under other rules, or for other invoices. Without the site's flags,
	which ``flag_site`` adds."""
	by_id = {invoice.invoice_id: invoice for invoice in invoices}
	if plan.get("rules") != digest or len(invoices) != len(by_id) or set(by_id) != set(plan["invoices"]):
		return None
	group = ProposedOrder(plan["key"], [by_id[invoice_id] for invoice_id in plan["invoices"]])
	group.contact_id, group.contact_name = plan["contact"]
	group.currency, group.line_amount_type = plan["currency"], plan["amount_type"]
	group.order_date = plan["date"]
	group.left_out = {index: reason for index, reason in plan["left_out"]}
	group.flags = [Flag(code, reason) for code, reason in plan["flags"]]
	group.lines = [
		OrderLine(
			**{name: _line_value(name, value) for name, value in zip(PLAN_LINE_FIELDS, values, strict=True)}
		)
		for values in plan["lines"]
	]
	group.line_of = {(invoice, line): position for invoice, line, position in plan["line_of"]}
	if plan["totals"] is not None:  # priced, as _price leaves a group
		for line in group.lines:
			line.priced = PricedLine(line.line_amount, line.tax_amount, line.discount_amount)
		group.totals = Totals(*(Decimal(figure) for figure in plan["totals"]))
	return group


@dataclass(frozen=True)
class Summary:
	groups: int
	invoices: int
	to_create: int
	skipped: int
	conflicts: int
	already_imported: int
	warnings: int


def summarise(groups: list[ProposedOrder]) -> Summary:
	conflicts = sum(1 for g in groups if g.is_conflict)
	to_create = sum(1 for g in groups if g.importable)
	return Summary(
		groups=len(groups),
		invoices=sum(len(g.invoices) for g in groups),
		to_create=to_create,
		skipped=len(groups) - to_create - conflicts,
		conflicts=conflicts,
		already_imported=sum(1 for g in groups if any(f.code == ALREADY_IMPORTED for f in g.flags)),
		warnings=sum(1 for g in groups if g.importable and g.flags),
	)


def preview_row(group: ProposedOrder) -> dict:
	"""What the preview shows of one group (JSON-ready, compact)."""
	t = group.totals
	return {
		"key": group.label,
		"contact": group.contact_name,
		"contact_id": group.contact_id,
		"currency": group.currency,
		"amount_type": group.line_amount_type,
		"date": group.order_date,
		"importable": group.importable,
		"conflict": group.is_conflict,
		"flags": [{"code": f.code, "reason": f.reason, "blocking": f.blocking} for f in group.flags],
		"invoices": [
			{
				"number": i.number,
				"status": i.status,
				"total": str(i.total),
				"date": i.date,
				"left_out": group.left_out.get(index),
			}
			for index, i in enumerate(group.invoices)
		],
		"lines": [
			{
				"item_code": line.item_code,
				"description": line.description,
				"qty": str(line.qty),
				"invoiced_qty": str(line.invoiced_qty),
				"unit_price": str(line.unit_price),
				"discount_rate": str(line.discount_rate),
				"tax_type": line.tax_type,
				"line_amount": str(line.priced.line_amount) if line.priced else None,
				"tax_amount": str(line.priced.tax_amount) if line.priced else None,
				"carried": line.carried,
			}
			for line in group.lines
		],
		"subtotal": str(t.subtotal) if t else None,
		"total_tax": str(t.total_tax) if t else None,
		"grand_total": str(t.grand_total) if t else None,
	}
