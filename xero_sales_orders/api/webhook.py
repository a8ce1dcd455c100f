"""Xero's webhook endpoint: POST /api/method/xero_sales_orders.api.webhook.receive (guest).

Deliveries come through Frappe's own request handling like any whitelisted method (its before_request and
after_request hooks, rate limiter, commit), and the method's own work is kept to what Xero needs answered at
once: the signature verified over the raw body bytes, the events stored in one insert, the drain's flag
raised after the commit (services/webhook_receiver.py). Answers 401 to a missing or wrong signature and 200
with an empty body and no cookies to a right one (which is also how Xero's intent-to-receive check is
passed); 413 and 400 for bodies Xero never sends.

Frappe parses a body sent as JSON before any app code runs (frappe.app.make_form_dict): one that is not
JSON is answered 500 by Frappe itself, and nothing is stored.
"""

import frappe
from werkzeug.wrappers import Response

from xero_sales_orders.permissions import MANAGER_ROLES, require_roles
from xero_sales_orders.services import webhook_drain, webhook_receiver


@frappe.whitelist(allow_guest=True, methods=["POST"])
def receive(**kwargs):
	# The events are read from the raw bytes that were signed, never from Frappe's parsed form_dict.
	try:
		webhook_receiver.receive(
			frappe.request.get_data(cache=True), frappe.get_request_header("x-xero-signature")
		)
		status = 200
	except webhook_receiver.Rejected as e:
		frappe.db.rollback()
		status = e.status
	# Xero's check fails on any cookie or body; Frappe would otherwise add its guest session's cookies, and
	# it has no setting to leave them off one answer.
	if cookies := getattr(frappe.local, "cookie_manager", None):
		cookies.cookies = {}
		cookies.to_delete = []
	return Response(status=status)


@frappe.whitelist(methods=["POST"])
def retry_events(events):
	"""Queues Failed webhook events again; ``events`` is a list of their names (or one name)."""
	require_roles(MANAGER_ROLES, "retry webhook events")
	names = frappe.parse_json(events) if isinstance(events, str) and events.startswith("[") else events
	if isinstance(names, str):
		names = [names]
	if not names or not isinstance(names, list) or not all(isinstance(n, str) for n in names):
		frappe.local.flags.disable_traceback = True
		frappe.throw(frappe._("events must be a list of Xero Webhook Event names"))
	return {"queued": webhook_drain.retry(list(dict.fromkeys(names)))}
