"""Backlogs go to Xero in the fewest calls, under the sandbox's real limits (60 calls a minute, 5 at once):
Pending invoices of two organisations in full PUTs of 50 each in one scheduled run, the lookups of those with
an earlier attempt 50 numbers a GET, and webhook events 50 resource ids a GET per organisation however the
organisations' events interleave."""

import json
import uuid
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from unittest.mock import patch

import frappe
import requests
from frappe.tests.utils import FrappeTestCase

from xero_sales_orders.services import (
	invoice_push,
	order_invoicing,
	webhook_drain,
	webhook_receiver,
	xero_clients,
	xero_endpoints,
)
from xero_sales_orders.services.master_sync import sync_connection
from xero_sales_orders.xero.webhooks import sign
from xso_devkit.sandbox import WEBHOOK_KEY, connect, reset_calls, sandbox_calls, start_sandbox

CONNECTION = "Backlog Test"
PUTS = "PUT /api.xro/2.0/Invoices"
GETS = "GET /api.xro/2.0/Invoices"


class TestBacklogs(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.sandbox = start_sandbox(tenants=2, seed_invoices=0)  # Xero's own limits stay on
		connect(cls.sandbox, CONNECTION)
		sync_connection(CONNECTION)
		cls.orgs = []
		for tenant in frappe.get_doc(xero_endpoints.CONNECTION, CONNECTION).tenants:
			where = {"connection": CONNECTION, "tenant_id": tenant.tenant_id}
			cls.orgs.append(
				frappe._dict(
					tenant_id=tenant.tenant_id,
					currency=tenant.base_currency,
					customer=frappe.get_all(
						"Xero Contact", {**where, "contact_status": "ACTIVE"}, pluck="name"
					)[0],
					item=frappe.get_all(
						"Xero Item", {**where, "is_sold": 1, "account_code": ["is", "set"]}, pluck="name"
					)[0],
				)
			)
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		cls.sandbox.stop()
		super().tearDownClass()

	def setUp(self):
		requests.delete(f"{self.sandbox.url}/_sandbox/faults", timeout=10)
		reset_calls(self.sandbox)

	def calls_per_organisation(self, endpoint: str) -> list[int]:
		log = requests.get(f"{self.sandbox.url}/_sandbox/calls/log", timeout=10).json()["calls"]
		return [
			sum(1 for _, tenant, called in log if tenant == org.tenant_id and called == endpoint)
			for org in self.orgs
		]

	def pending_invoices(self, org, count: int) -> list[str]:
		"""``count`` Pending invoices of the organisation, one line each."""
		order = frappe.get_doc(
			{
				"doctype": "Xero Sales Order",
				"customer": org.customer,
				"po_number": f"PO-{uuid.uuid4().hex[:6]}",
				"currency": org.currency,
				"items": [{"item": org.item, "qty": 1} for _ in range(count)],
			}
		).insert()
		order.submit()
		frappe.db.commit()
		names = [
			order_invoicing.create_invoice(order.name, [{"item": row.name, "qty": 1}]).name
			for row in order.items
		]
		frappe.db.commit()
		return names

	def test_each_organisations_backlog_goes_out_in_full_puts_of_50_in_the_same_run(self):
		# The first organisation's 510 invoices are all older than the second's 60: a run that took the 500
		# oldest of all would leave the second organisation waiting behind the first.
		first, second = self.orgs
		names = self.pending_invoices(first, 510) + self.pending_invoices(second, 60)
		# Xero is down when they are raised: each has an attempt whose answer never came.
		requests.post(
			f"{self.sandbox.url}/_sandbox/faults",
			json={"kind": "503", "path": "/api.xro/2.0/Invoices", "method": "PUT"},
			timeout=10,
		).raise_for_status()
		invoice_push.push_invoices(names)
		pending = {"name": ["in", names], "push_state": "Pending"}
		self.assertEqual(frappe.db.count("Xero Invoice", pending), 570)
		requests.delete(f"{self.sandbox.url}/_sandbox/faults", timeout=10)
		frappe.db.sql("update `tabXero Invoice` set last_attempt_at = '2000-01-01' where name in %s", [names])
		frappe.db.commit()
		reset_calls(self.sandbox)

		invoice_push.retry_pending(CONNECTION)  # one scheduled run

		# 500 of the first (its oldest) and all 60 of the second, in ceil(n / 50) PUTs each, with as many
		# lookups of 50 numbers for those whose earlier answer was lost.
		self.assertEqual(
			sorted(frappe.get_all("Xero Invoice", pending, pluck="name")), sorted(names[500:510])
		)
		self.assertEqual(self.calls_per_organisation(PUTS), [10, 2])
		self.assertEqual(self.calls_per_organisation(GETS), [10, 2])
		invoice_push.retry_pending(CONNECTION)
		self.assertEqual(frappe.db.count("Xero Invoice", pending), 0)
		self.assertEqual(self.calls_per_organisation(PUTS), [11, 2])
		self.assertEqual(sum(sandbox_calls(self.sandbox)["rejected"].values()), 0)  # within Xero's limits
		for org, own in ((first, names[:510]), (second, names[510:])):
			client = xero_clients.client_for(CONNECTION, org.tenant_id)
			try:
				held = [inv["InvoiceNumber"] for inv in client.invoices(numbers=own)]
			finally:
				client.close()
			self.assertEqual(sorted(held), sorted(own))  # each once, in its own organisation

	def deliver_interleaved_events(self) -> list[dict]:
		"""280 invoice events as Xero delivers them: 240 of the first organisation, 40 of the second among
		them (one in seven), stored and committed, the call log reset."""
		first, second = self.orgs
		now = datetime.now(timezone.utc)
		events = []
		for n in range(280):
			org = second if n % 7 == 3 else first
			events.append(
				{
					"resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{uuid.uuid4()}",
					"resourceId": str(uuid.uuid4()),
					"eventDateUtc": (now + timedelta(milliseconds=n)).strftime("%Y-%m-%dT%H:%M:%S.%f"),
					"eventType": "UPDATE",
					"eventCategory": "INVOICE",
					"tenantId": org.tenant_id,
					"tenantType": "ORGANISATION",
				}
			)
		self.assertEqual(sum(1 for e in events if e["tenantId"] == second.tenant_id), 40)
		body = json.dumps(
			{"events": events, "firstEventSequence": 1, "lastEventSequence": 280, "entropy": "BACKLOG"}
		).encode()
		self.assertEqual(webhook_receiver.receive(body, sign(body, WEBHOOK_KEY)), 280)
		frappe.db.commit()
		reset_calls(self.sandbox)
		return events

	def test_each_organisation_gets_full_calls_of_50_ids_however_their_events_interleave(self):
		events = self.deliver_interleaved_events()
		webhook_drain.request_drain()
		webhook_drain.drain()

		# ceil(240 / 50) and ceil(40 / 50): the second organisation's ids wait for one full call, never two.
		self.assertEqual(self.calls_per_organisation(GETS), [5, 1])
		statuses = frappe.get_all(
			"Xero Webhook Event",
			{"resource_id": ["in", [e["resourceId"] for e in events]]},
			pluck="status",
			distinct=True,
		)
		self.assertEqual(statuses, ["Ignored"])  # none of them exists in Xero: fetched, then let go
		self.assertEqual(sum(sandbox_calls(self.sandbox)["rejected"].values()), 0)

	def test_the_drains_calls_reach_xero_a_pass_interval_apart_even_across_jobs(self):
		# The drain's share of Xero's minute (60 / PASS_INTERVAL calls) must hold however long a call takes
		# and when a drain hands over to the next job: here every job makes one pass, then the next starts.
		self.deliver_interleaved_events()
		interval = 0.4
		pending = frappe.cache.make_key(webhook_drain.PENDING_KEY)
		with (
			patch.object(webhook_drain, "PASS_INTERVAL", interval),
			patch.object(webhook_drain, "DRAIN_SECONDS", 0),
		):
			webhook_drain.request_drain()
			jobs = 0
			while frappe.cache.get(pending) and jobs < 20:
				webhook_drain.drain()  # as the job each drain queues before it returns
				jobs += 1
		self.assertGreater(jobs, 4)
		self.assertEqual(self.calls_per_organisation(GETS), [5, 1])
		log = requests.get(f"{self.sandbox.url}/_sandbox/calls/log", timeout=10).json()["calls"]
		first = [
			moment for moment, tenant, called in log if tenant == self.orgs[0].tenant_id and called == GETS
		]
		gaps = [later - earlier for earlier, later in pairwise(first)]
		self.assertEqual(len(gaps), 4)
		# A pass's call reaches Xero a little after the pass starts, sooner or later from pass to pass.
		self.assertGreaterEqual(min(gaps), interval - 0.1, gaps)
