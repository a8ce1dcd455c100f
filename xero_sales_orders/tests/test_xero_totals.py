"""After every push the app reads back Xero's totals: remainder invoices total in Xero exactly as in the app, and
an invoice whose totals in Xero differ is flagged on the invoice and the order, never stored as the app's own."""

import uuid
from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase

from xero_sales_orders.api import orders as api
from xero_sales_orders.services import invoice_updates, xero_clients
from xso_devkit.sandbox import start_sandbox, synced_organisation

CONNECTION = "Totals Test"
# The order of the issue: 3 x 19.99; 7 x 4.3333 at 12.5 %; 2.5 x 250, invoiced in three parts.
LINES = [(3, 19.99, 0, (1, 1, 1)), (7, 4.3333, 12.5, (2, 2, 3)), (2.5, 250, 0, (1, 1, 0.5))]


def money(value) -> Decimal:
	return Decimal(str(value or 0)).quantize(Decimal("0.01"))


class TestXeroTotals(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.sandbox = start_sandbox(tenants=1, rate_limits=False)
		org = synced_organisation(cls.sandbox, CONNECTION)
		cls.tenant, cls.currency = org.tenant_id, org.currency
		cls.customer, cls.item = org.customers[0], org.items_with_tax[0]

	@classmethod
	def tearDownClass(cls):
		cls.sandbox.stop()
		super().tearDownClass()

	def order(self, line_amount_type):
		doc = frappe.get_doc(
			{
				"doctype": "Xero Sales Order",
				"customer": self.customer,
				"po_number": f"PO-{uuid.uuid4().hex[:6]}",
				"currency": self.currency,
				"line_amount_type": line_amount_type,
				"items": [
					{"item": self.item, "qty": qty, "unit_price": price, "discount_rate": discount}
					for qty, price, discount, _ in LINES
				],
			}
		).insert()
		doc.submit()
		frappe.db.commit()
		return doc

	def in_xero(self, invoice_id):
		client = xero_clients.client_for(CONNECTION, self.tenant)
		try:
			return next(iter(client.invoices(ids=[invoice_id])))
		finally:
			client.close()

	def test_remainder_invoices_total_in_xero_as_in_the_app(self):
		for line_amount_type in ("Exclusive", "Inclusive"):
			with self.subTest(line_amount_type):
				order = self.order(line_amount_type)
				invoices = []
				for part in range(3):
					lines = [
						{"item": row.name, "qty": LINES[i][3][part]} for i, row in enumerate(order.items)
					]
					invoice = api.create_invoice(order.name, lines)
					self.assertEqual(invoice["push_state"], "Pushed", invoice["last_error"])
					self.assertEqual(invoice["totals_differ"], 0, invoice["totals_difference"])
					for ours, theirs in (
						("subtotal", "xero_subtotal"),
						("total_tax", "xero_total_tax"),
						("total", "xero_total"),
					):
						self.assertEqual(money(invoice[ours]), money(invoice[theirs]), ours)
					remote = self.in_xero(invoice["xero_invoice_id"])
					self.assertEqual(money(remote["Total"]), money(invoice["total"]))
					invoices.append(remote)
				order.reload()
				self.assertEqual(order.status, "Fully Invoiced")
				self.assertEqual(sum(money(x["Total"]) for x in invoices), money(order.grand_total))
				self.assertEqual(sum(money(x["TotalTax"]) for x in invoices), money(order.total_tax))

	def test_totals_changed_in_xero_are_flagged_not_taken_as_the_apps(self):
		order = self.order("Exclusive")
		invoice = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}])
		self.assertEqual(invoice["totals_differ"], 0)
		# Someone edits the line in Xero: Xero now bills more than the order says.
		remote = self.in_xero(invoice["xero_invoice_id"])
		line = remote["LineItems"][0]
		client = xero_clients.client_for(CONNECTION, self.tenant)
		client.update_invoice(
			invoice["xero_invoice_id"],
			{
				"LineItems": [
					{
						"LineItemID": line["LineItemID"],
						"Description": line["Description"],
						"Quantity": 2,
						"UnitAmount": line["UnitAmount"],
						"AccountCode": line["AccountCode"],
						"TaxType": line["TaxType"],
					}
				]
			},
		)
		client.close()
		invoice_updates.apply_xero_invoice(self.in_xero(invoice["xero_invoice_id"]), CONNECTION, self.tenant)
		local = frappe.get_doc("Xero Invoice", invoice["name"])
		self.assertEqual(local.totals_differ, 1)
		self.assertIn("Xero's Total is", local.totals_difference)
		self.assertEqual(money(local.total), money(invoice["total"]))  # the app's own figure is kept
		self.assertGreater(money(local.xero_total), money(local.total))
		self.assertTrue(
			frappe.db.exists(
				"Comment", {"reference_name": order.name, "content": ["like", f"%{invoice['name']}%differ%"]}
			)
		)
		listed = {i.name: i for i in api.invoices(order.name)}
		self.assertEqual(listed[invoice["name"]].totals_differ, 1)
