"""An autonomous transaction: work that must commit whatever the caller's transaction does.

A rotated Xero refresh token must be stored the moment Xero issues it; if it rode on the caller's
transaction and that rolled back, the only valid token would be lost and the consent with it.
"""

from contextlib import contextmanager

import frappe
from frappe.database import get_db


@contextmanager
def autonomous_transaction():
	"""Runs the block on a second database connection and commits it on success.

	``frappe.db`` points at the second connection inside the block, so Frappe's helpers (passwords,
	set_value, query builder) work unchanged. The block must not touch rows the caller's transaction
	has written, or the two would wait on each other.

	Why no Frappe API does this (v15): Frappe has no autonomous transaction. ``frappe.database.get_db`` opens a
	second connection (as ``frappe.connect`` and ``frappe.connect_replica`` do), but every helper the block
	needs (``frappe.utils.password.set_encrypted_password`` / ``get_decrypted_password``, ``frappe.db.set_value``,
	``Document.save``, ``frappe.qb ... .run()``) runs on ``frappe.db``, the proxy of ``frappe.local.db``, and none
	takes a connection. So the second connection is ``frappe.local.db`` for the block, exactly as Frappe's own
	``frappe.read_only()`` puts the replica's connection there and puts the primary back afterwards; no Frappe
	function is replaced. The other ways out do not keep the token: ``frappe.db.commit()`` first would commit the
	caller's unfinished work, a savepoint rolls back with the caller's transaction, and ``frappe.enqueue`` runs
	later in another process while the token is needed now.
	"""
	conf = frappe.local.conf
	outer = frappe.local.db
	inner = get_db(
		host=conf.db_host,
		port=conf.db_port,
		user=conf.db_name,
		password=conf.db_password,
		cur_db_name=conf.db_name,
	)
	frappe.local.db = inner
	try:
		yield inner
		inner.commit()
	except BaseException:
		inner.rollback()
		raise
	finally:
		inner.close()
		frappe.local.db = outer
