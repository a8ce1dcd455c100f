"""Demo data for a new site, connected to a running Xero sandbox.

bench --site SITE execute xero_sales_orders.demo.complete_setup
bench --site SITE execute xero_sales_orders.demo.make_demo_data --kwargs "{'sandbox_url': 'http://127.0.0.1:8790'}"
"""

from urllib.parse import parse_qs, urlparse

import frappe
import requests

from xero_sales_orders.services import connection as connections
from xero_sales_orders.services import order_invoicing, push
from xero_sales_orders.services.sync import sync_connection

DEMO_CONNECTION = "Xero Sandbox"
DEMO_PO = "DEMO-PO-"
SANDBOX_CLIENT_ID = "XSO-SANDBOX-CLIENT"
SANDBOX_CLIENT_SECRET = "xso-sandbox-secret"
SANDBOX_WEBHOOK_KEY = "xso-sandbox-webhook-key"

# (qty, discount %) per line of each demo order; items, customers and taxes come from the sandbox.
DEMO_ORDERS = [
	[(12, 5), (24, 0), (3.5, 0)],
	[(37.5, 0), (412, 0)],
	[(140, 10), (6, 2.5)],
	[(18, 0), (2, 0), (9, 12.5)],
]


def complete_setup():
	"""Finishes Frappe's setup wizard without creating a user, so the desk opens on a new site."""
	from frappe.desk.page.setup_wizard.setup_wizard import setup_complete

	setup_complete(
		{"language": "English", "country": "New Zealand", "timezone": "Pacific/Auckland", "currency": "NZD"}
	)
	frappe.db.commit()


def connect_sandbox(sandbox_url: str) -> str:
	"""Creates (or re-points) the demo connection at the sandbox and consents, as an admin's click would."""
	if not frappe.db.exists(connections.CONNECTION, DEMO_CONNECTION):
		frappe.get_doc(
			{
				"doctype": connections.CONNECTION,
				"connection_name": DEMO_CONNECTION,
				"client_id": SANDBOX_CLIENT_ID,
				"client_secret": SANDBOX_CLIENT_SECRET,
				"webhook_key": SANDBOX_WEBHOOK_KEY,
				"login_url": sandbox_url,
				"identity_url": sandbox_url,
				"api_url": sandbox_url,
			}
		).insert(ignore_permissions=True)
	else:
		conn = frappe.get_doc(connections.CONNECTION, DEMO_CONNECTION)
		conn.update({"login_url": sandbox_url, "identity_url": sandbox_url, "api_url": sandbox_url})
		conn.save(ignore_permissions=True)
	frappe.db.commit()
	consent_in_sandbox(DEMO_CONNECTION)
	frappe.db.commit()
	return DEMO_CONNECTION


def consent_in_sandbox(name: str, follow: bool = True) -> dict:
	"""Does what the admin's browser does against the sandbox, which consents at once: opens the authorize
	URL, reads the code and state from the redirect and (with ``follow``) completes the consent."""
	answer = requests.get(connections.start_authorization(name), allow_redirects=False, timeout=30)
	if answer.status_code not in (302, 303):
		raise RuntimeError(f"the sandbox did not redirect: {answer.status_code} {answer.text[:200]}")
	params = {k: v[0] for k, v in parse_qs(urlparse(answer.headers["Location"]).query).items()}
	if follow:
		connections.complete_authorization(params.get("code"), params.get("state"))
	return params


def make_demo_data(sandbox_url: str | None = None):
	"""Connects the demo connection to the sandbox, syncs its masters and creates demo orders once:
	a Draft, an Open, a Partially Invoiced and a Closed one, with the sandbox's real contacts and items."""
	if sandbox_url:
		connect_sandbox(sandbox_url)
		summary = sync_connection(DEMO_CONNECTION)
		frappe.db.commit()
		print(f"synced from the sandbox: {summary}")
	if frappe.db.exists("Xero Sales Order", {"po_number": ["like", f"{DEMO_PO}%"]}):
		print("demo orders already exist")
		return
	conn = frappe.get_doc(connections.CONNECTION, DEMO_CONNECTION) if sandbox_url else None
	tenant = connections.default_tenant(conn) if conn else None
	filters = {"connection": conn.name, "tenant_id": tenant} if conn else {}
	customers = frappe.get_all(
		"Xero Contact", {**filters, "contact_status": "ACTIVE"}, pluck="name", limit=len(DEMO_ORDERS)
	)
	items = frappe.get_all("Xero Item", {**filters, "is_sold": 1}, pluck="name", limit=12)
	if not customers or not items:
		print("no Xero contacts or items to build demo orders from: connect a sandbox first")
		return
	currency = (
		next((t.base_currency for t in conn.tenants if t.tenant_id == tenant), None) if conn else None
	) or "NZD"
	for index, lines in enumerate(DEMO_ORDERS, start=1):
		order = frappe.get_doc(
			{
				"doctype": "Xero Sales Order",
				"customer": customers[(index - 1) % len(customers)],
				"po_number": f"{DEMO_PO}{1000 + index}",
				"currency": currency,
				"items": [
					{"item": items[(index * 3 + n) % len(items)], "qty": qty, "discount_rate": discount}
					for n, (qty, discount) in enumerate(lines)
				],
			}
		).insert()
		if index == 1:
			continue
		order.submit()
		if index >= 3:
			first = order.items[0]
			invoice = order_invoicing.create_invoice(order.name, [{"item": first.name, "qty": first.qty / 2}])
			frappe.db.commit()
			push.push_invoices([invoice.name])
		if index == 4:
			invoicing.close_order(order.name)
	frappe.db.commit()
	print(f"created {len(DEMO_ORDERS)} demo orders")
