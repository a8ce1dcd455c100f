"""Invoices pushed to the Xero sandbox at once, never doubled or lost; webhooks bringing Xero's changes back."""

import json
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import frappe
import requests
from frappe.tests.utils import FrappeTestCase
from frappe.utils import now_datetime
from frappe.utils.background_jobs import get_queue

from xero_sales_orders.api import orders as api
from xero_sales_orders.services import (
	invoice_push,
	reconciliation,
	webhook_drain,
	webhook_processing,
	webhook_receiver,
	xero_clients,
)
from xero_sales_orders.xero.errors import XeroRateLimitError
from xero_sales_orders.xero.webhooks import sign
from xso_devkit.sandbox import (
	WEBHOOK_KEY,
	reset_calls,
	sandbox_calls,
	start_sandbox,
	synced_organisation,
)

CONNECTION = "Push Test"


def money(value):
	return Decimal(str(value)).quantize(Decimal("0.01"))


class TestPushAndWebhooks(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.sandbox = start_sandbox(tenants=1, rate_limits=False)
		org = synced_organisation(cls.sandbox, CONNECTION)
		cls.tenant, cls.currency = org.tenant_id, org.currency
		cls.customer, cls.items = org.customers[0], org.sold_items[:3]

	@classmethod
	def tearDownClass(cls):
		cls.sandbox.stop()
		super().tearDownClass()

	def setUp(self):
		requests.delete(f"{self.sandbox.url}/_sandbox/faults", timeout=10)
		frappe.db.commit()

	def order(self, lines=None):
		doc = frappe.get_doc(
			{
				"doctype": "Xero Sales Order",
				"customer": self.customer,
				"po_number": f"PO-{uuid.uuid4().hex[:6]}",
				"currency": self.currency,
				"items": lines
				or [
					{"item": self.items[0], "qty": 10},
					{"item": self.items[1], "qty": 3, "unit_price": 0.3333},
				],
			}
		).insert()
		doc.submit()
		frappe.db.commit()
		return doc

	def xero_invoices(self, *numbers):
		"""What Xero holds under these numbers, read as an observer would: the organisation's minute limit
		(which this class's earlier pushes can use up) is waited out for its Retry-After, not failed."""
		client = xero_clients.client_for(CONNECTION, self.tenant)
		try:
			for _attempt in range(3):
				try:
					return list(client.invoices(numbers=list(numbers)))
				except XeroRateLimitError as e:
					if e.problem != "minute":
						raise
					time.sleep(min(max(e.retry_after or 1, 1), 61))
			return list(client.invoices(numbers=list(numbers)))
		finally:
			client.close()

	def fault(self, **spec):
		requests.post(f"{self.sandbox.url}/_sandbox/faults", json=spec, timeout=10).raise_for_status()

	def test_invoice_goes_to_xero_at_once_with_the_same_figures(self):
		order = self.order()
		invoice = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 4}])
		self.assertEqual(invoice["push_state"], "Pushed", invoice.get("last_error"))
		self.assertTrue(invoice["xero_invoice_id"])
		self.assertEqual(invoice["status"], "AUTHORISED")
		self.assertTrue(invoice["online_url"])
		[remote] = self.xero_invoices(invoice["invoice_number"])
		self.assertEqual(remote["InvoiceID"], invoice["xero_invoice_id"])
		self.assertEqual(money(remote["Total"]), money(invoice["total"]))
		self.assertEqual(remote["Reference"], order.po_number)

	def test_remainder_invoices_add_up_to_the_order_in_xero_too(self):
		order = self.order([{"item": self.items[0], "qty": 3, "unit_price": 0.3333, "tax_rate": 15}])
		line = order.items[0].name
		numbers = [
			api.create_invoice(order.name, [{"item": line, "qty": 1}])["invoice_number"] for _ in range(3)
		]
		totals = [money(invoice["Total"]) for invoice in self.xero_invoices(*numbers)]
		self.assertEqual(len(totals), 3)
		order.reload()
		self.assertEqual(sum(totals), money(order.grand_total))
		self.assertEqual(order.status, "Fully Invoiced")

	def test_outage_keeps_the_invoice_pending_and_the_retry_sends_it_once(self):
		order = self.order()
		self.fault(kind="503", count=20, path="/api.xro/2.0/Invoices", method="PUT")
		invoice = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 2}])
		self.assertEqual(invoice["push_state"], "Pending")
		self.assertTrue(invoice["last_error"])
		self.assertEqual(self.xero_invoices(invoice["invoice_number"]), [])
		requests.delete(f"{self.sandbox.url}/_sandbox/faults", timeout=10)
		frappe.db.set_value("Xero Invoice", invoice["name"], "last_attempt_at", "2000-01-01 00:00:00")
		frappe.db.commit()
		invoice_push.retry_pending(CONNECTION)
		self.assertEqual(frappe.db.get_value("Xero Invoice", invoice["name"], "push_state"), "Pushed")
		self.assertEqual(len(self.xero_invoices(invoice["invoice_number"])), 1)

	def test_an_answer_lost_after_xero_stored_the_invoice_never_doubles_it(self):
		order = self.order()
		# Xero stores the invoice, then the answer never arrives: the client's retry carries the same
		# Idempotency-Key, so Xero replays its first answer instead of creating a second invoice.
		self.fault(kind="timeout_after_store", count=1, path="/api.xro/2.0/Invoices", method="PUT", delay=25)
		invoice = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}])
		self.assertEqual(invoice["push_state"], "Pushed", invoice["last_error"])
		self.assertEqual(len(self.xero_invoices(invoice["invoice_number"])), 1)

	def test_a_retry_after_the_idempotency_window_looks_the_invoice_up_first(self):
		order = self.order()
		self.fault(kind="503", count=20, path="/api.xro/2.0/Invoices", method="PUT")
		invoice = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}])
		self.assertEqual(invoice["push_state"], "Pending")
		requests.delete(f"{self.sandbox.url}/_sandbox/faults", timeout=10)
		# Xero got it after all (the answer was lost), and its idempotency key is long forgotten.
		local = frappe.get_doc("Xero Invoice", invoice["name"])
		client = xero_clients.client_for(CONNECTION, self.tenant)
		client.create_invoices(
			[invoice_push._payload(local, invoice_push._tenant_settings(CONNECTION, self.tenant))]
		)
		client.close()
		frappe.db.set_value("Xero Invoice", invoice["name"], "last_attempt_at", "2000-01-01 00:00:00")
		frappe.db.commit()
		reset_calls(self.sandbox)
		invoice_push.retry_pending(CONNECTION)
		self.assertEqual(frappe.db.get_value("Xero Invoice", invoice["name"], "push_state"), "Pushed")
		self.assertEqual(len(self.xero_invoices(invoice["invoice_number"])), 1)
		self.assertNotIn("PUT /api.xro/2.0/Invoices", sandbox_calls(self.sandbox)["by_endpoint"])

	def test_xero_validation_error_fails_just_that_invoice_with_xeros_message(self):
		order = self.order()
		frappe.db.set_value("Xero Sales Order Item", order.items[0].name, "account_code", "999")
		frappe.db.commit()
		invoice = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}])
		self.assertEqual(invoice["push_state"], "Failed")
		self.assertIn("999", invoice["last_error"])
		self.assertTrue(
			frappe.db.exists("Comment", {"reference_name": order.name, "content": ["like", "%999%"]})
		)
		good = api.create_invoice(order.name, [{"item": order.items[1].name, "qty": 1}])
		self.assertEqual(good["push_state"], "Pushed")

	def deliver(self, events, key=WEBHOOK_KEY, tamper=None):
		body = json.dumps(
			{
				"events": events,
				"firstEventSequence": 1,
				"lastEventSequence": len(events),
				"entropy": uuid.uuid4().hex,
			}
		).encode()
		signature = sign(body, key)
		if tamper:
			body, signature = tamper(body, signature)
		return webhook_receiver.receive(body, signature)

	def event(self, resource_id, category="INVOICE", tenant=None, when=None):
		return {
			"resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{resource_id}",
			"resourceId": resource_id,
			"eventDateUtc": (when or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S.%f"),
			"eventType": "UPDATE",
			"eventCategory": category,
			"tenantId": tenant or self.tenant,
			"tenantType": "ORGANISATION",
		}

	def test_payment_and_void_in_xero_reach_the_order_through_webhooks(self):
		order = self.order()
		paid = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 5}])
		voided = api.create_invoice(order.name, [{"item": order.items[1].name, "qty": 3}])
		requests.post(
			f"{self.sandbox.url}/_sandbox/invoices/{paid['xero_invoice_id']}/pay", json={}, timeout=10
		).raise_for_status()
		client = xero_clients.client_for(CONNECTION, self.tenant)
		client.update_invoice(voided["xero_invoice_id"], {"Status": "VOIDED"})
		client.close()
		event = self.event(paid["xero_invoice_id"])
		self.assertEqual(self.deliver([event, self.event(voided["xero_invoice_id"])]), 2)
		self.deliver([event])  # Xero delivers twice: stored once
		frappe.db.commit()
		self.assertEqual(frappe.db.count("Xero Webhook Event", {"resource_id": paid["xero_invoice_id"]}), 1)
		reset_calls(self.sandbox)
		outcome = webhook_processing.process_queued()
		self.assertEqual(outcome["processed"], 2)
		self.assertEqual(sandbox_calls(self.sandbox)["by_endpoint"].get("GET /api.xro/2.0/Invoices"), 1)
		self.assertEqual(frappe.db.get_value("Xero Invoice", paid["name"], "status"), "PAID")
		self.assertEqual(frappe.db.get_value("Xero Invoice", voided["name"], "status"), "VOIDED")
		order.reload()
		self.assertEqual(money(order.paid_amount), money(paid["total"]))
		self.assertEqual((order.items[1].invoiced_qty, order.items[1].outstanding_qty), (0, 3))
		self.assertEqual(order.status, "Partially Invoiced")

	def test_forged_altered_or_malformed_deliveries_are_refused_and_store_nothing(self):
		before = frappe.db.count("Xero Webhook Event")
		event = [self.event(str(uuid.uuid4()))]
		cases = [
			(401, dict(key="another-apps-key")),
			(401, dict(tamper=lambda b, s: (b.replace(b'"events"', b'"Events"'), s))),
			(401, dict(tamper=lambda b, s: (b, None))),
			(401, dict(tamper=lambda b, s: (b, "/" + s[1:]))),
			(400, dict(tamper=lambda b, s: (b"not json", sign(b"not json", WEBHOOK_KEY)))),
			(413, dict(tamper=lambda b, s: (b" " * (webhook_receiver.MAX_BODY_BYTES + 1), s))),
		]
		for status, kwargs in cases:
			with self.subTest(status=status), self.assertRaises(webhook_receiver.Rejected) as caught:
				self.deliver(event, **kwargs)
			self.assertEqual(caught.exception.status, status)
		self.assertEqual(frappe.db.count("Xero Webhook Event"), before)

	def test_deliveries_take_frappes_own_request_path(self):
		import frappe.app

		import xero_sales_orders.api.webhook  # importing the app changes nothing of Frappe's

		self.assertEqual(frappe.app.init_request.__module__, "frappe.app")
		self.assertEqual(frappe.get_hooks("before_request", app_name="xero_sales_orders"), [])
		self.assertIn(xero_sales_orders.api.webhook.receive, frappe.guest_methods)

	def test_stored_events_carry_frappes_standard_columns_and_a_repeat_is_dropped_alone(self):
		first, second = self.event(str(uuid.uuid4())), self.event(str(uuid.uuid4()))
		frappe.set_user("Guest")  # as the endpoint runs
		try:
			self.assertEqual(self.deliver([first]), 1)
			# Xero sends the first again in a delivery with a new one: only the new one is added.
			self.assertEqual(self.deliver([first, second]), 2)
		finally:
			frappe.set_user("Administrator")
		frappe.db.commit()
		fields = ["name", "dedupe_key", "owner", "modified_by", "creation", "modified", "docstatus", "idx"]
		rows = frappe.get_all(
			"Xero Webhook Event",
			{"resource_id": ["in", [first["resourceId"], second["resourceId"]]]},
			fields,
			order_by="creation asc",
		)
		self.assertEqual(len(rows), 2)
		for row in rows:
			self.assertEqual(row.name, row.dedupe_key[: webhook_receiver.NAME_LENGTH])
			self.assertEqual((row.owner, row.modified_by, row.docstatus, row.idx), ("Guest", "Guest", 0, 0))
			self.assertEqual(row.creation, row.modified)
			self.assertLess(abs((now_datetime() - row.creation).total_seconds()), 60)
		doc = frappe.get_doc("Xero Webhook Event", rows[0].name)  # an ordinary document to Frappe
		self.assertEqual((doc.status, doc.attempts, doc.docstatus), ("Queued", 0, 0))

	def test_intent_to_receive_and_unknown_organisations(self):
		self.assertEqual(self.deliver([]), 0)  # the ITR probe: signed, no events
		self.assertEqual(self.deliver([self.event(str(uuid.uuid4()), tenant=str(uuid.uuid4()))]), 0)
		frappe.db.commit()
		ignored = frappe.get_all(
			"Xero Webhook Event", {"status": "Ignored", "connection": ["is", "not set"]}, pluck="error"
		)
		self.assertTrue(ignored and "no Xero Connection" in ignored[0])

	def test_events_for_vanished_or_foreign_invoices_do_not_stall_the_queue(self):
		gone = str(uuid.uuid4())
		self.deliver([self.event(gone)])
		frappe.db.commit()
		webhook_processing.process_queued()
		self.assertEqual(
			frappe.db.get_value("Xero Webhook Event", {"resource_id": gone}, ["status", "error"]),
			("Ignored", "no longer exists in Xero"),
		)

	def drain_jobs(self):
		return [
			job
			for job in get_queue("short").get_jobs()
			if job.kwargs.get("site") == frappe.local.site
			and job.kwargs.get("method") == webhook_drain.DRAIN_JOB
		]

	def test_a_burst_of_deliveries_enqueues_one_drain_that_leaves_nothing_queued(self):
		frappe.cache.delete(frappe.cache.make_key(webhook_drain.PENDING_KEY))
		before = len(self.drain_jobs())
		ids = [str(uuid.uuid4()) for _ in range(3)]
		for resource_id in ids:
			self.deliver([self.event(resource_id)])
			frappe.db.commit()  # the flag goes up only once the events are committed
		self.assertEqual(len(self.drain_jobs()), before + 1)
		webhook_drain.drain()  # what that job runs
		statuses = frappe.get_all(
			"Xero Webhook Event", {"resource_id": ["in", ids]}, pluck="status", distinct=True
		)
		self.assertEqual(statuses, ["Ignored"])  # no such invoices in Xero: applied, not left queued
		self.assertFalse(frappe.cache.get(frappe.cache.make_key(webhook_drain.PENDING_KEY)))

	def test_a_drain_spreads_a_backlog_over_passes_of_one_xero_call_each(self):
		ids = [str(uuid.uuid4()) for _ in range(2 * webhook_processing.IDS_PER_CALL + 20)]
		self.deliver([self.event(resource_id) for resource_id in ids])
		frappe.db.commit()
		reset_calls(self.sandbox)
		webhook_drain.request_drain()
		webhook_drain.drain()
		self.assertEqual(sandbox_calls(self.sandbox)["by_endpoint"].get("GET /api.xro/2.0/Invoices"), 3)
		statuses = frappe.get_all(
			"Xero Webhook Event", {"resource_id": ["in", ids]}, pluck="status", distinct=True
		)
		self.assertEqual(statuses, ["Ignored"])

	def test_a_drain_that_finds_another_running_leaves_the_work_to_it(self):
		running = frappe.cache.make_key(webhook_drain.RUNNING_KEY)
		frappe.cache.set(running, 1)
		try:
			resource_id = str(uuid.uuid4())
			self.deliver([self.event(resource_id)])
			frappe.db.commit()
			webhook_drain.drain()
			self.assertEqual(
				frappe.db.get_value("Xero Webhook Event", {"resource_id": resource_id}, "status"), "Queued"
			)
		finally:
			frappe.cache.delete(running)
		# The running drain, when it finishes, finds the flag still up and goes round again.
		webhook_drain.drain()
		self.assertEqual(
			frappe.db.get_value("Xero Webhook Event", {"resource_id": resource_id}, "status"), "Ignored"
		)

	def test_only_the_scheduled_drain_retries_failed_events_with_attempts_left(self):
		resource_id = str(uuid.uuid4())
		self.deliver([self.event(resource_id)])
		name = frappe.db.get_value("Xero Webhook Event", {"resource_id": resource_id})
		frappe.db.set_value("Xero Webhook Event", name, {"status": "Failed", "attempts": 1})
		frappe.db.commit()
		webhook_drain.request_drain()  # what a new delivery does: its drain leaves Failed events alone
		webhook_drain.drain()
		self.assertEqual(
			frappe.db.get_value("Xero Webhook Event", name, ["status", "attempts"]), ("Failed", 1)
		)
		webhook_drain.drain_scheduled()
		self.assertEqual(
			frappe.db.get_value("Xero Webhook Event", name, ["status", "attempts"]), ("Ignored", 2)
		)

	def test_events_wait_queued_while_xero_rate_limits_the_organisation(self):
		resource_id = str(uuid.uuid4())
		self.deliver([self.event(resource_id)])
		frappe.db.commit()
		fault = {
			"kind": "429",
			"problem": "day",
			"retry_after": 30,
			"count": 1,
			"path": "/api.xro/2.0/Invoices",
		}
		requests.post(f"{self.sandbox.url}/_sandbox/faults", json=fault, timeout=10).raise_for_status()
		limiter = xero_clients.shared_rate_limiter()
		try:
			self.assertGreaterEqual(webhook_processing.process_queued()["deferred"], 1)
			stored = ["status", "attempts", "error"]
			self.assertEqual(
				frappe.db.get_value("Xero Webhook Event", {"resource_id": resource_id}, stored),
				("Queued", 0, None),
			)
			reset_calls(self.sandbox)
			webhook_processing.process_queued()  # within Retry-After: Xero is not asked again
			self.assertFalse(sandbox_calls(self.sandbox)["by_endpoint"].get("GET /api.xro/2.0/Invoices"))
		finally:
			limiter._backend.redis.delete(limiter._backend._key(self.tenant, "pause"))
		webhook_processing.process_queued()
		self.assertEqual(
			frappe.db.get_value("Xero Webhook Event", {"resource_id": resource_id}, "status"), "Ignored"
		)

	def test_events_are_stamped_in_the_sites_time_zone_which_the_endpoint_follows(self):
		def stamped_late_by(resource_id):
			creation = frappe.db.get_value("Xero Webhook Event", {"resource_id": resource_id}, "creation")
			return abs((now_datetime() - creation).total_seconds())

		first = str(uuid.uuid4())
		self.deliver([self.event(first)])
		self.assertLess(stamped_late_by(first), 60)
		settings = frappe.get_single("System Settings")
		original = settings.time_zone
		settings.time_zone = "Pacific/Chatham" if original != "Pacific/Chatham" else "America/Halifax"
		settings.save()
		frappe.db.commit()
		try:
			second = str(uuid.uuid4())
			self.deliver([self.event(second)])
			self.assertLess(stamped_late_by(second), 60)
		finally:
			settings.reload()
			settings.time_zone = original
			settings.save()
			frappe.db.commit()

	def test_contact_events_refresh_the_synced_contact(self):
		client = xero_clients.client_for(CONNECTION, self.tenant)
		renamed = f"Renamed in Xero {uuid.uuid4().hex[:6]}"
		client.post("/Contacts", {"Contacts": [{"ContactID": self.customer, "Name": renamed}]})
		client.close()
		self.deliver([self.event(self.customer, category="CONTACT")])
		frappe.db.commit()
		outcome = webhook_processing.process_queued()
		self.assertGreaterEqual(outcome["processed"], 1)
		self.assertEqual(frappe.db.get_value("Xero Contact", self.customer, "contact_name"), renamed)

	def test_reconciliation_catches_what_a_lost_webhook_missed(self):
		order = self.order()
		invoice = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}])
		reconciliation.reconcile(CONNECTION)  # brings the reconciliation mark up to now
		requests.post(
			f"{self.sandbox.url}/_sandbox/invoices/{invoice['xero_invoice_id']}/pay", json={}, timeout=10
		).raise_for_status()
		# No webhook arrives; the scheduled reconciliation asks Xero what changed since its last run.
		applied = reconciliation.reconcile(CONNECTION)
		self.assertGreaterEqual(applied.get(self.tenant, 0), 1)
		self.assertEqual(frappe.db.get_value("Xero Invoice", invoice["name"], "status"), "PAID")
