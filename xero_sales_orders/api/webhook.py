"""Xero's webhook endpoint: POST /api/method/xero_sales_orders.api.webhook.receive (guest).

Answers 401 to a wrong signature and 200 with an empty body and no cookies to a right one (which is
also how Xero's intent-to-receive check is passed); 413 and 400 for bodies Xero never sends. The
events are stored and processed in the background, so the answer comes in milliseconds. Deliveries
normally reach ``answer`` through the short path in webhook_request.py; this whitelisted method is
the same answer through Frappe's full pipeline, for a web worker's first request.
"""

import frappe
from werkzeug.wrappers import Response

from xero_sales_orders.permissions import MANAGER_ROLES, require_roles
from xero_sales_orders.services import webhooks


def answer(request) -> int:
	"""The HTTP status for one delivery, read from the raw body bytes; its events are stored on 200."""
	if (request.content_length or 0) > webhooks.MAX_BODY_BYTES:
		return 413
	request.max_content_length = webhooks.MAX_BODY_BYTES  # a chunked body is cut off at the same size
	try:
		webhooks.receive(request.get_data(cache=True), request.headers.get("x-xero-signature"))
	except webhooks.Rejected as e:
		frappe.db.rollback()
		return e.status
	return 200


@frappe.whitelist(allow_guest=True, methods=["POST"])
def receive(**kwargs):
	status = answer(frappe.request)
	# Xero's check fails on any cookie or body; Frappe would otherwise add its guest session cookies.
	if hasattr(frappe.local, "cookie_manager"):
		frappe.local.cookie_manager.cookies = {}
		frappe.local.cookie_manager.to_delete = []
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
	return {"queued": webhooks.retry(list(dict.fromkeys(names)))}
