"""Lets the webhook endpoint answer a non-JSON body with 400 instead of Frappe's 500.

Frappe parses every JSON request body into form_dict before any app code runs (frappe.app.init_request),
so a body that claims to be JSON but is not fails there with a 500. The webhook endpoint reads and
verifies the raw bytes itself and never uses form_dict, so for that one path the parsing is skipped.
Installed by the app's before_request hook (and when the package is imported in a web process), so it
covers every request after a worker's first.
"""

import sys

WEBHOOK_PATH = "/api/method/xero_sales_orders.api.webhook.receive"


def install() -> None:
	app = sys.modules.get("frappe.app")
	if app is None or getattr(app.make_form_dict, "_skips_webhook_body", False):
		return
	original = app.make_form_dict

	def make_form_dict(request):
		if request.path == WEBHOOK_PATH:
			import frappe

			frappe.local.form_dict = frappe._dict()
			return
		return original(request)

	make_form_dict._skips_webhook_body = True
	app.make_form_dict = make_form_dict
