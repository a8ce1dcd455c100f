# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from xero_sales_orders.permissions import require_role_permission


class XeroImportGroup(Document):
	"""Written only by a batch's preview and import (services/import_groups.py) and deleted with its batch; a
	save or a delete through any door needs a role that may write it, and none may."""

	def validate(self):
		require_role_permission(self, "create" if self.is_new() else "write")

	def on_trash(self):
		require_role_permission(self, "delete")


def on_doctype_update():
	# A page of the preview (any view) is an index range in the groups' order; the import reads by group id.
	for columns in (
		["batch", "sort_key"],
		["batch", "importable", "sort_key"],
		["batch", "conflict", "sort_key"],
		["batch", "flagged", "sort_key"],
		["batch", "group_id"],
	):
		frappe.db.add_index("Xero Import Group", columns)
