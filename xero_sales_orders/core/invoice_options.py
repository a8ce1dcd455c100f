"""What the user may choose of an invoice before it goes to Xero: its date, its due date and whether Xero
receives it as a DRAFT or AUTHORISED (approved) invoice."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .currencies import parse_rate
from .errors import CurrencyRateError, InvoiceOptionError

SEND_STATUSES = ("DRAFT", "AUTHORISED")


@dataclass(frozen=True)
class InvoiceOptions:
	invoice_date: date | None = None
	due_date: date | None = None
	status: str | None = None  # None: the organisation's default
	# Xero's CurrencyRate for a foreign-currency invoice (units of it per unit of the base currency); None:
	# Xero takes its own XE.com rate of the invoice's date (core.currencies).
	currency_rate: Decimal | None = None


def _date(value, label: str) -> date | None:
	if value in (None, ""):
		return None
	if isinstance(value, date):
		return value
	if not isinstance(value, str):
		raise InvoiceOptionError(f"{label} must be a date as YYYY-MM-DD, not {value!r}")
	try:
		return date.fromisoformat(value.strip())
	except ValueError:
		raise InvoiceOptionError(f"{label} must be a date as YYYY-MM-DD, not {value!r}") from None


def parse_invoice_options(
	invoice_date=None, due_date=None, status=None, *, today: date, currency_rate=None
) -> InvoiceOptions:
	"""The chosen date, due date and status, checked: a due date before the invoice's date (today when none
	is given) or a status Xero does not take on a new sales invoice is refused with the reason."""
	invoice_day = _date(invoice_date, "Invoice Date")
	due_day = _date(due_date, "Due Date")
	if due_day and due_day < (invoice_day or today):
		raise InvoiceOptionError(
			f"Due Date {due_day.isoformat()} is before the invoice's date {(invoice_day or today).isoformat()}"
		)
	if status in (None, ""):
		status = None
	elif not isinstance(status, str) or status.strip().upper() not in SEND_STATUSES:
		raise InvoiceOptionError(f"Status must be DRAFT or AUTHORISED, not {status!r}")
	else:
		status = status.strip().upper()
	try:
		rate = parse_rate(currency_rate)
	except CurrencyRateError as e:
		raise InvoiceOptionError(str(e)) from None
	return InvoiceOptions(invoice_day, due_day, status, rate)
