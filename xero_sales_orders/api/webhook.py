"""Xero's webhook endpoint: POST /api/method/xero_sales_orders.api.webhook.receive (guest).

Answers 401 to a wrong signature and 200 with an empty body and no cookies to a right one (which is
also how Xero's intent-to-receive check is passed); 413 and 400 for bodies Xero never sends. The
events are stored and processed in the background, so the answer comes in milliseconds.
"""

import frappe
from werkzeug.wrappers import Response

from xero_sales_orders.services import webhooks


@frappe.whitelist(allow_guest=True, methods=["POST"])
def receive(**kwargs):
	# Reads the raw body: Frappe's form_dict is skipped for this path (see webhook_request.py).
	request = frappe.request
	status = 200
	if (request.content_length or 0) > webhooks.MAX_BODY_BYTES:
		status = 413
	else:
		try:
			webhooks.receive(request.get_data(cache=True), request.headers.get("x-xero-signature"))
		except webhooks.Rejected as e:
			status = e.status
			frappe.db.rollback()
	# Xero's check fails on any cookie or body; Frappe would otherwise add its guest session cookies.
	if hasattr(frappe.local, "cookie_manager"):
		frappe.local.cookie_manager.cookies = {}
		frappe.local.cookie_manager.to_delete = []
	return Response(status=status)
