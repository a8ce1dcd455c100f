"""The import's bulk SQL: many rows in one INSERT (or upsert), and deletes that never hold a huge transaction.

Not ``frappe.db.bulk_insert``: it builds each value through pypika's query builder, about 4 µs a value
(27,000 invoice lines of 21 columns: 2.6 s that way, 0.6 s with driver parameters), which would add some 6 s
to a 10,000-invoice import's 1.5 million values, and it cannot upsert. Like it, this writes the given
columns only (no document hooks, no defaults): each row carries its name, docstatus and the standard fields
(``standard_fields``).

Nor the driver's own parameters: PyMySQL escapes each value through three layers of Python dispatch, 2 µs a
value (10,000 invoices: 3.2 of the import's 9.4 s). ``literal`` writes each value's SQL text directly by its
type, texts with the very escapes PyMySQL and ``frappe.db.escape`` use (``pymysql.converters
.escape_string``'s table; the tests compare the two) or, a long one that needs escapes, as the hex of its
bytes; numbers and dates in the form the driver would give them; any other type is refused.
"""

import queue
import re
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import chain
from operator import itemgetter

import frappe
from frappe.utils import now_datetime
from pymysql.converters import escape_date, escape_datetime, escape_timedelta

# Rows per INSERT: a statement of 2,000 invoice lines stays well under MariaDB's max_allowed_packet.
BULK_CHUNK = 2000
# Rows per DELETE: each its own short transaction when the caller commits between them.
DELETE_CHUNK = 5000


class Literal(str):
	"""A value's SQL text already written by ``literal``: a bulk insert puts it in as it is (the standard
	fields, the same in every row of a chunk, are written once for all of them)."""


def standard_fields() -> dict:
	now, user = now_datetime(), frappe.session.user
	user_text, now_text = Literal(literal(user)), Literal(literal(now))
	return {"owner": user_text, "modified_by": user_text, "creation": now_text, "modified": now_text}


def bulk_insert(
	doctype: str, rows: list[dict], update: tuple[str, ...] = (), chunk: int = BULK_CHUNK
) -> None:
	"""One multi-row INSERT per ``chunk`` rows, every value written by ``literal``; with ``update``, a row
	whose name exists already gets those columns from the new row instead."""
	run(insert_statements(doctype, rows, update, chunk))


def run(statements: list[str]) -> None:
	for statement in statements:
		frappe.db.sql(statement)


def insert_statements(
	doctype: str, rows: list[dict], update: tuple[str, ...] = (), chunk: int = BULK_CHUNK
) -> list[str]:
	"""The statements of ``bulk_insert``, written, not run."""
	if not rows:
		return []
	columns = list(dict.fromkeys(chain.from_iterable(rows)))
	head = f"insert into `tab{doctype}` ({', '.join(f'`{c}`' for c in columns)}) values "
	tail = ""
	if update:
		tail = " on duplicate key update " + ", ".join(f"`{c}` = values(`{c}`)" for c in update)
	written, statements = LITERALS, []
	values_of = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
	for start in range(0, len(rows), chunk):
		part = rows[start : start + chunk]
		try:
			tuples = ["(" + ", ".join([written[type(v)](v) for v in values_of(row)]) + ")" for row in part]
		except KeyError:
			# A row without every column (None there), or a value of a type that is refused (named).
			for row in part:
				for column in columns:
					literal(row.get(column))
			tuples = [
				"(" + ", ".join([written[type(v)](v) for v in [row.get(c) for c in columns]]) + ")"
				for row in part
			]
		statements.append(head + ", ".join(tuples) + tail)
	return statements


# MySQL's escapes in a quoted text, as PyMySQL's escape_string (and so frappe.db.escape) writes them.
_ESCAPES = {
	0: "\\0",
	ord("\\"): "\\\\",
	ord("\n"): "\\n",
	ord("\r"): "\\r",
	0o32: "\\Z",
	ord('"'): '\\"',
	ord("'"): "\\'",
}


# Most texts hold none of those characters: a search for one is a third of the cost of translating.
_NEEDS_ESCAPE = re.compile("[\x00\\\\\n\r\x1a\"']").search
# A longer text that needs escapes (a stored invoice's JSON: 2 KB of quotes) is written as the hex of its
# UTF-8 bytes under MariaDB's utf8mb4 introducer: translating it character by character costs some 20 times
# more (10,000 invoices: 0.4 s of the preview).
HEX_FROM = 128


def _text(value: str) -> str:
	if not _NEEDS_ESCAPE(value):
		return "'" + value + "'"
	if len(value) >= HEX_FROM:
		return "_utf8mb4 X'" + value.encode().hex() + "'"
	return "'" + value.translate(_ESCAPES) + "'"


def _decimal(value: Decimal) -> str:
	# As PyMySQL writes a Decimal: its exact digits (never an exponent), an exact-value literal that MariaDB
	# stores in the column's DECIMAL without float noise.
	if not value.is_finite():
		raise ValueError(f"{value} is not a finite number")
	return format(value, "f")


def _float(value: float) -> str:
	if value != value or value in (float("inf"), float("-inf")):
		raise ValueError(f"{value} is not a finite number")
	return repr(value)


LITERALS = {
	str: _text,
	int: str,
	bool: lambda value: "1" if value else "0",
	Decimal: _decimal,
	float: _float,
	datetime: escape_datetime,
	date: escape_date,
	timedelta: escape_timedelta,
	type(None): lambda value: "NULL",
	Literal: lambda value: value,
}


def literal(value) -> str:
	"""The SQL text of one value (see the module's docstring); another type than these is refused."""
	try:
		return LITERALS[type(value)](value)
	except KeyError:
		raise TypeError(f"cannot write a {type(value).__name__} to the database: {value!r}") from None


def delete_batch_rows(doctype: str, batch_name: str, commit: bool = True) -> None:
	"""Deletes a batch's rows of ``doctype`` a chunk at a time (committing between chunks if ``commit``)."""
	table = f"`tab{doctype}`"
	while frappe.db.sql(f"select 1 from {table} where batch = %s limit 1", batch_name):
		frappe.db.sql(f"delete from {table} where batch = %s limit {DELETE_CHUNK}", batch_name)
		if commit:
			frappe.db.commit()


class BackgroundWriter:
	"""Database work run in a thread on a connection of its own, one unit at a time, each committed on its own.

	The job prepares the next unit (Python) while this one is written (MariaDB, on the other core): at most one
	unit is in flight, ``submit`` first waits for the one before. A unit may return a function, called once the
	unit is committed. A unit that fails is rolled back and its error raised in the job (at the next ``submit``
	or at ``settle``); no unit runs after it. Units must not read what the job has not committed.
	"""

	def __init__(self):
		self.site, self.sites_path, self.user = (
			frappe.local.site,
			frappe.local.sites_path,
			frappe.session.user,
		)
		self.units: queue.Queue = queue.Queue(maxsize=1)
		self.results: queue.Queue = queue.Queue()
		self.in_flight = False
		self.thread = threading.Thread(target=self._run, name=f"xso-writer-{self.site}", daemon=True)
		self.thread.start()

	def _run(self) -> None:
		try:
			frappe.init(site=self.site, sites_path=self.sites_path)
			frappe.connect()
			frappe.set_user(self.user)
		except BaseException as e:
			self.results.put(e)
			return
		try:
			while (unit := self.units.get()) is not None:
				try:
					then = unit()
					frappe.db.commit()
					if callable(then):  # what the unit reports once it is committed
						then()
					self.results.put(None)
				except BaseException as e:
					frappe.db.rollback()
					self.results.put(e)
					return
		finally:
			frappe.destroy()

	def submit(self, unit: Callable[[], None]) -> None:
		"""Queues ``unit`` once the unit before it is committed (raising that one's error if it failed)."""
		self.settle()
		if not self.thread.is_alive():
			raise RuntimeError("the database writer has stopped")
		self.units.put(unit)
		self.in_flight = True

	def settle(self, error: BaseException | None = None) -> BaseException | None:
		"""Waits for the unit in flight. Without ``error``, raises that unit's failure; with one (the job's own),
		returns the unit's failure if there was one, else ``error``."""
		if not self.in_flight:
			return error
		self.in_flight = False
		failure = self.results.get()
		if error is None:
			if failure is not None:
				raise failure
			return None
		return failure or error

	def close(self) -> None:
		if self.thread.is_alive():
			self.units.put(None)
			self.thread.join(timeout=300)
