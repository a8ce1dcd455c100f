"""Deposits and progress billing: a deposit invoice for part of an order, deducted again by later invoices.

A deposit invoice bills a percentage or an amount of the order's total on the organisation's deposit account,
with the order's tax: one line per tax of the order (one line for an order with one tax rate), the deposit
shared between them as the order's total is. Each later invoice of the order's lines deducts part of it with
negative lines on the same account and tax, either in proportion to what it bills or all on the final invoice;
the invoice that completes the order deducts exactly what is left. So every deposit is deducted to the cent, in
amount and in tax, and the order's invoices add up to its total however it was split.

Figures are signed: a deposit line is positive, a deduction negative. What the order's live invoices leave to
deduct is the sum of their deposit and deduction lines, per account and tax (``DepositPosition``): a voided
deposit drops out of it, and so does a voided invoice's deduction. If a deposit is voided after an invoice
deducted part of it, that part is below zero and the next invoice gives it back with a positive line.

Two rules keep every invoice at or above zero: a deposit may not exceed what is still to invoice (the order's
outstanding amount less the deposits not yet deducted), and an invoice never deducts more than what is left
after it needs (proportion: the same share of the deposit as of the outstanding amount; final: only what the
invoices after it could not take).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from .errors import DepositExceedsError, InvalidDepositError
from .money import (
	CENT,
	EXCLUSIVE,
	FIGURE_LIMIT,
	HUNDRED,
	INCLUSIVE,
	LIMIT_TEXT,
	NO_TAX,
	ZERO,
	line_tax,
	money_str,
	round_money,
	to_bounded_decimal,
)
from .pricing import PricedLine, Totals, totals

IN_PROPORTION = "In Proportion"
ON_FINAL_INVOICE = "On Final Invoice"
DEDUCTION_MODES = (IN_PROPORTION, ON_FINAL_INVOICE)


@dataclass(frozen=True)
class DepositLine:
	"""A deposit (positive) or deduction (negative) line, in Xero's terms: LineAmount and TaxAmount."""

	tax_type: str
	tax_rate: Decimal
	line_amount: Decimal
	tax_amount: Decimal
	account_code: str = ""

	@property
	def key(self) -> tuple[str, str, Decimal]:
		return (self.account_code, self.tax_type, self.tax_rate)

	def total(self, line_amount_type: str) -> Decimal:
		"""What the line adds to the invoice's Total."""
		return line_total(self.line_amount, self.tax_amount, line_amount_type)

	def priced(self) -> PricedLine:
		return PricedLine(self.line_amount, self.tax_amount, ZERO)


@dataclass(frozen=True)
class DepositPlan:
	lines: tuple[DepositLine, ...]
	totals: Totals


@dataclass(frozen=True)
class DepositPosition:
	"""What the order's live deposit invoices leave to deduct, per account and tax, and how to deduct it."""

	remaining: tuple[DepositLine, ...]
	mode: str = IN_PROPORTION

	def total(self, line_amount_type: str) -> Decimal:
		return sum((line.total(line_amount_type) for line in self.remaining), ZERO)


def line_total(amount: Decimal, tax: Decimal, line_amount_type: str) -> Decimal:
	"""A line's part of the invoice Total: its amount and tax (Exclusive), or its amount, tax included."""
	return amount + tax if line_amount_type == EXCLUSIVE else amount


def validate_mode(mode: str | None) -> str:
	if not mode:
		return IN_PROPORTION
	if mode not in DEDUCTION_MODES:
		raise InvalidDepositError(f"Deduct deposit must be one of {', '.join(DEDUCTION_MODES)}, not {mode!r}")
	return mode


def parse_deposit(percent=None, amount=None) -> tuple[str, Decimal]:
	"""("percent" or "amount", its figure) from a deposit request, checked (InvalidDepositError)."""
	given = [(k, v) for k, v in (("percent", percent), ("amount", amount)) if v not in (None, "")]
	if len(given) != 1:
		raise InvalidDepositError(
			"Give the deposit as either a percent of the order or an amount, not both or neither"
		)
	label, value = given[0]
	try:
		figure = to_bounded_decimal(value, label)
	except ValueError as e:
		raise InvalidDepositError(f"Deposit {e}") from None
	if figure <= 0:
		raise InvalidDepositError(f"The deposit {label} must be greater than 0, not {figure}")
	places = Decimal("0.0001") if label == "percent" else CENT
	if figure != figure.quantize(places):
		raise InvalidDepositError(
			f"The deposit {label} {figure} has more than {4 if label == 'percent' else 2} decimal places"
		)
	return label, figure


def deposit_amount(order_total: Decimal, percent=None, amount=None) -> Decimal:
	"""The deposit's total: ``percent`` of the order's total (rounded half-up to the cent) or ``amount``."""
	label, figure = parse_deposit(percent, amount)
	if label == "amount":
		return figure
	if figure > HUNDRED:
		raise DepositExceedsError(f"A deposit of {figure}% is above the order's total (100%)")
	return round_money(order_total * figure / HUNDRED)


def tax_shares(
	order_lines: Iterable[tuple[str, Decimal, Decimal, Decimal]], line_amount_type: str
) -> list[tuple[str, Decimal, Decimal]]:
	"""(tax type, tax rate, part of the order's total) per tax of the order, from its lines' (tax type, tax
	rate, line amount, tax amount), in the order the taxes first appear."""
	shares: dict[tuple[str, Decimal], Decimal] = {}
	for tax_type, tax_rate, amount, tax in order_lines:
		rate = ZERO if line_amount_type == NO_TAX else tax_rate
		key = (tax_type or "", rate)
		shares[key] = shares.get(key, ZERO) + line_total(amount, tax, line_amount_type)
	return [(tax_type, rate, total) for (tax_type, rate), total in shares.items()]


def split_cents(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
	"""``total`` shared in proportion to ``weights`` (all above zero), in cents that add up to it exactly:
	each share rounded down, the cents left over going to the largest remainders (the first on a tie)."""
	whole = sum(weights, ZERO)
	if not weights or whole <= 0:
		raise ValueError("split_cents needs weights above zero")
	exact = [total * w / whole for w in weights]
	shares = [e.quantize(CENT, rounding=ROUND_DOWN) for e in exact]
	left = int(((total - sum(shares, ZERO)) / CENT).to_integral_value())
	by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
	for i in by_remainder[:left]:
		shares[i] += CENT
	return shares


def natural_tax(total: Decimal, tax_rate: Decimal, line_amount_type: str) -> Decimal:
	"""The tax in a line of ``total`` as Xero would compute it at ``tax_rate``: Inclusive, the tax contained in
	the total; Exclusive, the tax of the amount whose own tax brings it to the total (when no amount does,
	the amount nearest total / (1 + rate), and the tax the rest)."""
	if line_amount_type == NO_TAX or not tax_rate:
		return ZERO
	if line_amount_type == INCLUSIVE:
		return line_tax(total, tax_rate, INCLUSIVE)
	guess = round_money(total * HUNDRED / (HUNDRED + tax_rate))
	for amount in (guess, guess - CENT, guess + CENT):
		if amount + line_tax(amount, tax_rate, EXCLUSIVE) == total:
			return total - amount
	return total - guess


def _take(remaining: DepositLine, share: Decimal, line_amount_type: str) -> tuple[Decimal, Decimal]:
	"""(line amount, tax) of ``share`` of a remaining deposit line (0 < share <= its total): all of it when the
	share is the whole, else Xero's tax of the share, kept within what remains of amount and tax."""
	whole = remaining.total(line_amount_type)
	if share == whole:
		return remaining.line_amount, remaining.tax_amount
	tax = natural_tax(share, remaining.tax_rate, line_amount_type)
	if line_amount_type == EXCLUSIVE:
		low, high = max(ZERO, share - remaining.line_amount), min(share, remaining.tax_amount)
	else:  # the tax is inside the amount: what is left must keep at most its own amount as tax
		low = max(ZERO, remaining.tax_amount - (remaining.line_amount - share))
		high = min(share, remaining.tax_amount)
	if low <= high:
		tax = min(max(tax, low), high)
	amount = share - tax if line_amount_type == EXCLUSIVE else share
	return amount, tax


def plan_deposit(
	order_lines: Iterable[tuple[str, Decimal, Decimal, Decimal]],
	line_amount_type: str,
	account_code: str,
	total: Decimal,
	order_total: Decimal,
	still_to_invoice: Decimal,
) -> DepositPlan:
	"""The deposit invoice's lines for a deposit of ``total`` (see ``deposit_amount``).

	``still_to_invoice`` is the order's outstanding amount less the deposits it has not deducted yet: a
	deposit above it (or above the order's total) is refused, since the invoices after it could not deduct it
	without going below zero.
	"""
	if total > order_total:
		raise DepositExceedsError(
			f"A deposit of {money_str(total)} is above the order's total of {money_str(order_total)}"
		)
	if total > still_to_invoice:
		raise DepositExceedsError(
			f"A deposit of {money_str(total)} is above what is still to invoice on the order "
			f"({money_str(max(still_to_invoice, ZERO))}, after the deposits not deducted yet)"
		)
	if total >= FIGURE_LIMIT:
		raise InvalidDepositError(f"The deposit must be below {LIMIT_TEXT}")
	shares = [s for s in tax_shares(order_lines, line_amount_type) if s[2] > 0]
	if not shares:
		raise DepositExceedsError("The order's total is 0: there is nothing to take a deposit on")
	lines = []
	for (tax_type, rate, _), part in zip(shares, split_cents(total, [s[2] for s in shares]), strict=True):
		if not part:
			continue
		tax = natural_tax(part, rate, line_amount_type)
		amount = part - tax if line_amount_type == EXCLUSIVE else part
		lines.append(DepositLine(tax_type, rate, amount, tax, account_code))
	return DepositPlan(tuple(lines), totals((line.priced() for line in lines), line_amount_type))


def position(rows: Iterable[DepositLine], mode: str | None = None) -> DepositPosition | None:
	"""The deposit position from the deposit and deduction lines of the order's live invoices (None: none)."""
	sums: dict[tuple, list[Decimal]] = {}
	first: dict[tuple, DepositLine] = {}
	for row in rows:
		first.setdefault(row.key, row)
		figures = sums.setdefault(row.key, [ZERO, ZERO])
		figures[0] += row.line_amount
		figures[1] += row.tax_amount
	if not sums:
		return None
	remaining = tuple(
		DepositLine(first[key].tax_type, first[key].tax_rate, amount, tax, first[key].account_code)
		for key, (amount, tax) in sums.items()
		if amount or tax
	)
	return DepositPosition(remaining, validate_mode(mode))


def plan_deductions(
	deposits: DepositPosition | None,
	line_amount_type: str,
	invoice_total: Decimal,
	outstanding_before: Decimal,
	completes: bool,
) -> tuple[DepositLine, ...]:
	"""The deposit lines of an invoice of the order's lines whose own Total is ``invoice_total``, raised when
	``outstanding_before`` was still to invoice; ``completes``: nothing is left to invoice after it.

	What a voided deposit leaves below zero is given back in full (a positive line). Of what is left to
	deduct: all of it on the invoice that completes the order; before that, in proportion, the same share of
	it as the invoice bills of the outstanding amount, and on the final invoice only what the invoices after
	this one could not take. Never more than keeps the invoice at or above zero.
	"""
	if deposits is None or not deposits.remaining:
		return ()
	lat = line_amount_type
	lines = []
	given_back = ZERO
	to_deduct = []
	for line in deposits.remaining:
		if line.total(lat) > 0:
			to_deduct.append(line)
		else:  # a deposit voided after it was deducted: the customer was credited what they never paid
			lines.append(
				DepositLine(
					line.tax_type, line.tax_rate, -line.line_amount, -line.tax_amount, line.account_code
				)
			)
			given_back -= line.total(lat)
	left = sum((line.total(lat) for line in to_deduct), ZERO)
	if not to_deduct:
		return tuple(lines)
	after = outstanding_before - invoice_total
	if completes or outstanding_before <= 0 or after <= 0:
		deduct = left
	elif deposits.mode == ON_FINAL_INVOICE:
		deduct = max(ZERO, left - after)
	else:
		deduct = round_money(left * invoice_total / outstanding_before)
	deduct = max(ZERO, min(deduct, left, invoice_total + given_back))
	if deduct:
		shares = split_cents(deduct, [line.total(lat) for line in to_deduct])
		for line, share in zip(to_deduct, shares, strict=True):
			if share:
				amount, tax = _take(line, share, lat)
				lines.append(DepositLine(line.tax_type, line.tax_rate, -amount, -tax, line.account_code))
	return tuple(lines)
