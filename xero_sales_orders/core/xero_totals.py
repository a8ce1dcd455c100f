"""Xero's totals beside the app's: what Xero says an invoice comes to, and where that differs from the app.

After every push the app reads back the SubTotal, TotalTax and Total Xero returns. ``compare_totals`` lists
every difference, to the cent, in words a person can act on; an empty list means Xero and the app agree.
The figures compared are the invoice's value (SubTotal, TotalTax, Total). TotalDiscount is not: a line
that takes a remainder may be sent with a raised UnitAmount or a DiscountAmount, so Xero's discount figure
can differ from the app's while every amount billed is the same.
"""

from collections.abc import Mapping
from decimal import Decimal

from .errors import MoneyError
from .money import round_money, to_decimal

# (label, Xero's field, the app's field names in the order they are tried)
COMPARED = (
	("SubTotal", "SubTotal", ("subtotal",)),
	("TotalTax", "TotalTax", ("total_tax",)),
	("Total", "Total", ("total", "grand_total")),
)


def _field(source, names: tuple[str, ...]):
	for name in names:
		if isinstance(source, Mapping):
			if name in source:
				return source[name]
		elif hasattr(source, name):
			return getattr(source, name)
	return None


def _money(value, what: str) -> Decimal | None:
	if value is None or value == "":
		return None
	try:
		return round_money(to_decimal(value, what))
	except MoneyError:
		return None


def xero_totals(xero_element: Mapping) -> dict[str, Decimal | None]:
	"""Xero's SubTotal, TotalTax and Total from an invoice element, as Decimals (None where absent)."""
	return {label: _money((xero_element or {}).get(key), label) for label, key, _ in COMPARED}


def compare_totals(app_totals, xero_element: Mapping) -> list[str]:
	"""Human-readable differences between the app's totals and Xero's, [] when they agree to the cent.

	``app_totals`` is anything with ``subtotal``, ``total_tax`` and ``total`` (or ``grand_total``) as
	attributes or keys: a Xero Invoice document, a dict, or ``core.pricing.Totals``. ``xero_element`` is
	the invoice as Xero returned it (``SubTotal``, ``TotalTax``, ``Total``; numbers, strings or Decimals).
	"""
	theirs = xero_totals(xero_element)
	currency = (xero_element or {}).get("CurrencyCode") or ""
	unit = f" {currency}" if currency else ""
	differences = []
	for label, _, names in COMPARED:
		ours = _money(_field(app_totals, names), label)
		xero = theirs[label]
		if xero is None:
			differences.append(f"Xero's answer has no {label}")
			continue
		if ours is None:
			differences.append(f"Xero's {label} is {xero}{unit}; the app has none")
			continue
		if xero != ours:
			gap = xero - ours
			direction = "more" if gap > 0 else "less"
			differences.append(
				f"Xero's {label} is {xero}{unit}, the app's {ours}{unit} ({abs(gap)} {direction} in Xero)"
			)
	return differences
