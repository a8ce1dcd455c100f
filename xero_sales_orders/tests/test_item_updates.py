"""Update items on a submitted order after part of it is invoiced, against the Xero sandbox: quantities never
below what is invoiced, prices and discounts only where nothing is invoiced, lines added and removed, totals and
status derived again, each change on the timeline; Frappe's own doors stay closed; a change racing an invoice on
the same order never leaves it over-invoiced."""

import uuid
from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase

from xero_sales_orders.api import orders as api
from xero_sales_orders.exceptions import (
	DerivedFieldError,
	InvalidInvoiceRequestError,
	InvalidOrderError,
	OrderStateError,
)
from xero_sales_orders.services import item_updates, order_invoicing
from xero_sales_orders.tests.factories import make_user
from xero_sales_orders.tests.test_invoicing_concurrency import in_threads
from xso_devkit.demo import use_sandbox_deposit_account
from xso_devkit.sandbox import start_sandbox, synced_organisation

CONNECTION = "Update Items Test"
ORDER = "Xero Sales Order"
ITEM = "Xero Sales Order Item"
INVOICE = "Xero Invoice"
SALES = "xso-update-sales@example.com"
READER = "xso-update-reader@example.com"


def money(value):
	return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def lines_of(order) -> list[dict]:
	"""The order's lines as the Update Items dialog sends them back unchanged."""
	return [
		{
			"name": r.name,
			"item": r.item,
			"description": r.description,
			"qty": r.qty,
			"unit_price": r.unit_price,
			"discount_rate": r.discount_rate,
			"tax": r.tax,
		}
		for r in order.items
	]


class TestItemUpdates(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.sandbox = start_sandbox(tenants=1, rate_limits=False)
		org = synced_organisation(cls.sandbox, CONNECTION)
		use_sandbox_deposit_account(CONNECTION)
		cls.tenant, cls.currency = org.tenant_id, org.currency
		cls.customer, cls.items = org.customers[0], org.items_with_tax[:3]
		make_user(SALES, ["Xero Sales User"])
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		cls.sandbox.stop()
		super().tearDownClass()

	def tearDown(self):
		frappe.set_user("Administrator")

	def order(self, lines=None):
		doc = frappe.get_doc(
			{
				"doctype": ORDER,
				"customer": self.customer,
				"po_number": f"UPD-{uuid.uuid4().hex[:6]}",
				"currency": self.currency,
				"items": lines
				or [
					{"item": self.items[0], "qty": 10, "unit_price": 12.5},
					{"item": self.items[1], "qty": 3, "unit_price": 0.3333},
				],
			}
		).insert()
		doc.submit()
		frappe.db.commit()
		return doc

	def snapshot(self, name):
		doc = frappe.get_doc(ORDER, name).as_dict(convert_dates_to_str=True)
		doc.pop("modified", None)
		return doc

	def assert_invoices_add_up(self, order):
		totals = frappe.get_all(
			INVOICE, {"sales_order": order.name, "status": ["not in", ["VOIDED", "DELETED"]]}, pluck="total"
		)
		self.assertEqual(sum(money(t) for t in totals), money(order.grand_total))

	def test_change_add_and_remove_lines_of_a_partly_invoiced_order(self):
		order = self.order()
		first = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 4}])
		self.assertEqual(first["push_state"], "Pushed", first["last_error"])
		frappe.set_user(SALES)
		lines = lines_of(order)
		lines[0]["qty"] = 12  # more of the invoiced line
		del lines[1]  # the line with nothing invoiced goes
		lines.append({"item": self.items[2], "qty": 2, "unit_price": 45, "discount_rate": 10})
		answer = api.update_items(order.name, lines)
		changed = frappe.get_doc(ORDER, order.name)
		self.assertEqual([c["kind"] for c in answer["changes"]], ["changed", "added", "removed"])
		self.assertEqual(answer["changes"][0]["fields"], [{"field": "qty", "before": "10", "after": "12"}])
		self.assertEqual([r.qty for r in changed.items], [12, 2])
		new = changed.items[1]
		self.assertEqual((new.idx, new.docstatus, money(new.line_amount)), (2, 1, money("81.00")))
		self.assertTrue(new.description and new.tax_type)  # completed from the Xero item
		self.assertEqual((new.invoiced_qty, new.outstanding_qty), (0, 2))
		self.assertEqual(money(changed.items[0].line_amount), money(150))
		self.assertEqual(
			money(changed.grand_total), sum(money(r.line_amount) + money(r.tax_amount) for r in changed.items)
		)
		self.assertEqual(changed.status, "Partially Invoiced")
		self.assertEqual(
			money(changed.outstanding_amount), money(changed.grand_total) - money(first["total"])
		)
		# The timeline says who changed what, before and after.
		[entry] = frappe.get_all(
			"Comment",
			{"reference_doctype": ORDER, "reference_name": order.name, "content": ["like", "Items updated%"]},
			["owner", "content", "creation"],
		)
		self.assertEqual(entry.owner, SALES)
		self.assertIn("Qty 10 → 12", entry.content)
		self.assertIn("Added row 2", entry.content)
		self.assertIn("Removed row 2", entry.content)
		# What is left is invoiced as changed, and Xero computes the same figures.
		frappe.set_user("Administrator")
		last = api.create_invoice(order.name)
		self.assertEqual(last["push_state"], "Pushed", last["last_error"])
		self.assertFalse(last["totals_differ"], last["totals_difference"])
		changed.reload()
		self.assertEqual(changed.status, "Fully Invoiced")
		self.assert_invoices_add_up(changed)

	def test_the_timeline_shows_texts_as_text(self):
		order = self.order()
		hostile = '<img src=x onerror="alert(1)">'
		api.update_items(
			order.name,
			[*lines_of(order), {"description": hostile, "item_code": hostile, "qty": 1, "unit_price": 1}],
		)
		[content] = frappe.get_all(
			"Comment",
			{"reference_name": order.name, "content": ["like", "Items updated%"]},
			pluck="content",
		)
		self.assertNotIn("<img", content)
		self.assertIn("&lt;img", content)

	def test_a_quantity_down_to_what_is_invoiced_fully_invoices_the_order_to_the_cent(self):
		order = self.order([{"item": self.items[0], "qty": 3, "unit_price": 0.3333}])
		line = order.items[0].name
		for _ in range(2):
			api.create_invoice(order.name, [{"item": line, "qty": 1}])
		api.update_items(order.name, [{"name": line, "qty": 2}])
		order.reload()
		self.assertEqual(order.status, "Fully Invoiced")
		self.assertEqual(money(order.items[0].line_amount), money("0.66"))  # what the two invoices billed
		self.assertEqual(money(order.outstanding_amount), 0)
		self.assert_invoices_add_up(order)

	def test_refused_changes_change_nothing(self):
		order = self.order()
		api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 4}])
		invoiced, other = order.items[0].name, order.items[1].name
		before = self.snapshot(order.name)
		cases = [
			(OrderStateError, "4 of it is invoiced already", [{"name": invoiced, "qty": 3}, {"name": other}]),
			(
				OrderStateError,
				"only its quantity can change",
				[{"name": invoiced, "unit_price": 13}, {"name": other}],
			),
			(OrderStateError, "Discount %", [{"name": invoiced, "discount_rate": 5}, {"name": other}]),
			(OrderStateError, "Cannot remove row 1", [{"name": other}]),
			(
				InvalidOrderError,
				"Quantity must be greater than 0",
				[{"name": invoiced}, {"name": other, "qty": 0}],
			),
			(
				InvalidOrderError,
				"Discount % must be between",
				[{"name": invoiced}, {"name": other, "discount_rate": 101}],
			),
			(InvalidInvoiceRequestError, "at least one line", []),
			(InvalidInvoiceRequestError, "not a line of", [{"name": "nope", "qty": 1}]),
			(
				InvalidInvoiceRequestError,
				"item code or a description",
				[{"name": invoiced}, {"qty": 1, "unit_price": 1}],
			),
			(InvalidInvoiceRequestError, "must be a list", {"name": invoiced}),
			(
				InvalidInvoiceRequestError,
				"not a field of an order line",
				[{"name": invoiced, "parent": "XSO-1", "owner": "x"}],
			),
			(
				DerivedFieldError,
				"invoiced_qty is derived",
				[{"name": invoiced, "invoiced_qty": 0}, {"name": other}],
			),
			(
				DerivedFieldError,
				"line_amount is derived",
				[{"name": invoiced}, {"name": other, "line_amount": 1}],
			),
		]
		for exception, message, items in cases:
			with self.subTest(message=message), self.assertRaisesRegex(exception, message):
				api.update_items(order.name, items)
			frappe.db.rollback()
			self.assertEqual(self.snapshot(order.name), before)
		api.close(order.name)
		with self.assertRaisesRegex(OrderStateError, "it is Closed"):
			api.update_items(order.name, lines_of(order))
		api.reopen(order.name)
		draft = frappe.get_doc(
			{
				"doctype": ORDER,
				"customer": self.customer,
				"currency": self.currency,
				"items": [{"item": self.items[0], "qty": 1}],
			}
		).insert()
		with self.assertRaisesRegex(OrderStateError, "edit and save it as usual"):
			api.update_items(draft.name, [{"name": draft.items[0].name, "qty": 2}])
		cancelled = self.order()
		cancelled.cancel()
		with self.assertRaisesRegex(OrderStateError, "Cancelled"):
			api.update_items(cancelled.name, [{"name": cancelled.items[0].name, "qty": 2}])

	def test_a_deposit_not_yet_deducted_must_still_fit(self):
		order = self.order([{"item": self.items[0], "qty": 10, "unit_price": 10}])
		deposit = api.create_deposit(order.name, percent=50)
		self.assertEqual(deposit["push_state"], "Pushed", deposit["last_error"])
		line = order.items[0].name
		with self.assertRaisesRegex(OrderStateError, "of deposit that later invoices must still deduct"):
			api.update_items(order.name, [{"name": line, "qty": 4}])
		api.update_items(order.name, [{"name": line, "qty": 6}])
		api.create_invoice(order.name)
		order.reload()
		self.assertEqual((order.status, money(order.deposit_remaining)), ("Fully Invoiced", 0))
		self.assert_invoices_add_up(order)

	def test_frappes_doors_stay_closed_and_only_writers_update(self):
		order = self.order()
		line = order.items[0].name
		before = self.snapshot(order.name)
		frappe.set_user(SALES)
		doc = frappe.get_doc(ORDER, order.name)
		doc.items[0].qty = 20
		with self.assertRaises(frappe.UpdateAfterSubmitError):
			doc.save()
		frappe.db.rollback()
		with self.assertRaises(frappe.UpdateAfterSubmitError):
			frappe.client.set_value(ITEM, line, "qty", 20)
		frappe.db.rollback()
		with self.assertRaises(frappe.UpdateAfterSubmitError):
			frappe.client.set_value(ORDER, order.name, "grand_total", 1)
		frappe.db.rollback()
		with self.assertRaises(DerivedFieldError):
			frappe.client.set_value(ORDER, order.name, "outstanding_amount", 1)
		frappe.db.rollback()
		self.assertEqual(self.snapshot(order.name), before)
		frappe.set_user("Administrator")
		make_user(READER, [])
		frappe.db.commit()
		frappe.set_user(READER)
		with self.assertRaises(frappe.PermissionError):
			api.update_items(order.name, [{"name": line, "qty": 20}])
		frappe.set_user("Administrator")
		self.assertEqual(self.snapshot(order.name), before)
		# Nothing changed: nothing is written and the timeline stays as it was.
		answer = api.update_items(order.name, lines_of(order))
		self.assertEqual(answer["changes"], [])
		self.assertFalse(
			frappe.db.exists("Comment", {"reference_name": order.name, "content": ["like", "Items updated%"]})
		)

	def test_a_change_racing_an_invoice_on_the_same_order_never_over_invoices(self):
		# Each round: one thread lowers a 10-unit line to 4 while another invoices 6 of it. Whichever runs
		# first under the order's lock, the other sees it: either the invoice of 6 is refused (over-invoicing)
		# or the change is (below what is invoiced). Never both succeed.
		outcomes = set()
		for _ in range(4):
			order = self.order([{"item": self.items[0], "qty": 10, "unit_price": 10}])
			line = order.items[0].name

			def work(kind, order=order, line=line):
				if kind == "update":
					return kind, item_updates.update_items(order.name, [{"name": line, "qty": 4}])
				return kind, order_invoicing.create_invoice(order.name, [{"item": line, "qty": 6}]).name

			results, errors = in_threads(work, ["update", "invoice"])
			self.assertEqual(len(results) + len(errors), 2)
			self.assertEqual(len(results), 1, (results, errors))
			self.assertIn(type(errors[0]).__name__, ("OverInvoicingError", "OrderStateError"))
			outcomes.add(results[0][0])
			frappe.db.rollback()
			order.reload()
			self.assertLessEqual(order.items[0].invoiced_qty, order.items[0].qty)
			self.assertEqual(order.items[0].qty, 4 if results[0][0] == "update" else 10)
			self.assertEqual(order.items[0].invoiced_qty, 0 if results[0][0] == "update" else 6)
		self.assertTrue(outcomes)
