"""Pushes hold no lock while Xero is called, claim what they send, commit what Xero accepted at once, and never
take Xero's "Invoice # must be unique" for an invoice of ours as a failure."""

import threading
import time
import uuid

import frappe
import requests
from frappe.tests.utils import FrappeTestCase

from xero_sales_orders.services import invoice_push, order_invoicing, xero_clients
from xso_devkit.sandbox import (
	expire_access_token,
	reset_calls,
	sandbox_calls,
	start_sandbox,
	synced_organisation,
)

HEALTHY, BROKEN = "Claims Healthy", "Claims Broken"
PUT_INVOICES = "PUT /api.xro/2.0/Invoices"


class TestPushClaims(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.sandboxes = {HEALTHY: start_sandbox(tenants=1, rate_limits=False)}
		cls.sandboxes[BROKEN] = start_sandbox(tenants=1, rate_limits=False)
		cls.org = {name: synced_organisation(box, name) for name, box in cls.sandboxes.items()}

	@classmethod
	def tearDownClass(cls):
		for sandbox in cls.sandboxes.values():
			sandbox.stop()
		super().tearDownClass()

	def setUp(self):
		for sandbox in self.sandboxes.values():
			requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=10)
			reset_calls(sandbox)

	def fault(self, connection=HEALTHY, **spec):
		url = f"{self.sandboxes[connection].url}/_sandbox/faults"
		requests.post(url, json=spec, timeout=10).raise_for_status()

	def calls(self, connection=HEALTHY) -> dict:
		return sandbox_calls(self.sandboxes[connection])["by_endpoint"]

	def order(self, connection=HEALTHY, qty=10):
		org = self.org[connection]
		doc = frappe.get_doc(
			{
				"doctype": "Xero Sales Order",
				"customer": org.customers[0],
				"po_number": f"PO-{uuid.uuid4().hex[:6]}",
				"currency": org.currency,
				"items": [{"item": org.sold_items[0], "qty": qty, "unit_price": 12.5}],
			}
		).insert()
		doc.submit()
		frappe.db.commit()
		return doc

	def pending_invoice(self, connection=HEALTHY, qty=1):
		order = self.order(connection)
		return order_invoicing.create_invoice(order.name, [{"item": order.items[0].name, "qty": qty}])

	def xero_invoices(self, number, connection=HEALTHY):
		client = xero_clients.client_for(connection, self.org[connection].tenant_id)
		try:
			return list(client.invoices(numbers=[number]))
		finally:
			client.close()

	def push_in_thread(self, names) -> threading.Thread:
		site = frappe.local.site

		def work():
			frappe.init(site=site)
			frappe.connect()
			try:
				invoice_push.push_invoices(names)
			finally:
				frappe.destroy()

		thread = threading.Thread(target=work)
		thread.start()
		return thread

	def wait_for_call(self, endpoint, connection=HEALTHY, timeout=10):
		deadline = time.monotonic() + timeout
		while time.monotonic() < deadline:
			if self.calls(connection).get(endpoint):
				return
			time.sleep(0.05)
		self.fail(f"the sandbox never received {endpoint}")

	def test_no_lock_is_held_while_xero_answers_slowly(self):
		invoice = self.pending_invoice()
		self.fault(kind="slow", delay=4, path="/api.xro/2.0/Invoices", method="PUT", count=1)
		thread = self.push_in_thread([invoice.name])
		try:
			self.wait_for_call(PUT_INVOICES)
			frappe.db.rollback()
			# The rows the push is about are free: NOWAIT fails at once if anyone holds them.
			frappe.db.sql(
				"select name from `tabXero Sales Order` where name = %s for update nowait",
				invoice.sales_order,
			)
			frappe.db.sql(
				"select name from `tabXero Invoice` where name = %s for update nowait", invoice.name
			)
			frappe.db.rollback()
			started = time.monotonic()
			line = frappe.db.get_value("Xero Sales Order Item", {"parent": invoice.sales_order}, "name")
			order_invoicing.create_invoice(invoice.sales_order, [{"item": line, "qty": 1}])
			self.assertLess(time.monotonic() - started, 2)
			self.assertTrue(thread.is_alive(), "the push should still be waiting for Xero")
		finally:
			thread.join(30)
		frappe.db.rollback()
		self.assertEqual(frappe.db.get_value("Xero Invoice", invoice.name, "push_state"), "Pushed")

	def test_a_second_pusher_leaves_a_claimed_invoice_alone(self):
		invoice = self.pending_invoice()
		self.fault(kind="slow", delay=3, path="/api.xro/2.0/Invoices", method="PUT", count=1)
		thread = self.push_in_thread([invoice.name])
		try:
			self.wait_for_call(PUT_INVOICES)
			states = invoice_push.push_invoices([invoice.name])
			self.assertEqual(states[invoice.name], "Pending")  # claimed by the first pusher, not sent again
		finally:
			thread.join(30)
		frappe.db.rollback()
		self.assertEqual(self.calls().get(PUT_INVOICES), 1)
		self.assertEqual(
			frappe.db.get_value("Xero Invoice", invoice.name, ["push_state", "push_attempts", "push_claim"]),
			("Pushed", 1, None),
		)

	def test_a_claim_left_by_a_pusher_that_died_expires(self):
		live, dead = self.pending_invoice(), self.pending_invoice()
		frappe.db.set_value(
			"Xero Invoice", live.name, {"push_claim": "x", "push_claimed_until": "2999-01-01"}
		)
		frappe.db.set_value(
			"Xero Invoice", dead.name, {"push_claim": "y", "push_claimed_until": "2000-01-01"}
		)
		frappe.db.commit()
		states = invoice_push.push_invoices([live.name, dead.name])
		self.assertEqual(states, {live.name: "Pending", dead.name: "Pushed"})
		self.assertEqual(frappe.db.get_value("Xero Invoice", live.name, "push_attempts"), 0)

	def test_each_attempt_is_counted_even_when_the_pusher_dies_in_flight(self):
		invoice = self.pending_invoice()
		self.fault(kind="slow", delay=3, path="/api.xro/2.0/Invoices", method="PUT", count=1)
		thread = self.push_in_thread([invoice.name])
		try:
			self.wait_for_call(PUT_INVOICES)
			frappe.db.rollback()
			# Committed before Xero was called: a pusher killed now leaves its attempt on record.
			attempts, at = frappe.db.get_value(
				"Xero Invoice", invoice.name, ["push_attempts", "last_attempt_at"]
			)
			self.assertEqual(attempts, 1)
			self.assertTrue(at)
		finally:
			thread.join(30)

	def test_xero_holding_our_number_is_pushed_not_failed(self):
		# The first attempt reached Xero but its answer was lost; the retry goes out with another invoice
		# under a new batch key, so Xero cannot replay it: the app looks it up by number instead.
		lost, other = self.pending_invoice(), self.pending_invoice()
		client = xero_clients.client_for(HEALTHY, self.org[HEALTHY].tenant_id)
		tenant = invoice_push._tenant_settings(HEALTHY, self.org[HEALTHY].tenant_id)
		client.create_invoices([invoice_push._payload(lost, tenant)])
		client.close()
		frappe.db.set_value(
			"Xero Invoice", lost.name, {"push_attempts": 1, "last_attempt_at": frappe.utils.now()}
		)
		frappe.db.commit()
		states = invoice_push.push_invoices([lost.name, other.name])
		self.assertEqual(states, {lost.name: "Pushed", other.name: "Pushed"})
		self.assertEqual(len(self.xero_invoices(lost.invoice_number)), 1)
		self.assertEqual(len(self.xero_invoices(other.invoice_number)), 1)

	def test_number_taken_in_xero_is_looked_up_before_it_counts_as_refused(self):
		ours, foreign = self.pending_invoice(), self.pending_invoice(qty=2)
		client = xero_clients.client_for(HEALTHY, self.org[HEALTHY].tenant_id)
		tenant = invoice_push._tenant_settings(HEALTHY, self.org[HEALTHY].tenant_id)
		# Ours already stored by an attempt the app never counted; the other number used in Xero by someone
		# else for another amount.
		stranger = invoice_push._payload(foreign, tenant)
		stranger["LineItems"][0]["Quantity"] = 5
		stranger["Reference"] = "typed in Xero"
		client.create_invoices([invoice_push._payload(ours, tenant), stranger])
		client.close()
		states = invoice_push.push_invoices([ours.name, foreign.name])
		self.assertEqual(states, {ours.name: "Pushed", foreign.name: "Failed"})
		self.assertIn(
			invoice_push.NUMBER_TAKEN, frappe.db.get_value("Xero Invoice", foreign.name, "last_error")
		)

	def test_one_organisation_failing_does_not_undo_anothers_pushes(self):
		healthy = [self.pending_invoice(HEALTHY) for _ in range(3)]
		broken = [self.pending_invoice(BROKEN) for _ in range(2)]
		# The broken organisation's identity server is down and its access token has expired.
		self.fault(BROKEN, kind="503", path="/connect/token")
		expire_access_token(BROKEN)
		states = invoice_push.retry_pending()
		frappe.db.rollback()
		for inv in healthy:
			self.assertEqual(states[inv.name], "Pushed")
			self.assertEqual(len(self.xero_invoices(inv.invoice_number)), 1)
		for inv in broken:
			state, attempts, error = frappe.db.get_value(
				"Xero Invoice", inv.name, ["push_state", "push_attempts", "last_error"]
			)
			self.assertEqual((state, attempts), ("Pending", 1))
			self.assertTrue(error)
		self.assertFalse(self.calls(BROKEN).get(PUT_INVOICES))

	def test_ours_in_xero_with_another_total_is_pushed_and_flagged_not_sent_again(self):
		invoice = self.pending_invoice(qty=2)
		client = xero_clients.client_for(HEALTHY, self.org[HEALTHY].tenant_id)
		tenant = invoice_push._tenant_settings(HEALTHY, self.org[HEALTHY].tenant_id)
		# An earlier attempt reached Xero, which came to another total (same contact and reference).
		stored = invoice_push._payload(invoice, tenant)
		stored["LineItems"][0]["Quantity"] = 3
		client.create_invoices([stored])
		client.close()
		frappe.db.set_value(
			"Xero Invoice", invoice.name, {"push_attempts": 1, "last_attempt_at": frappe.utils.now()}
		)
		frappe.db.commit()
		self.assertEqual(invoice_push.push_invoices([invoice.name]), {invoice.name: "Pushed"})
		self.assertEqual(len(self.xero_invoices(invoice.invoice_number)), 1)
		self.assertEqual(frappe.db.get_value("Xero Invoice", invoice.name, "totals_differ"), 1)
