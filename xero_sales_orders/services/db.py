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
