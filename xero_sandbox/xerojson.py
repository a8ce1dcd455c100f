"""JSON as Xero writes it: Decimal figures as numbers that keep their places, MS-JSON dates."""

import json
import re
import secrets
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime

# Decimals pass through the C encoder as marked strings and are unquoted afterwards, which keeps
# 0.00 as Xero writes it without a slow pure-Python encoder. The random marker cannot clash with data.
_MARK = f"~dec{secrets.token_hex(4)}~"
_MARKED = re.compile(r'"' + re.escape(_MARK) + r'(-?[0-9.E+-]+)"')
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _default(value):
	if isinstance(value, Decimal):
		return _MARK + str(value)
	if isinstance(value, datetime | date):
		return ms_date(value)
	raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(payload) -> bytes:
	text = json.dumps(payload, default=_default, ensure_ascii=False, separators=(",", ":"))
	return _MARKED.sub(r"\1", text).encode("utf-8")


def loads(raw: bytes):
	"""Request bodies: numbers as Decimal, as Xero reads them (no float noise)."""
	return json.loads(raw, parse_float=Decimal)


def as_utc(value: date | datetime) -> datetime:
	if isinstance(value, datetime):
		return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
	return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)


def ms_date(value: date | datetime) -> str:
	"""``/Date(1539993600000+0000)/``: epoch milliseconds, as on every Xero date."""
	millis = (as_utc(value) - EPOCH) // timedelta(milliseconds=1)
	return f"/Date({millis}+0000)/"


def date_string(value: date) -> str:
	"""The ISO helper Xero puts beside a date (``DateString``): ``2018-10-20T00:00:00``."""
	return f"{value.isoformat()}T00:00:00"


def utc_string(value: datetime) -> str:
	return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S")


def connection_timestamp(value: datetime) -> str:
	"""Identity timestamps as Xero sends them: 7 fractional digits and no zone (facts §10)."""
	value = as_utc(value)
	return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0"


def webhook_timestamp(value: datetime) -> str:
	"""``eventDateUtc`` as in Xero's examples: milliseconds and no zone (``2025-12-02T00:44:09.923``)."""
	value = as_utc(value)
	return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"


def parse_date(value) -> date:
	"""A date sent to Xero: ``YYYY-MM-DD``, an ISO date-time or ``/Date(ms)/``. Raises ValueError."""
	if isinstance(value, date) and not isinstance(value, datetime):
		return value
	if not isinstance(value, str) or not value.strip():
		raise ValueError(f"not a date: {value!r}")
	text = value.strip()
	match = _MS_DATE.match(text)
	if match:
		return (EPOCH + timedelta(milliseconds=int(match.group(1)))).date()
	return datetime.fromisoformat(text[:10]).date()


def parse_timestamp(value: str) -> datetime:
	"""An ``If-Modified-Since`` value: ISO 8601 (Xero's spec) or an HTTP date. Raises ValueError."""
	text = value.strip()
	match = _MS_DATE.match(text)
	if match:
		return EPOCH + timedelta(milliseconds=int(match.group(1)))
	try:
		parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
	except ValueError:
		try:
			parsed = parsedate_to_datetime(text)
		except (TypeError, ValueError):
			raise ValueError(f"not a timestamp: {value!r}") from None
	return as_utc(parsed).astimezone(timezone.utc)


def to_number(value) -> Decimal:
	"""A JSON number or numeric string as Decimal; ValueError otherwise."""
	if isinstance(value, bool) or value is None:
		raise ValueError(f"not a number: {value!r}")
	try:
		result = Decimal(str(value))
	except InvalidOperation:
		raise ValueError(f"not a number: {value!r}") from None
	if not result.is_finite():
		raise ValueError(f"not a number: {value!r}")
	return result
