# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

import uuid

import frappe
from frappe.tests.utils import FrappeTestCase

from xero_sales_orders.api import webhook as api
from xero_sales_orders.services import webhook_drain, webhook_processing, webhook_receiver
from xero_sales_orders.tests.factories import make_user

EVENT = "Xero Webhook Event"


def make_event(status="Failed", attempts=webhook_processing.MAX_ATTEMPTS, error="Xero answered 503"):
	row = {
		"event_category": "INVOICE",
		"event_type": "UPDATE",
		"resource_id": str(uuid.uuid4()),
		"resource_url": "",
		"event_date": frappe.utils.now_datetime(),
		"status": status,
		"tenant_id": str(uuid.uuid4()),
		"connection": None,
		"dedupe_key": uuid.uuid4().hex,
		"error": error,
		"attempts": attempts,
	}
	webhook_receiver.store_events([row], frappe.utils.now_datetime())
	return frappe.db.get_value(EVENT, {"resource_id": row["resource_id"]})


class TestXeroWebhookEvent(FrappeTestCase):
	def test_failed_events_are_queued_again_with_attempts_started_over(self):
		first, second = make_event(), make_event(attempts=2)
		pending = frappe.cache.make_key(webhook_drain.PENDING_KEY)
		frappe.cache.delete(pending)
		self.assertEqual(api.retry_events([first, second, first]), {"queued": 2})
		for name in (first, second):
			self.assertEqual(
				frappe.db.get_value(EVENT, name, ["status", "attempts", "error"]), ("Queued", 0, None)
			)
		self.assertFalse(frappe.cache.get(pending))  # the drain is asked for once the change is committed
		frappe.db.commit()
		self.assertTrue(frappe.cache.get(pending))
		frappe.db.delete(EVENT, {"name": ["in", [first, second]]})
		frappe.db.commit()

	def test_only_failed_events_can_be_retried_and_then_nothing_changes(self):
		failed, processed = make_event(), make_event(status="Processed", attempts=1, error=None)
		with self.assertRaisesRegex(frappe.ValidationError, f"not {processed} \\(Processed\\)"):
			api.retry_events([failed, processed])
		self.assertEqual(frappe.db.get_value(EVENT, failed, "status"), "Failed")
		with self.assertRaises(frappe.DoesNotExistError):
			api.retry_events(["no-such-event"])
		for bad in ([], [1, 2], {"name": failed}):
			with self.assertRaisesRegex(frappe.ValidationError, "must be a list"):
				api.retry_events(bad)
		self.assertEqual(api.retry_events(f'["{failed}"]'), {"queued": 1})  # as JSON, as REST sends it

	def test_only_managers_may_retry(self):
		failed = make_event()
		make_user("xso-events-user@example.com", ["Xero Sales User"])
		frappe.set_user("xso-events-user@example.com")
		try:
			with self.assertRaises(frappe.PermissionError):
				api.retry_events([failed])
		finally:
			frappe.set_user("Administrator")
		self.assertEqual(frappe.db.get_value(EVENT, failed, "status"), "Failed")
