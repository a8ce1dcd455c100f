"""The import's bulk SQL: many rows in one INSERT (or upsert), and deletes that never hold a huge transaction.

Not ``frappe.db.bulk_insert``: it builds each value through pypika's query builder, about 4 µs a value
(27,000 invoice lines of 21 columns: 2.6 s that way, 0.6 s this way, the database's own work included),
which would add some 6 s to a 10,000-invoice import's 1.5 million values, and it cannot upsert. Like it,
this writes the given columns only (no document hooks, no defaults): each row carries its name, docstatus
and the standard fields (``standard_fields``).
"""

from decimal import Decimal

import frappe
from frappe.utils import now_datetime

# Rows per INSERT: a statement of 2,000 invoice lines stays well under MariaDB's max_allowed_packet.
BULK_CHUNK = 2000
# Rows per DELETE: each its own short transaction when the caller commits between them.
DELETE_CHUNK = 5000


def standard_fields() -> dict:
	now, user = now_datetime(), frappe.session.user
	return {"owner": user, "modified_by": user, "creation": now, "modified": now}


def bulk_insert(
	doctype: str, rows: list[dict], update: tuple[str, ...] = (), chunk: int = BULK_CHUNK
) -> None:
	"""One multi-row INSERT per ``chunk`` rows, every value a parameter escaped by the database driver;
	with ``update``, a row whose name exists already gets those columns from the new row instead."""
	if not rows:
		return
	columns = list(dict.fromkeys(key for row in rows for key in row))
	placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
	head = f"insert into `tab{doctype}` ({', '.join(f'`{c}`' for c in columns)}) values "
	tail = ""
	if update:
		tail = " on duplicate key update " + ", ".join(f"`{c}` = values(`{c}`)" for c in update)
	for start in range(0, len(rows), chunk):
		part = rows[start : start + chunk]
		values = [db_value(row.get(c)) for row in part for c in columns]
		frappe.db.sql(head + ", ".join([placeholders] * len(part)) + tail, values)


def db_value(value):
	# Decimals go in as their exact text; MariaDB converts to the column's DECIMAL without float noise.
	return str(value) if isinstance(value, Decimal) else value


def delete_batch_rows(doctype: str, batch_name: str, commit: bool = True) -> None:
	"""Deletes a batch's rows of ``doctype`` a chunk at a time (committing between chunks if ``commit``)."""
	table = f"`tab{doctype}`"
	while frappe.db.sql(f"select 1 from {table} where batch = %s limit 1", batch_name):
		frappe.db.sql(f"delete from {table} where batch = %s limit {DELETE_CHUNK}", batch_name)
		if commit:
			frappe.db.commit()
