"""Xero's sales payment terms: when an invoice falls due.

A contact's ``PaymentTerms.Sales`` ``{Day, Type}`` beats the organisation's default (facts §11):

- DAYSAFTERBILLDATE: the invoice date plus Day days;
- DAYSAFTERBILLMONTH: Day days after the end of the invoice's month;
- OFCURRENTMONTH: day Day of the invoice's month;
- OFFOLLOWINGMONTH: day Day of the month after it.

For the two "of the month" kinds Day must be 1-31, and a day the month lacks is its last day (the 31st of
February is the 28th or 29th). Xero's API does not fill a missing DueDate for us (XeroAPI/xero-python#78), so
the app computes it and sends it.
"""

from calendar import monthrange
from datetime import date, timedelta

from .errors import PaymentTermsError

DAYS_AFTER_BILL_DATE = "DAYSAFTERBILLDATE"
DAYS_AFTER_BILL_MONTH = "DAYSAFTERBILLMONTH"
OF_CURRENT_MONTH = "OFCURRENTMONTH"
OF_FOLLOWING_MONTH = "OFFOLLOWINGMONTH"
PAYMENT_TERM_TYPES = (DAYS_AFTER_BILL_DATE, DAYS_AFTER_BILL_MONTH, OF_CURRENT_MONTH, OF_FOLLOWING_MONTH)
OF_MONTH = (OF_CURRENT_MONTH, OF_FOLLOWING_MONTH)
MAX_DAYS = 3650  # ten years: a longer term is a typing error, not a payment term


def check_terms(day, kind: str) -> int:
	"""The Day of a payment term as an int, or PaymentTermsError saying what is wrong."""
	if kind not in PAYMENT_TERM_TYPES:
		raise PaymentTermsError(f"Payment terms must be one of {', '.join(PAYMENT_TERM_TYPES)}, not {kind!r}")
	if isinstance(day, bool) or not isinstance(day, int):
		try:
			day = int(str(day).strip())
		except ValueError:
			raise PaymentTermsError(f"The payment terms' day must be a whole number, not {day!r}") from None
	if kind in OF_MONTH and not 1 <= day <= 31:
		raise PaymentTermsError(
			f"The day of payment terms {kind} must be between 1 and 31 (the day of the month), not {day}"
		)
	if not 0 <= day <= MAX_DAYS:
		raise PaymentTermsError(f"The payment terms' days must be between 0 and {MAX_DAYS}, not {day}")
	return day


def _month_end(day: date) -> date:
	return day.replace(day=monthrange(day.year, day.month)[1])


def _day_of(year: int, month: int, day: int) -> date:
	return date(year, month, min(day, monthrange(year, month)[1]))


def due_date(issued: date, day, kind: str) -> date:
	"""The due date of an invoice dated ``issued`` under Xero's payment terms ``{Day: day, Type: kind}``."""
	day = check_terms(day, kind)
	if kind == DAYS_AFTER_BILL_DATE:
		return issued + timedelta(days=day)
	if kind == DAYS_AFTER_BILL_MONTH:
		return _month_end(issued) + timedelta(days=day)
	if kind == OF_CURRENT_MONTH:
		return _day_of(issued.year, issued.month, day)
	following = _month_end(issued) + timedelta(days=1)
	return _day_of(following.year, following.month, day)


def sales_terms(contact: dict) -> tuple[int, str] | tuple[None, None]:
	"""A Xero contact's own sales payment terms (Day, Type), or (None, None) when it has none."""
	sales = ((contact or {}).get("PaymentTerms") or {}).get("Sales") or {}
	kind, day = sales.get("Type"), sales.get("Day")
	if kind not in PAYMENT_TERM_TYPES or day is None:
		return None, None
	try:
		return check_terms(day, kind), kind
	except PaymentTermsError:
		return None, None  # what Xero holds is Xero's; a term we cannot read falls back to the default
