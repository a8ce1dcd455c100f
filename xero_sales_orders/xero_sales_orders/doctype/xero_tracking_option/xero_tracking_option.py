# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

from frappe.model.document import Document

from xero_sales_orders.permissions import require_role_permission


class XeroTrackingOption(Document):
	"""A local copy of Xero's record, written only by the sync (SQL upserts); a save or a delete through any
	door needs a role that may write it (System Manager), whatever shares exist."""

	def validate(self):
		require_role_permission(self, "create" if self.is_new() else "write")

	def on_trash(self):
		require_role_permission(self, "delete")
