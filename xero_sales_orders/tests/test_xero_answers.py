"""Xero's conditions reach users as answers, not crashes (issue 11, item 6).

Each test injects the condition in a real sandbox (a fault under ``/_sandbox/faults``, a pause in the shared rate
limiter, a dead grant) and calls the whitelisted method a user's "Sync now", "Refresh tokens", "Preview" or
"Retry push" calls: the answer is the app's exception with its HTTP status (429 with a Retry-After, 503, 409,
417) and Xero's reason, and no Error Log is written. ``tests/e2e/test_xero_answers_http.py`` checks the same
over HTTP, with ten concurrent "Sync now".
"""

import frappe
import requests
from frappe.tests.utils import FrappeTestCase
from werkzeug.wrappers import Response

from xero_sales_orders.api import connection as connection_api
from xero_sales_orders.api import orders as orders_api
from xero_sales_orders.api.xero_answers import add_retry_after, xero_answers
from xero_sales_orders.exceptions import (
	RETRY_AFTER_FLAG,
	NeedsReconnectError,
	XeroRateLimitedError,
	XeroReconnectError,
	XeroRefusedError,
	XeroUnreachableError,
)
from xero_sales_orders.services import import_runner, xero_clients
from xero_sales_orders.services.import_settings import BATCH
from xero_sales_orders.services.master_sync import sync_connection
from xero_sales_orders.services.order_invoicing import create_invoice
from xso_devkit.sandbox import connect, start_sandbox

CONNECTION = "Answers Test"


class TestXeroConditionsAreAnswers(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.sandbox = start_sandbox(tenants=1)
		connect(cls.sandbox, CONNECTION)
		cls.tenant = frappe.get_doc("Xero Connection", CONNECTION).tenants[0].tenant_id

	@classmethod
	def tearDownClass(cls):
		cls.sandbox.stop()
		super().tearDownClass()

	def setUp(self):
		frappe.set_user("Administrator")
		requests.delete(f"{self.sandbox.url}/_sandbox/faults", timeout=10)
		self.clear_pause()
		frappe.local.flags.pop(RETRY_AFTER_FLAG, None)
		frappe.db.set_value("Xero Connection", CONNECTION, "status", "Connected")
		frappe.db.commit()
		self.error_logs = frappe.db.count("Error Log")

	def tearDown(self):
		requests.delete(f"{self.sandbox.url}/_sandbox/faults", timeout=10)
		self.clear_pause()
		frappe.local.flags.pop(RETRY_AFTER_FLAG, None)
		frappe.db.rollback()

	def clear_pause(self):
		limiter = xero_clients.shared_rate_limiter()
		backend = limiter._backend
		if hasattr(backend, "redis"):
			backend.redis.delete(backend._key(self.tenant, "pause"))

	def fault(self, **spec):
		requests.post(f"{self.sandbox.url}/_sandbox/faults", json=spec, timeout=10).raise_for_status()

	def assert_answer(self, call, exc, status, message, retry_after=None):
		with self.assertRaisesRegex(exc, message) as caught:
			call()
		self.assertEqual(caught.exception.http_status_code, status)
		self.assertTrue(frappe.local.flags.disable_traceback, "an expected condition shows no traceback")
		if isinstance(retry_after, range):
			self.assertIn(frappe.local.flags.get(RETRY_AFTER_FLAG), retry_after)
		else:
			self.assertEqual(frappe.local.flags.get(RETRY_AFTER_FLAG), retry_after)
		frappe.db.rollback()
		self.assertEqual(frappe.db.count("Error Log"), self.error_logs, "no Error Log for an answer")
		frappe.clear_messages()
		frappe.local.flags.pop(RETRY_AFTER_FLAG, None)
		return caught.exception

	def test_xeros_minute_limit_is_429_with_xeros_retry_after(self):
		self.fault(kind="429", problem="minute", retry_after=200, path="/api.xro/2.0/Contacts", count=1)
		self.assert_answer(
			lambda: connection_api.sync(CONNECTION),
			XeroRateLimitedError,
			429,
			"Xero's minute limit for this organisation is reached; try again in 200 s",
			retry_after=200,
		)

	def test_the_shared_limiters_own_wait_running_out_is_429(self):
		# Another worker was told by Xero to wait: every worker waits, and a user's call does not hang on it.
		xero_clients.shared_rate_limiter().pause(self.tenant, "minute", 45)
		self.assert_answer(
			lambda: connection_api.sync(CONNECTION),
			XeroRateLimitedError,
			429,
			"minute limit for this organisation is reached; try again in 4[0-5] s",
			retry_after=range(40, 46),
		)

	def test_xeros_day_limit_is_429_with_the_time_left(self):
		self.fault(kind="429", problem="day", retry_after=3600, path="/api.xro/2.0/Contacts", count=1)
		self.assert_answer(
			lambda: connection_api.sync(CONNECTION),
			XeroRateLimitedError,
			429,
			"Xero's day limit for this organisation is reached; try again in 3600 s",
			retry_after=3600,
		)

	def test_identity_server_down_is_503(self):
		self.fault(kind="503", path="/connect/token", count=5)
		self.assert_answer(
			lambda: connection_api.refresh(CONNECTION),
			XeroUnreachableError,
			503,
			"Xero token refresh failed",
		)

	def test_xero_down_after_the_retries_is_503(self):
		self.fault(kind="503", path="/api.xro/2.0/Organisation", count=5)
		client = xero_clients.client_for(CONNECTION, self.tenant, max_retries=1, backoff_base=0.01)

		def call():
			with xero_answers():
				client.organisation()

		try:
			self.assert_answer(call, XeroUnreachableError, 503, "Xero is not answering right now", 30)
		finally:
			client.close()

	def test_a_dead_grant_is_409_reconnect(self):
		frappe.db.set_value("Xero Connection", CONNECTION, "status", "Needs Reconnect")
		frappe.db.commit()
		self.assert_answer(
			lambda: connection_api.sync(CONNECTION),
			NeedsReconnectError,
			409,
			"needs reconnecting: an administrator must click Connect to Xero",
		)

	def test_xeros_validation_error_is_417_with_xeros_message(self):
		client = xero_clients.client_for(CONNECTION, self.tenant, max_retries=0)

		def call():
			with xero_answers():
				client.post("/Invoices", {"Invoices": [{"Type": "NOPE"}]})

		try:
			self.assert_answer(
				call, XeroRefusedError, 417, "Xero refused the request: Invoice: Invoice Type must be ACCREC"
			)
		finally:
			client.close()

	def test_xero_refusing_access_is_409(self):
		from xero_sales_orders.xero.errors import XeroAuthError

		def call():
			with xero_answers():
				raise XeroAuthError("Xero answered HTTP 403 Forbidden", status=403)

		self.assert_answer(call, XeroReconnectError, 409, "must click Connect to Xero")

	def import_batch(self) -> str:
		batch = frappe.get_doc(
			{
				"doctype": BATCH,
				"connection": CONNECTION,
				"from_date": "2026-01-01",
				"to_date": "2026-12-31",
				"statuses": "AUTHORISED,PAID",
				"grouping": "Reference",
			}
		).insert()
		frappe.db.commit()
		return batch.name

	def test_the_import_preview_records_xeros_day_limit_on_the_batch(self):
		"""The request only queues the preview; the job that meets Xero's day limit ends Failed with Xero's
		words on the batch (no Error Log: an expected condition), and nothing of a preview is kept."""
		batch = self.import_batch()
		self.fault(kind="429", problem="day", retry_after=3600, path="/api.xro/2.0/Invoices", count=1)
		answer = import_runner.preview(batch, now=True)  # the job runs here, as the worker runs it
		self.assertEqual(answer["status"], "Previewing")
		status, error, previewed_at = frappe.db.get_value(BATCH, batch, ["status", "error", "previewed_at"])
		self.assertEqual(status, "Failed")
		self.assertIn("Xero's day limit for this organisation is reached", error)
		self.assertIsNone(previewed_at)
		self.assertEqual(frappe.db.count("Error Log"), self.error_logs, "no Error Log for Xero's limit")

	def test_the_import_preview_waits_out_xeros_minute_limit(self):
		batch = self.import_batch()
		self.fault(kind="429", problem="minute", retry_after=2, path="/api.xro/2.0/Invoices", count=1)
		import_runner.preview(batch, now=True)
		status, error, previewed_at = frappe.db.get_value(BATCH, batch, ["status", "error", "previewed_at"])
		self.assertEqual((status, error), ("Previewed", None))
		self.assertIsNotNone(previewed_at)

	def test_retry_push_while_xero_limits_is_an_answer_with_the_invoice_pending(self):
		sync_connection(CONNECTION, kinds=["contacts", "items", "tax_rates", "accounts"])
		org = {"connection": CONNECTION, "tenant_id": self.tenant}
		customer = frappe.get_all("Xero Contact", {**org, "contact_status": "ACTIVE"}, pluck="name", limit=1)[
			0
		]
		item = frappe.get_all("Xero Item", {**org, "is_sold": 1}, pluck="name", limit=1)[0]
		order = frappe.get_doc(
			{"doctype": "Xero Sales Order", "customer": customer, "po_number": "PO-ANSWERS",
			 "currency": frappe.db.get_value("Xero Contact", customer, "default_currency") or "NZD",
			 "items": [{"item": item, "qty": 2}]}
		)  # fmt: skip
		order.currency = frappe.get_doc("Xero Connection", CONNECTION).tenants[0].base_currency
		order.insert()
		order.submit()
		invoice = create_invoice(order.name)
		frappe.db.set_value("Xero Invoice", invoice.name, "push_state", "Failed")
		frappe.db.commit()
		self.fault(kind="429", problem="minute", retry_after=200, path="/api.xro/2.0/Invoices", count=10)
		answer = orders_api.retry_push(invoice.name)
		self.assertEqual(answer["push_state"], "Pending")
		self.assertIn("limit", answer["last_error"])
		self.assertEqual(frappe.db.count("Error Log"), self.error_logs)

	def test_the_answer_carries_retry_after_as_a_header(self):
		frappe.local.flags[RETRY_AFTER_FLAG] = 56
		limited = Response(status=429)
		add_retry_after(response=limited)
		self.assertEqual(limited.headers["Retry-After"], "56")
		ok = Response(status=200)
		add_retry_after(response=ok)
		self.assertNotIn("Retry-After", ok.headers)
		add_retry_after(response=None)  # Frappe calls the hook without a response on some errors
