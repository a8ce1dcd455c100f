# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from xero_sales_orders.permissions import require_role_permission


class XeroImportInvoice(Document):
	"""Written only by a batch's preview (one multi-row INSERT per Xero page, services/import_staging.py) and
	deleted with its batch; a save or a delete through any door needs a role that may write it, and none may."""

	def validate(self):
		require_role_permission(self, "create" if self.is_new() else "write")

	def on_trash(self):
		require_role_permission(self, "delete")


def on_doctype_update():
	# The second pass of a preview and the import read a batch's invoices group by group.
	frappe.db.add_index("Xero Import Invoice", ["batch", "group_id"])
