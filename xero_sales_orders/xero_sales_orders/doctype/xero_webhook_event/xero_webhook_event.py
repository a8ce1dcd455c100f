# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class XeroWebhookEvent(Document):
	pass


def on_doctype_update():
	# Drains read the oldest Queued events many times a minute while a backlog lasts: no sort of the table.
	frappe.db.add_index("Xero Webhook Event", ["status", "event_date"])
