# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase

from xero_sales_orders.api import orders as api
from xero_sales_orders.exceptions import (
	InvalidInvoiceRequestError,
	InvalidOrderError,
	OrderStateError,
	OverInvoicingError,
)
from xero_sales_orders.services.order_invoicing import set_invoice_status
from xero_sales_orders.tests.factories import make_order, make_user


def D(value):
	return Decimal(str(value)).quantize(Decimal("0.01"))


class TestXeroSalesOrder(FrappeTestCase):
	def setUp(self):
		frappe.set_user("Administrator")

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_totals_match_xeros_per_line_rounding(self):
		order = make_order(
			submit=False,
			items=[
				{"description": f"Line {i}", "qty": 1, "unit_price": p, "tax_rate": 15}
				for i, p in enumerate((25.06, 25.61, 25.63))
			],
		)
		self.assertEqual(D(order.subtotal), D("76.30"))
		self.assertEqual(D(order.total_tax), D("11.44"))
		self.assertEqual(D(order.grand_total), D("87.74"))
		self.assertEqual(order.status, "Draft")
		stored = frappe.db.get_value(
			"Xero Sales Order", order.name, ["total_tax", "grand_total"], as_dict=True
		)
		self.assertEqual((D(stored.total_tax), D(stored.grand_total)), (D("11.44"), D("87.74")))

	def test_submit_opens_and_partial_invoices_derive_status_and_amounts(self):
		order = make_order()
		self.assertEqual(order.status, "Open")
		self.assertEqual(frappe.db.get_value("Xero Sales Order", order.name, "status"), "Open")
		widget, gadget = order.items

		first = api.create_invoice(
			order.name, [{"item": widget.name, "qty": 4}, {"item": gadget.name, "qty": 1}]
		)
		self.assertEqual(first["push_state"], "Pending")
		self.assertEqual(first["invoice_number"], f"{order.name}-1")
		self.assertEqual(first["reference"], "PO-TEST")
		self.assertEqual(D(first["total"]), D("57.88"))  # 50.00 + 0.33 + tax 7.50 + 0.05
		order.reload()
		self.assertEqual(order.status, "Partially Invoiced")
		self.assertEqual(order.items[0].invoiced_qty, 4)
		self.assertEqual(order.items[0].outstanding_qty, 6)
		self.assertEqual(D(order.invoiced_amount), D("57.88"))
		self.assertEqual(D(order.outstanding_amount), D(order.grand_total) - D("57.88"))

		api.create_invoice(order.name, [{"item": gadget.name, "qty": 1}])
		last = api.create_invoice(order.name)  # no lines: everything outstanding
		self.assertEqual(
			[(r["sales_order_item"], r["qty"]) for r in last["items"]], [(widget.name, 6), (gadget.name, 1)]
		)
		self.assertEqual(D(last["items"][1]["line_amount"]), D("0.34"))  # the remainder of 1.00
		order.reload()
		self.assertEqual(order.status, "Fully Invoiced")
		self.assertEqual(D(order.outstanding_amount), D(0))
		self.assertEqual(order.per_invoiced, 100)
		totals = frappe.get_all("Xero Invoice", {"sales_order": order.name}, pluck="total")
		self.assertEqual(sum(D(t) for t in totals), D(order.grand_total))

	def test_over_invoicing_and_bad_requests_write_nothing(self):
		order = make_order()
		widget = order.items[0]
		bad_requests = [
			([{"item": widget.name, "qty": 11}], OverInvoicingError),
			([{"item": widget.name, "qty": 0}], InvalidInvoiceRequestError),
			([{"item": widget.name, "qty": -2}], InvalidInvoiceRequestError),
			([{"item": widget.name, "qty": "lots"}], InvalidInvoiceRequestError),
			([{"item": "no-such-row", "qty": 1}], InvalidInvoiceRequestError),
			('{"item": 1}', InvalidInvoiceRequestError),
			("not json", InvalidInvoiceRequestError),
		]
		for lines, error in bad_requests:
			with self.subTest(lines=lines), self.assertRaises(error):
				api.create_invoice(order.name, lines)
		self.assertEqual(frappe.db.count("Xero Invoice", {"sales_order": order.name}), 0)
		order.reload()
		self.assertEqual((order.status, order.items[0].invoiced_qty), ("Open", 0))

	def test_only_open_orders_can_be_invoiced(self):
		draft = make_order(submit=False)
		with self.assertRaisesRegex(OrderStateError, "Draft"):
			api.create_invoice(draft.name)
		order = make_order()
		api.create_invoice(order.name)
		with self.assertRaisesRegex(OrderStateError, "fully invoiced"):
			api.create_invoice(order.name)

	def test_void_returns_quantities_and_rederives_status(self):
		order = make_order()
		invoice = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 10}])
		api.create_invoice(order.name, [{"item": order.items[1].name, "qty": 3}])
		order.reload()
		self.assertEqual(order.status, "Fully Invoiced")
		set_invoice_status(invoice["name"], "VOIDED")
		order.reload()
		self.assertEqual(order.status, "Partially Invoiced")
		self.assertEqual((order.items[0].invoiced_qty, order.items[0].outstanding_qty), (0, 10))
		again = api.create_invoice(order.name)
		self.assertEqual(again["invoice_number"], f"{order.name}-3")
		order.reload()
		self.assertEqual(order.status, "Fully Invoiced")

	def test_close_reopen_and_cancel_rules(self):
		order = make_order()
		api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 2}])
		api.close(order.name)
		order.reload()
		self.assertEqual(order.status, "Closed")
		with self.assertRaisesRegex(OrderStateError, "Closed"):
			api.create_invoice(order.name)
		with self.assertRaises(OrderStateError):
			api.close(order.name)
		api.reopen(order.name)
		order.reload()
		self.assertEqual(order.status, "Partially Invoiced")
		with self.assertRaises(OrderStateError):
			api.reopen(order.name)

		with self.assertRaisesRegex(OrderStateError, "not voided or deleted"):
			order.cancel()
		invoice = frappe.get_all("Xero Invoice", {"sales_order": order.name}, pluck="name")[0]
		set_invoice_status(invoice, "VOIDED")
		order.reload()
		order.cancel()
		self.assertEqual(frappe.db.get_value("Xero Sales Order", order.name, "status"), "Cancelled")

	def test_bad_lines_are_refused_and_nothing_is_saved(self):
		cases = [
			({"description": "x", "qty": 0, "unit_price": 1}, "Quantity must be greater than 0"),
			({"description": "x", "qty": 1, "unit_price": -1}, "Unit price cannot be negative"),
			(
				{"description": "x", "qty": 1, "unit_price": 1, "discount_rate": 150},
				"Discount % must be between 0 and 100",
			),
			({"description": "x", "qty": "ten", "unit_price": 1}, "Quantity must be a number"),
			({"qty": 1, "unit_price": 1}, "item code or a description"),
		]
		before = frappe.db.count("Xero Sales Order")
		for item, message in cases:
			with self.subTest(item=item), self.assertRaisesRegex(InvalidOrderError, message):
				make_order(items=[item], submit=False)
		with self.assertRaisesRegex(InvalidOrderError, "three-letter"):
			make_order(submit=False, currency="dollars")
		self.assertEqual(frappe.db.count("Xero Sales Order"), before)

	def test_invoices_are_created_only_through_the_order(self):
		order = make_order()
		with self.assertRaises(InvalidInvoiceRequestError):
			frappe.get_doc(
				{
					"doctype": "Xero Invoice",
					"sales_order": order.name,
					"invoice_number": "FORGED-1",
					"items": [],
				}
			).insert()

	def test_roles_gate_invoicing_and_closing(self):
		order = make_order()
		make_user("xso-nobody@example.com", [])
		make_user("xso-sales@example.com", ["Xero Sales User"])
		frappe.set_user("xso-nobody@example.com")
		with self.assertRaises(frappe.PermissionError):
			api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}])
		frappe.set_user("xso-sales@example.com")
		invoice = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}])
		self.assertEqual(invoice["sales_order"], order.name)
		with self.assertRaises(frappe.PermissionError):
			api.close(order.name)
		frappe.set_user("Administrator")
		self.assertEqual(frappe.db.count("Xero Invoice", {"sales_order": order.name}), 1)

	def test_inclusive_order_totals(self):
		order = make_order(
			line_amount_type="Inclusive",
			items=[{"description": "Inclusive", "qty": 3, "unit_price": 10, "tax_rate": 15}],
		)
		self.assertEqual(
			(D(order.subtotal), D(order.total_tax), D(order.grand_total)), (D("26.09"), D("3.91"), D("30.00"))
		)
		api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}])
		api.create_invoice(order.name)
		totals = frappe.get_all("Xero Invoice", {"sales_order": order.name}, pluck="total")
		self.assertEqual(sum(D(t) for t in totals), D("30.00"))
