# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from xero_sales_orders.permissions import require_role_permission


class XeroWebhookEvent(Document):
	"""Stored by the webhook endpoint and applied by the drains (SQL); a save or a delete through any door
	needs a role that may write it (System Manager), whatever shares exist."""

	def validate(self):
		require_role_permission(self, "create" if self.is_new() else "write")

	def on_trash(self):
		require_role_permission(self, "delete")


def on_doctype_update():
	# Drains read the oldest Queued events many times a minute while a backlog lasts: no sort of the table.
	frappe.db.add_index("Xero Webhook Event", ["status", "event_date"])
