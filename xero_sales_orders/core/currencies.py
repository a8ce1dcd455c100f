"""Currencies as Xero has them: the organisation's enabled list, exchange rates and base-currency figures.

Xero's ``CurrencyRate`` on an invoice is the number of units of the invoice's currency that one unit of the
organisation's base currency buys, as Xero's own screens show it ("1 NZD = 0.6012 USD"): an AUD quote of an
NZD organisation in October 2019 carries 0.937053 in Xero's own spec, when an NZD bought about 0.94 AUD.
So an amount in the invoice's currency is ``amount / rate`` in the base currency (facts §11). Omitted, Xero
takes the XE.com rate of the invoice's date; a base-currency invoice always has the rate 1.
"""

from decimal import Decimal, InvalidOperation

from .errors import CurrencyRateError
from .money import round_money

RATE_PLACES = Decimal("0.000001")  # Xero: [18].[6]
MAX_RATE = Decimal("1000000000000")  # 12 digits before the point


def currency_fields(currency: dict) -> dict:
	"""One of Xero's enabled currencies as the local Xero Currency keeps it."""
	code = str(currency.get("Code") or "").upper()
	return {
		"currency_code": code,
		"description": currency.get("Description") or code,
		"status": "ACTIVE",
		"title": f"{code} {currency.get('Description') or ''}".strip(),
	}


def parse_rate(value) -> Decimal | None:
	"""An exchange rate a user gave (None or empty: let Xero take its own), checked as Xero would."""
	if value is None or (isinstance(value, str) and not value.strip()):
		return None
	if isinstance(value, bool):
		raise CurrencyRateError(f"The exchange rate must be a number, not {value!r}")
	try:
		rate = Decimal(str(value).strip())
	except (InvalidOperation, ValueError):
		raise CurrencyRateError(f"The exchange rate must be a number, not {value!r}") from None
	if not rate.is_finite() or rate <= 0:
		raise CurrencyRateError(f"The exchange rate must be greater than zero, not {value!r}")
	if rate >= MAX_RATE:
		raise CurrencyRateError(f"The exchange rate {value!r} is too large")
	if rate != rate.quantize(RATE_PLACES):
		raise CurrencyRateError(f"The exchange rate {value!r} has more than Xero's 6 decimal places")
	return rate.quantize(RATE_PLACES)


def base_amount(amount: Decimal, rate: Decimal | None) -> Decimal | None:
	"""``amount`` (in the document's currency) in the organisation's base currency at Xero's ``rate``."""
	if rate is None or rate <= 0:
		return None
	return round_money(Decimal(amount) / Decimal(rate))
