# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

import frappe
from frappe.tests.utils import FrappeTestCase

from xero_sales_orders.api import orders as api
from xero_sales_orders.services.invoicing import set_invoice_status
from xero_sales_orders.tests.factories import make_order


class TestXeroInvoice(FrappeTestCase):
	def test_invoice_keeps_the_lines_it_bills(self):
		order = make_order()
		invoice = frappe.get_doc(
			"Xero Invoice", api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 2}])["name"]
		)
		self.assertEqual(len(invoice.items), 1)
		self.assertEqual(invoice.items[0].sales_order_item, order.items[0].name)
		self.assertEqual(invoice.items[0].qty, 2)
		self.assertEqual(invoice.idempotency_key and len(invoice.idempotency_key), 32)

	def test_live_invoice_cannot_be_deleted(self):
		order = make_order()
		name = api.create_invoice(order.name)["name"]
		with self.assertRaises(frappe.ValidationError):
			frappe.delete_doc("Xero Invoice", name)
		set_invoice_status(name, "DELETED")
		frappe.delete_doc("Xero Invoice", name)
		self.assertFalse(frappe.db.exists("Xero Invoice", name))

	def test_unknown_status_is_refused(self):
		order = make_order()
		name = api.create_invoice(order.name)["name"]
		with self.assertRaises(frappe.ValidationError):
			set_invoice_status(name, "LOST")
