"""Hostile texts and figures (issue 11, items 5 and 7): stored script is printed as text, figures out of range
are clear refusals with nothing stored.

The order of item 5 comes in the way Frappe's sanitiser skips: inserted already submitted (``docstatus: 1``,
as ``POST /api/resource`` allows), with its customer's name written as sync and import write it (SQL).
"""

import frappe
from frappe.tests.utils import FrappeTestCase

from xero_sales_orders.api.orders import invoices as invoices_api
from xero_sales_orders.exceptions import InvalidInvoiceRequestError, InvalidOrderError
from xero_sales_orders.services.order_invoicing import create_invoice
from xero_sales_orders.tests.factories import make_contact, make_order

ORDER = "Xero Sales Order"
PRINT_FORMAT = "Xero Sales Order Confirmation"
SCRIPT = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


def hostile_order():
	contact = make_contact("Hostile Customer Ltd")
	# As a sync or an import writes a contact name from Xero: no sanitiser on the way.
	frappe.db.set_value("Xero Contact", contact.name, "contact_name", f"Evil {SCRIPT} Ltd")
	order = frappe.get_doc(
		{
			"doctype": ORDER,
			"docstatus": 1,
			"customer": contact.name,
			"po_number": f"PO {SCRIPT}",
			"currency": "NZD",
			"line_amount_type": "Exclusive",
			"remarks": f"Call first {SCRIPT}\nthen ship",
			"items": [
				{
					"item_code": "SCRIPT<b>",
					"description": f"Desk {SCRIPT}",
					"qty": 2,
					"unit_price": 100,
					"tax_rate": 15,
				}
			],
		}
	).insert()
	# The name an import writes comes from Xero too.
	frappe.db.set_value(ORDER, order.name, "customer_name", f"Evil {SCRIPT} Ltd")
	return order


class TestStoredScriptIsText(FrappeTestCase):
	def setUp(self):
		frappe.set_user("Administrator")

	def test_print_format_escapes_every_text(self):
		order = hostile_order()
		self.assertEqual(frappe.db.get_value(ORDER, order.name, "po_number"), f"PO {SCRIPT}")
		html = frappe.get_print(ORDER, order.name, PRINT_FORMAT)
		self.assertNotIn("<img", html)
		self.assertNotIn("SCRIPT<b>", html)
		for text in (f"PO {ESCAPED}", f"Evil {ESCAPED} Ltd", f"Desk {ESCAPED}", "SCRIPT&lt;b&gt;"):
			self.assertIn(text, html)
		self.assertIn(f"Call first {ESCAPED}\nthen ship", html)  # line breaks kept by CSS (pre-line)
		# Figures are still there.
		for text in ("200.00", "30.00", "230.00"):
			self.assertIn(text, html)

	def test_the_order_form_gets_only_safe_links(self):
		order = make_order()
		invoice = create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}])
		other = create_invoice(order.name, [{"item": order.items[1].name, "qty": 1}])
		frappe.db.set_value(
			"Xero Invoice",
			invoice.name,
			{"online_url": "javascript:alert(document.cookie)", "xero_url": "http://evil.example.com/x"},
		)
		frappe.db.set_value(
			"Xero Invoice",
			other.name,
			{
				"online_url": "https://in.xero.com/aBc123",
				"xero_url": "https://go.xero.com/app/!x/invoicing/view/1",
			},
		)
		rows = {r.name: r for r in invoices_api(order.name)}
		self.assertIsNone(rows[invoice.name].online_url)
		self.assertIsNone(rows[invoice.name].xero_url)
		self.assertEqual(rows[other.name].online_url, "https://in.xero.com/aBc123")
		self.assertEqual(rows[other.name].xero_url, "https://go.xero.com/app/!x/invoicing/view/1")


class TestFiguresOutOfRange(FrappeTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		self.customer = make_contact("Range Customer Ltd").name

	def insert(self, items, **fields):
		"""What POST /api/resource/Xero Sales Order does with the body, already submitted."""
		return frappe.get_doc(
			{
				"doctype": ORDER,
				"docstatus": 1,
				"customer": self.customer,
				"po_number": "PO-RANGE",
				"currency": "NZD",
				"items": items,
				**fields,
			}
		).insert()

	def test_huge_nan_and_infinite_figures_are_417_and_nothing_is_stored(self):
		before = frappe.db.count(ORDER, {"customer": self.customer})
		cases = [
			(
				{"qty": 1e30, "unit_price": 1},
				"Quantity 1E\\+30 is too large: it must be below 1,000,000,000,000",
			),
			({"qty": "1e30", "unit_price": 1}, "Quantity 1E\\+30 is too large"),
			({"qty": 1, "unit_price": 1e30}, "Unit price 1E\\+30 is too large"),
			({"qty": "nan", "unit_price": 1}, "Quantity must be a finite number"),
			({"qty": float("nan"), "unit_price": 1}, "Quantity must be a finite number"),
			({"qty": 1, "unit_price": "inf"}, "Unit price must be a finite number"),
			({"qty": 1, "unit_price": float("-inf")}, "Unit price must be a finite number"),
			({"qty": 1, "unit_price": 10, "tax_rate": "Infinity"}, "Tax rate must be a finite number"),
			({"qty": 1_000_000, "unit_price": 1_000_000}, "line's amount with its tax must be below"),
		]
		for line, message in cases:
			with self.subTest(line=line), self.assertRaisesRegex(InvalidOrderError, message) as caught:
				self.insert([{"item_code": "X", "description": "x", "tax_rate": 15, **line}])
			self.assertEqual(caught.exception.http_status_code, 417)
			frappe.clear_messages()
		self.assertEqual(frappe.db.count(ORDER, {"customer": self.customer}), before)

	def test_an_order_total_beyond_the_columns_is_417(self):
		line = {"item_code": "X", "description": "x", "qty": 600_000, "unit_price": 1_000_000, "tax_rate": 0}
		with self.assertRaisesRegex(InvalidOrderError, "The total 1200000000000.00 is too large"):
			self.insert([line, dict(line)])
		self.assertFalse(frappe.db.exists(ORDER, {"customer": self.customer}))

	def test_invoice_quantities_out_of_range_are_400(self):
		order = make_order(customer=self.customer)
		row = order.items[0].name
		for qty in (1e30, "1e30", "nan", "inf", "-Infinity"):
			with self.subTest(qty=qty), self.assertRaises(InvalidInvoiceRequestError) as caught:
				create_invoice(order.name, [{"item": row, "qty": qty}])
			self.assertEqual(caught.exception.http_status_code, 400)
		self.assertFalse(frappe.db.exists("Xero Invoice", {"sales_order": order.name}))


class TestLongTextsFromXero(FrappeTestCase):
	def test_a_contact_name_as_long_as_xero_allows_is_synced_and_ordered(self):
		name = "Very Long Customer Name " + "x" * 231  # Xero's contact Name holds up to 255 characters
		self.assertEqual(len(name), 255)
		contact = make_contact(name)  # stored by the sync's own upsert
		self.assertEqual(contact.contact_name, name)
		order = make_order(customer=contact.name)
		self.assertEqual(frappe.db.get_value(ORDER, order.name, "customer_name"), name)
