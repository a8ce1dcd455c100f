"""Orders raised before the invoice counter existed start it at the highest suffix already used."""

import frappe


def execute():
	for order, number in frappe.db.sql(
		"select sales_order, invoice_number from `tabXero Invoice` where sales_order is not null"
	):
		prefix = f"{order}-"
		if number and number.startswith(prefix) and number[len(prefix) :].isdigit():
			suffix = int(number[len(prefix) :])
			frappe.db.sql(
				"""update `tabXero Sales Order` set invoice_counter = %s
				where name = %s and coalesce(invoice_counter, 0) < %s""",
				(suffix, order, suffix),
			)
