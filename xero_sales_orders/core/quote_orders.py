"""Orders from Xero quotes: an ACCEPTED quote becomes an order whose lines, prices, discounts, tax and tracking
are the quote's, and whose totals are the quote's totals as Xero computed them, to the cent.

Pure functions over Xero's JSON (no Frappe). Each quote line becomes an order line with its quantity, unit
amount, discount and tax type. A line whose figures the app's own arithmetic (``core.pricing``, Xero's
arithmetic) prices to exactly Xero's LineAmount and TaxAmount is an ordinary order line; a line Xero priced
otherwise (a DiscountAmount, a TaxAmount typed in Xero) keeps Xero's figures and is marked ``carried``, as an
imported line is (*Amounts as Invoiced in Xero*). A DiscountAmount becomes the discount rate it stands for
(to 4 places), so that a partial invoice of the line carries its share of the discount; the invoice that
completes the line takes the remainder, so the order's invoices still add up to the quote. The order's totals
are the sums of its lines and must equal the quote's SubTotal, TotalTax and Total, or the quote is refused.

Refused, with the reason (``QuoteRuleError``): a line the order cannot hold (a quantity of 0 or less with an
amount, a negative price or amount, a tax type unknown here, figures beyond the app's columns), an amount type
other than Xero's EXCLUSIVE / INCLUSIVE / NOTAX, no contact, no line that orders anything, totals that are
not the sum of the lines. ``ensure_accepted`` refuses a quote that is not ACCEPTED (``QuoteStatusError``).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from xero_sales_orders.xero.parsing import parse_xero_date

from .errors import LineValidationError, MoneyError, QuoteRuleError, QuoteStatusError
from .money import (
	EXCLUSIVE,
	HUNDRED,
	INCLUSIVE,
	NO_TAX,
	ZERO,
	gross_amount,
	round_money,
	to_bounded_decimal,
)
from .pricing import PricedLine, Totals, parse_line, price_line, totals

ACCEPTED = "ACCEPTED"
INVOICED = "INVOICED"
QUOTE_STATUSES = ("DRAFT", "SENT", "DECLINED", "ACCEPTED", "INVOICED", "DELETED")
# Quote.LineAmountTypes (upper case on quotes) -> the order's amount type
AMOUNT_TYPES = {"EXCLUSIVE": EXCLUSIVE, "INCLUSIVE": INCLUSIVE, "NOTAX": NO_TAX}
PO_NUMBER_LIMIT = 140  # the order's Customer PO / Reference column
RATE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class QuoteOrderLine:
	item_code: str
	description: str
	qty: Decimal
	unit_price: Decimal
	discount_rate: Decimal
	tax_type: str
	tax_rate: Decimal
	account_code: str
	line_amount: Decimal
	tax_amount: Decimal
	# True when the amounts are Xero's and not what qty x unit price x discount prices to.
	carried: bool
	tracking: tuple[dict, ...] = ()

	@property
	def priced(self) -> PricedLine:
		return PricedLine(
			self.line_amount, self.tax_amount, gross_amount(self.qty, self.unit_price) - self.line_amount
		)


@dataclass(frozen=True)
class QuoteOrder:
	"""What an order made from the quote holds."""

	quote_id: str
	number: str
	status: str
	contact_id: str
	contact_name: str
	date: str | None  # YYYY-MM-DD
	expiry_date: str | None
	currency: str
	line_amount_type: str
	reference: str
	title: str
	summary: str
	terms: str
	lines: tuple[QuoteOrderLine, ...]
	totals: Totals
	skipped: tuple[str, ...] = ()  # text-only lines: they order nothing

	@property
	def po_number(self) -> str:
		"""The quote's reference when the order's column holds it, else the quote's number."""
		reference = " ".join(self.reference.split())
		return reference if reference and len(reference) <= PO_NUMBER_LIMIT else self.number

	@property
	def remarks(self) -> str:
		parts = [f"From Xero quote {self.number}" + (f": {self.title}" if self.title else "")]
		reference = " ".join(self.reference.split())
		if reference and len(reference) > PO_NUMBER_LIMIT:
			parts.append(f"Reference: {reference}")
		if self.summary:
			parts.append(self.summary)
		if self.terms:
			parts.append(f"Terms: {self.terms}")
		if self.skipped:
			parts.append("Text lines of the quote: " + "; ".join(self.skipped))
		return "\n".join(parts)


def quote_label(quote: Mapping) -> str:
	return str(quote.get("QuoteNumber") or quote.get("QuoteID") or "(no number)")


def ensure_accepted(quote: Mapping) -> None:
	status = str(quote.get("Status") or "").upper()
	if status != ACCEPTED:
		raise QuoteStatusError(
			f"Quote {quote_label(quote)} is {status or 'without a status'} in Xero: "
			"only an ACCEPTED quote can become an order"
		)


def quote_date(quote: Mapping, key: str = "Date") -> str | None:
	"""A quote's date as YYYY-MM-DD: its ``<key>String`` helper, else the MS-JSON date."""
	text = quote.get(f"{key}String")
	if text:
		return str(text)[:10]
	try:
		moment = parse_xero_date(quote.get(key)) if quote.get(key) else None
	except ValueError:
		raise QuoteRuleError(f"Quote {quote_label(quote)} has a {key} Xero's format does not give") from None
	return moment.date().isoformat() if moment else None


def _figure(value, what: str, label: str) -> Decimal:
	try:
		return to_bounded_decimal(value, what)
	except MoneyError as e:
		raise QuoteRuleError(f"{label}: {e}") from None


def _discount_rate(qty: Decimal, unit: Decimal, rate: Decimal, amount: Decimal) -> Decimal:
	"""A DiscountAmount as the rate it stands for on qty x unit (0 when there is none)."""
	if rate or not amount:
		return rate
	gross = gross_amount(qty, unit)
	if gross <= 0:
		return ZERO
	return min(HUNDRED, (amount * HUNDRED / gross).quantize(RATE_PLACES, rounding=ROUND_HALF_UP))


def order_line(
	raw: Mapping, index: int, number: str, tax_rates: Mapping[str, Decimal], line_amount_type: str
) -> QuoteOrderLine | None:
	"""One quote line as an order line; None for a text-only line (it orders nothing)."""
	label = f"Quote {number} line {index}"
	qty = _figure(raw.get("Quantity"), "Quantity", label)
	amount = round_money(_figure(raw.get("LineAmount"), "LineAmount", label))
	if not qty and not amount:
		return None
	unit = _figure(raw.get("UnitAmount"), "UnitAmount", label)
	xero_tax = round_money(_figure(raw.get("TaxAmount"), "TaxAmount", label))
	tax_type = str(raw.get("TaxType") or "")
	rate = tax_rates.get(tax_type) if tax_type else ZERO
	if rate is None:
		raise QuoteRuleError(
			f"{label} uses tax type {tax_type}, which is not among this organisation's tax rates"
		)
	if amount < 0 or xero_tax < 0:
		raise QuoteRuleError(
			f"{label} has a negative amount ({amount}, tax {xero_tax}): an order line cannot"
		)
	discount = _discount_rate(
		qty,
		unit,
		_figure(raw.get("DiscountRate"), "DiscountRate", label),
		_figure(raw.get("DiscountAmount"), "DiscountAmount", label),
	)
	try:
		line = parse_line(qty, unit, discount, rate)
	except LineValidationError as e:
		raise QuoteRuleError(f"{label}: {e}") from None
	own = price_line(line, line_amount_type)
	description = str(raw.get("Description") or raw.get("ItemCode") or "")
	return QuoteOrderLine(
		item_code=str(raw.get("ItemCode") or ""),
		description=description,
		qty=line.qty,
		unit_price=line.unit_price,
		discount_rate=line.discount_rate,
		tax_type=tax_type,
		tax_rate=line.tax_rate,
		account_code=str(raw.get("AccountCode") or ""),
		line_amount=amount,
		tax_amount=xero_tax,
		carried=(own.line_amount, own.tax_amount) != (amount, xero_tax),
		tracking=tuple(t for t in raw.get("Tracking") or () if isinstance(t, Mapping)),
	)


def quote_order(quote: Mapping, tax_rates: Mapping[str, Decimal]) -> QuoteOrder:
	"""The order an ACCEPTED quote becomes (see the module's docstring); raises QuoteRuleError."""
	ensure_accepted(quote)
	number = quote_label(quote)
	public_type = str(quote.get("LineAmountTypes") or "EXCLUSIVE")
	line_amount_type = AMOUNT_TYPES.get(public_type)  # Xero spells them in capitals on quotes
	if line_amount_type is None:
		raise QuoteRuleError(
			f"Quote {number} has LineAmountTypes {public_type!r}; Xero's are {', '.join(AMOUNT_TYPES)}"
		)
	contact = quote.get("Contact") or {}
	if not contact.get("ContactID"):
		raise QuoteRuleError(f"Quote {number} has no contact")
	lines, skipped = [], []
	for index, raw in enumerate(quote.get("LineItems") or [], start=1):
		line = order_line(raw, index, number, tax_rates, line_amount_type)
		if line is None:
			if raw.get("Description"):
				skipped.append(" ".join(str(raw["Description"]).split()))
			continue
		lines.append(line)
	if not lines:
		raise QuoteRuleError(f"Quote {number} has no line that orders anything")
	try:
		order_totals = totals((line.priced for line in lines), line_amount_type)
	except LineValidationError as e:
		raise QuoteRuleError(f"Quote {number}: {e}") from None
	theirs = tuple(
		round_money(_figure(quote.get(key), key, f"Quote {number}"))
		for key in ("SubTotal", "TotalTax", "Total")
	)
	ours = (order_totals.subtotal, order_totals.total_tax, order_totals.grand_total)
	if theirs != ours:
		raise QuoteRuleError(
			f"Quote {number}: Xero's totals ({theirs[0]} + {theirs[1]} tax = {theirs[2]}) are not the sum of its "
			f"lines ({ours[0]} + {ours[1]} tax = {ours[2]})"
		)
	return QuoteOrder(
		quote_id=str(quote.get("QuoteID") or ""),
		number=number,
		status=ACCEPTED,
		contact_id=str(contact["ContactID"]),
		contact_name=str(contact.get("Name") or ""),
		date=quote_date(quote, "Date"),
		expiry_date=quote_date(quote, "ExpiryDate"),
		currency=str(quote.get("CurrencyCode") or "").upper(),
		line_amount_type=line_amount_type,
		reference=str(quote.get("Reference") or ""),
		title=str(quote.get("Title") or ""),
		summary=str(quote.get("Summary") or ""),
		terms=str(quote.get("Terms") or ""),
		lines=tuple(lines),
		totals=order_totals,
		skipped=tuple(skipped),
	)


def quote_summary(quote: Mapping) -> dict:
	"""What a list of quotes shows of one (JSON-ready): no lines, Xero's figures as text."""
	contact = quote.get("Contact") or {}
	public_type = str(quote.get("LineAmountTypes") or "EXCLUSIVE").upper()
	return {
		"quote_id": quote.get("QuoteID"),
		"number": quote_label(quote),
		"status": quote.get("Status"),
		"reference": quote.get("Reference") or "",
		"title": quote.get("Title") or "",
		"contact_id": contact.get("ContactID"),
		"contact_name": contact.get("Name") or "",
		"date": quote_date(quote, "Date"),
		"expiry_date": quote_date(quote, "ExpiryDate"),
		"currency": quote.get("CurrencyCode") or "",
		"line_amount_type": AMOUNT_TYPES.get(public_type, public_type),
		"lines": len(quote.get("LineItems") or []),
		"subtotal": str(quote.get("SubTotal", "")),
		"total_tax": str(quote.get("TotalTax", "")),
		"total": str(quote.get("Total", "")),
	}
