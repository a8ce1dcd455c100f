"""Invoices pushed before the app wrote History notes in Xero are not noted now, all at once: that would spend
Xero's minute budget on old invoices (their order and author are on the order's timeline here)."""

import frappe


def execute():
	frappe.db.sql("update `tabXero Invoice` set xero_history_noted = 1 where push_state = 'Pushed'")
