"""Invoicing at the same time: orders never wait on or deadlock with each other, one order never over-invoices,
and a transaction MariaDB picks as a deadlock victim is run again instead of failing the request."""

import threading
import time
from collections import Counter

import frappe
from frappe.tests.utils import FrappeTestCase

from xero_sales_orders.services import order_invoicing
from xero_sales_orders.tests.factories import make_contact, make_order


def in_threads(work, arguments: list, timeout: float = 180) -> tuple[list, list]:
	"""Runs ``work(argument)`` in one thread per argument, each with its own site connection, all released at
	once. Returns (results, errors)."""
	site, results, errors = frappe.local.site, [], []
	barrier = threading.Barrier(len(arguments))

	def worker(argument):
		frappe.init(site=site)
		frappe.connect()
		frappe.set_user("Administrator")
		try:
			barrier.wait()
			results.append(work(argument))
		except Exception as e:
			errors.append(e)
		finally:
			frappe.destroy()

	threads = [threading.Thread(target=worker, args=(a,)) for a in arguments]
	for t in threads:
		t.start()
	for t in threads:
		t.join(timeout)
	return results, errors


class TestInvoicingConcurrency(FrappeTestCase):
	def setUp(self):
		self.customer = make_contact().name
		frappe.db.commit()

	def orders(self, count: int) -> list:
		orders = [
			make_order(
				customer=self.customer,
				items=[
					{"item_code": "A", "description": "A", "qty": 3, "unit_price": 19.99, "tax_rate": 10},
					{
						"item_code": "B",
						"description": "B",
						"qty": 7,
						"unit_price": 4.3333,
						"discount_rate": 12.5,
					},
				],
			)
			for _ in range(count)
		]
		frappe.db.commit()
		return orders

	def test_clients_invoicing_different_orders_at_once_never_fail(self):
		# Four clients, ten orders each, three invoices per order, interleaved so that neighbouring orders
		# (adjacent in every index) get their invoices at the same moments.
		orders = self.orders(40)
		lines = {o.name: [r.name for r in o.items] for o in orders}

		def client(index):
			mine = [o.name for o in orders[index::4]]
			made = []
			for part in range(3):
				for name in mine:
					requested = [
						{"item": lines[name][0], "qty": 1},
						{"item": lines[name][1], "qty": 2 + (part < 1)},
					]
					made.append(order_invoicing.create_invoice(name, requested).invoice_number)
			return made

		results, errors = in_threads(client, list(range(4)))
		self.assertEqual(errors, [])
		self.assertEqual(sum(len(r) for r in results), 120)
		frappe.db.rollback()  # a snapshot after the threads committed
		for order in orders:
			order.reload()
			self.assertEqual(order.status, "Fully Invoiced")
			self.assertEqual(order.outstanding_amount, 0)
			numbers = frappe.get_all("Xero Invoice", {"sales_order": order.name}, pluck="invoice_number")
			self.assertEqual(sorted(numbers), [f"{order.name}-{n}" for n in (1, 2, 3)])
			self.assertEqual(order.invoice_counter, 3)

	def test_clients_racing_on_one_order_never_invoice_past_its_quantity(self):
		[order] = self.orders(1)
		line = order.items[1].name  # 7 units: three invoices of 2 fit, the rest are refused

		def client(_):
			return order_invoicing.create_invoice(order.name, [{"item": line, "qty": 2}]).name

		results, errors = in_threads(client, list(range(8)))
		self.assertEqual(len(results), 3)
		self.assertEqual(Counter(type(e).__name__ for e in errors), {"OverInvoicingError": 5})
		frappe.db.rollback()
		order.reload()
		self.assertEqual((order.items[1].invoiced_qty, order.items[1].outstanding_qty), (6, 1))

	def test_a_deadlock_victim_is_run_again_not_failed(self):
		first, second = self.orders(2)
		calls = []
		holding = threading.Event()

		def rival(_):
			# Locks the first order and writes enough rows to weigh more than the victim, then asks for the
			# second order's row, which the invoicing transaction holds: a deadlock.
			frappe.db.sql("select name from `tabXero Sales Order` where name = %s for update", first.name)
			for i in range(30):
				frappe.db.sql(
					"update `tabXero Sales Order` set remarks = %s where name = %s",
					(f"rival {i}", first.name),
				)
			holding.set()
			time.sleep(0.5)
			frappe.db.sql("select name from `tabXero Sales Order` where name = %s for update", second.name)
			time.sleep(0.3)
			frappe.db.commit()
			return "rival done"

		def invoicing_client(_):
			def work():
				calls.append(len(calls) + 1)
				holding.wait(10)
				# Needs the first order's row too (as Frappe's own writes sometimes need another row).
				frappe.db.sql("select name from `tabXero Sales Order` where name = %s for update", first.name)
				return "invoiced"

			return order_invoicing.with_order_locked(second.name, work)

		def either(kind):
			return rival(kind) if kind == "rival" else invoicing_client(kind)

		results, errors = in_threads(either, ["rival", "client"])
		self.assertEqual(errors, [])
		self.assertEqual(sorted(results), ["invoiced", "rival done"])
		self.assertEqual(calls, [1, 2])  # the first attempt was the victim, the second succeeded

	def test_invoice_numbers_never_go_back(self):
		[order] = self.orders(1)
		line = order.items[1].name
		numbers = [
			order_invoicing.create_invoice(order.name, [{"item": line, "qty": 1}]).name for _ in range(3)
		]
		self.assertEqual(numbers, [f"{order.name}-{n}" for n in (1, 2, 3)])
		# Xero refused the second one; a System Manager deletes it, which returns its quantity.
		frappe.db.set_value("Xero Invoice", numbers[1], "push_state", "Failed")
		frappe.delete_doc("Xero Invoice", numbers[1])
		frappe.db.commit()
		fourth = order_invoicing.create_invoice(order.name, [{"item": line, "qty": 1}])
		self.assertEqual(fourth.invoice_number, f"{order.name}-4")  # not -3 again, nor -2 that Xero saw
		order.reload()
		self.assertEqual(order.items[1].invoiced_qty, 3)
		self.assertEqual(order.invoice_counter, 4)
