"""Contacts synced before the app kept their addresses: the next sync of each organisation reads all of its
contacts again (not only those changed since the last sync), so every contact gets the address Xero holds."""

import frappe


def execute():
	frappe.db.sql("update `tabXero Connection Tenant` set contacts_synced_at = null")
