"""Xero's wire formats: JSON numbers as Decimal, MS-JSON `/Date(...)/` dates, the If-Modified-Since header."""

import json
import re
from datetime import date, datetime, timezone
from decimal import Decimal

_MS_JSON_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


def loads(data: str | bytes | bytearray):
	"""Parse a Xero JSON body; money must never pass through float."""
	return json.loads(data, parse_float=Decimal)


def dumps(value) -> str:
	"""JSON for a Xero request: Decimals as JSON numbers, dates as `YYYY-MM-DD`."""
	return json.dumps(value, default=_json_default, separators=(",", ":"))


def _json_default(value):
	if isinstance(value, Decimal):
		number = int(value) if value == value.to_integral_value() else float(value)
		# json can only write numbers through int/float; refuse rather than silently change an amount.
		if Decimal(repr(number)) != value:
			raise ValueError(f"{value} cannot be sent as a JSON number without losing precision")
		return number
	if isinstance(value, datetime):
		return to_utc(value).strftime("%Y-%m-%dT%H:%M:%S")
	if isinstance(value, date):
		return value.isoformat()
	raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def parse_xero_date(value: str | None) -> datetime | None:
	"""`/Date(1539993600000+0000)/` or an ISO string (naive means UTC) → an aware UTC datetime.

	In MS-JSON the milliseconds are already UTC; the offset only says where the value was written.
	"""
	if not value:
		return None
	match = _MS_JSON_DATE.match(value.strip())
	if match:
		return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=timezone.utc)
	text = value.strip()
	if text.endswith(("Z", "z")):
		text = text[:-1] + "+00:00"
	# Xero sends up to 7 fraction digits; Python before 3.11 accepts at most 6.
	text = _LONG_FRACTION.sub(r"\1", text)
	try:
		parsed = datetime.fromisoformat(text)
	except ValueError:
		raise ValueError(f"Not a Xero date: {value!r}") from None
	if parsed.tzinfo is None:
		return parsed.replace(tzinfo=timezone.utc)
	return parsed.astimezone(timezone.utc)


def to_utc(moment: datetime | date) -> datetime:
	"""An aware UTC datetime; naive datetimes are taken as UTC, dates as their UTC midnight."""
	if not isinstance(moment, datetime):
		moment = datetime(moment.year, moment.month, moment.day)
	if moment.tzinfo is None:
		return moment.replace(tzinfo=timezone.utc)
	return moment.astimezone(timezone.utc)


def format_if_modified_since(moment: datetime | date) -> str:
	"""If-Modified-Since as Xero's spec declares it (an RFC 3339 date-time): UTC, to the second."""
	return to_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")
