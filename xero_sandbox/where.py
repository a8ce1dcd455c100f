"""Xero's ``where`` and ``order`` query parameters over records held as Python values.

Supports what clients use: ``==``/``=``/``!=``/``<``/``<=``/``>``/``>=``, ``AND``/``&&``, ``OR``/``||``,
``NOT``/``!``, parentheses, dotted fields (``Contact.ContactID``), ``.Contains``/``.StartsWith``/``.EndsWith``
(``.ToLower()``/``.ToUpper()`` accepted and ignored: string comparisons are case-insensitive, as in Xero),
and the literals ``"text"``, numbers, ``true``/``false``/``null``, ``DateTime(y,m,d[,h,mi,s])``,
``Guid("…")``/``GUID("…")``.
"""

import re
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal

Record = dict
Predicate = Callable[[Record], bool]


class QueryError(ValueError):
	"""A where/order clause the sandbox cannot parse (Xero answers 400)."""


_TOKEN = re.compile(
	r"""\s*(?:
	(?P<string>"(?:[^"\\]|\\.)*")
	|(?P<number>-?\d+(?:\.\d+)?)
	|(?P<op>==|!=|<=|>=|&&|\|\||=|<|>|!|\(|\)|,|\.)
	|(?P<name>[A-Za-z_][A-Za-z0-9_]*)
	)""",
	re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
_METHODS = {"contains", "startswith", "endswith"}
_CASE_METHODS = {"tolower", "toupper", "trim"}


def _tokenize(text: str) -> list[tuple[str, str]]:
	tokens, position = [], 0
	while position < len(text):
		if text[position:].strip() == "":
			break
		match = _TOKEN.match(text, position)
		if not match or match.end() == position:
			raise QueryError(f"cannot parse the query at {text[position:]!r}")
		kind = match.lastgroup
		tokens.append((kind, match.group(kind)))
		position = match.end()
	return tokens


def field_value(record: Record, path: list[str]):
	value = record
	for part in path:
		if not isinstance(value, dict):
			return None
		if part in value:
			value = value[part]
			continue
		lowered = part.lower()
		value = next((v for k, v in value.items() if k.lower() == lowered), None)
	return value


def _comparable(value):
	if isinstance(value, str):
		return value.casefold()
	if isinstance(value, datetime):
		return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
	if isinstance(value, date):
		return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
	if isinstance(value, int | float) and not isinstance(value, bool):
		return Decimal(str(value))
	return value


def _compare(left, op: str, right) -> bool:
	left, right = _comparable(left), _comparable(right)
	if op in ("==", "="):
		return left == right
	if op == "!=":
		return left != right
	if left is None or right is None:
		return False
	try:
		return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
	except TypeError:
		return False


class _Parser:
	def __init__(self, text: str):
		self.tokens = _tokenize(text)
		self.position = 0

	def peek(self, offset: int = 0):
		index = self.position + offset
		return self.tokens[index] if index < len(self.tokens) else (None, None)

	def take(self, expected: str | None = None):
		token = self.peek()
		if token[0] is None or (expected is not None and token[1] != expected):
			raise QueryError(f"expected {expected or 'more'} in the query, found {token[1]!r}")
		self.position += 1
		return token

	def is_keyword(self, *words: str) -> bool:
		kind, value = self.peek()
		return (kind == "name" and value.upper() in words) or (kind == "op" and value in words)

	def parse(self) -> Predicate:
		predicate = self.disjunction()
		if self.peek()[0] is not None:
			raise QueryError(f"unexpected {self.peek()[1]!r} in the query")
		return predicate

	def disjunction(self) -> Predicate:
		parts = [self.conjunction()]
		while self.is_keyword("OR", "||"):
			self.take()
			parts.append(self.conjunction())
		return parts[0] if len(parts) == 1 else lambda r: any(p(r) for p in parts)

	def conjunction(self) -> Predicate:
		parts = [self.negation()]
		while self.is_keyword("AND", "&&"):
			self.take()
			parts.append(self.negation())
		return parts[0] if len(parts) == 1 else lambda r: all(p(r) for p in parts)

	def negation(self) -> Predicate:
		if self.is_keyword("NOT", "!"):
			self.take()
			inner = self.negation()
			return lambda r: not inner(r)
		if self.peek() == ("op", "("):
			self.take("(")
			inner = self.disjunction()
			self.take(")")
			return inner
		return self.comparison()

	def comparison(self) -> Predicate:
		kind, name = self.take()
		if kind != "name":
			raise QueryError(f"expected a field name in the query, found {name!r}")
		path, method = [name], None
		while self.peek() == ("op", "."):
			self.take(".")
			_, part = self.take()
			if part.lower() in _CASE_METHODS:
				self.take("(")
				self.take(")")
			elif part.lower() in _METHODS:
				method = part.lower()
				self.take("(")
				argument = self.literal()
				self.take(")")
				break
			else:
				path.append(part)
		if method:
			needle = str(argument).casefold()
			test = {"contains": str.__contains__, "startswith": str.startswith, "endswith": str.endswith}[
				method
			]
			return lambda r: isinstance(v := field_value(r, path), str) and test(v.casefold(), needle)
		if self.peek()[0] != "op" or self.peek()[1] not in ("==", "=", "!=", "<", "<=", ">", ">="):
			# A bare boolean field: ``IsCustomer``.
			return lambda r: field_value(r, path) is True
		_, op = self.take()
		value = self.literal()
		return lambda r: _compare(field_value(r, path), op, value)

	def literal(self):
		kind, text = self.take()
		if kind == "string":
			# A backslash escapes the next character (\" and \\); other text, accents included, is as sent.
			return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])
		if kind == "number":
			return Decimal(text)
		if kind == "name":
			word = text.lower()
			if word in ("true", "false"):
				return word == "true"
			if word == "null":
				return None
			if word in ("guid", "datetime", "datetimeoffset"):
				self.take("(")
				args = [self.literal()]
				while self.peek() == ("op", ","):
					self.take(",")
					args.append(self.literal())
				self.take(")")
				if word == "guid":
					return str(args[0])
				try:
					return datetime(*[int(a) for a in args], tzinfo=timezone.utc)
				except (TypeError, ValueError):
					raise QueryError(f"bad DateTime{tuple(args)} in the query") from None
		raise QueryError(f"expected a value in the query, found {text!r}")


def compile_where(text: str | None) -> Predicate | None:
	if not text or not text.strip():
		return None
	return _Parser(text).parse()


def sort_records(records: list[Record], order: str | None) -> list[Record]:
	"""``order=InvoiceNumber ASC,Date DESC``; a stable sort, None values first as Xero puts blanks first."""
	if not order or not order.strip():
		return records
	keys = []
	for clause in order.split(","):
		words = clause.split()
		if not words or len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
			raise QueryError(f"cannot order by {clause.strip()!r}")
		keys.append((words[0].split("."), len(words) == 2 and words[1].upper() == "DESC"))
	result = list(records)
	for path, descending in reversed(keys):

		def sort_key(record, path=path):
			value = _comparable(field_value(record, path))
			return (value is not None, value if value is not None else 0)

		result.sort(key=sort_key, reverse=descending)
	return result
