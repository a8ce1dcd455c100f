# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

import frappe
from frappe.tests.utils import FrappeTestCase

from xero_sales_orders.api import orders as api
from xero_sales_orders.exceptions import HeldByXeroError
from xero_sales_orders.services.order_invoicing import set_invoice_status
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

	def test_only_an_invoice_xero_refused_can_be_deleted(self):
		order = make_order()
		name = api.create_invoice(order.name)["name"]
		# Pending (waiting to be pushed, maybe in Xero already), dead or alive: refused.
		with self.assertRaisesRegex(HeldByXeroError, "may already be there"):
			frappe.delete_doc("Xero Invoice", name)
		set_invoice_status(name, "DELETED")
		with self.assertRaises(HeldByXeroError):
			frappe.delete_doc("Xero Invoice", name)
		frappe.db.set_value("Xero Invoice", name, "xero_invoice_id", "c0ffee00-0000-4000-8000-000000000001")
		with self.assertRaisesRegex(HeldByXeroError, "is in Xero"):
			frappe.delete_doc("Xero Invoice", name)
		self.assertTrue(frappe.db.exists("Xero Invoice", name))

		# What the push writes when Xero refuses an invoice; the delete returns its quantities to the order.
		other = make_order()
		failed = api.create_invoice(other.name, [{"item": other.items[0].name, "qty": 4}])["name"]
		frappe.db.set_value(
			"Xero Invoice", failed, {"push_state": "Failed", "last_error": "Account code 999"}
		)
		frappe.delete_doc("Xero Invoice", failed)
		frappe.db.commit()
		self.assertFalse(frappe.db.exists("Xero Invoice", failed))
		self.assertEqual(frappe.db.get_value("Xero Sales Order Item", other.items[0].name, "invoiced_qty"), 0)
		self.assertEqual(frappe.db.get_value("Xero Sales Order", other.name, "status"), "Open")

	def test_unknown_status_is_refused(self):
		order = make_order()
		name = api.create_invoice(order.name)["name"]
		with self.assertRaises(frappe.ValidationError):
			set_invoice_status(name, "LOST")
