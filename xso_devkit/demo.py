"""Demo data for a new site, connected to a running Xero sandbox (development tooling, not the app).

cd ~/frappe-bench/sites
../env/bin/python -m xso_devkit.execute --site SITE xso_devkit.demo.complete_setup
../env/bin/python -m xso_devkit.execute --site SITE xso_devkit.demo.make_demo_data --kwargs "{'sandbox_url': 'http://127.0.0.1:8790'}"
"""

import frappe

from xero_sales_orders.services import invoice_push, order_invoicing, xero_clients, xero_endpoints
from xero_sales_orders.services.master_sync import sync_connection
from xso_devkit.sandbox import CLIENT_ID, CLIENT_SECRET, WEBHOOK_KEY, consent

DEMO_CONNECTION = "Xero Sandbox"
DEMO_PO = "DEMO-PO-"

# (qty, discount %) per line of each demo order; items, customers and taxes come from the sandbox.
DEMO_ORDERS = [
	[(12, 5), (24, 0), (3.5, 0)],
	[(37.5, 0), (412, 0)],
	[(140, 10), (6, 2.5)],
	[(18, 0), (2, 0), (9, 12.5)],
]


def complete_setup():
	"""Finishes Frappe's setup wizard without creating a user, so the desk opens on a new demo or test site
	(a real site's administrator answers the wizard in the desk)."""
	from frappe.desk.page.setup_wizard.setup_wizard import setup_complete

	setup_complete(
		{"language": "English", "country": "New Zealand", "timezone": "Pacific/Auckland", "currency": "NZD"}
	)
	frappe.db.commit()


def connect_sandbox(sandbox_url: str) -> str:
	"""Creates (or re-points) the demo connection at the sandbox and consents, as an admin's click would."""
	if not frappe.db.exists(xero_endpoints.CONNECTION, DEMO_CONNECTION):
		frappe.get_doc(
			{
				"doctype": xero_endpoints.CONNECTION,
				"connection_name": DEMO_CONNECTION,
				"client_id": CLIENT_ID,
				"client_secret": CLIENT_SECRET,
				"webhook_key": WEBHOOK_KEY,
				"login_url": sandbox_url,
				"identity_url": sandbox_url,
				"api_url": sandbox_url,
			}
		).insert(ignore_permissions=True)
	else:
		conn = frappe.get_doc(xero_endpoints.CONNECTION, DEMO_CONNECTION)
		conn.update({"login_url": sandbox_url, "identity_url": sandbox_url, "api_url": sandbox_url})
		conn.save(ignore_permissions=True)
	frappe.db.commit()
	consent(DEMO_CONNECTION)
	frappe.db.commit()
	return DEMO_CONNECTION


SANDBOX_DEPOSIT_ACCOUNT = "835"  # the sandbox's Customer Deposits liability account


def use_sandbox_deposit_account(connection: str) -> None:
	"""Sets the sandbox's Customer Deposits account as the deposit account of each of the connection's
	organisations that has none yet (deposit invoices need one)."""
	for tenant in frappe.get_all(
		"Xero Connection Tenant",
		{"parent": connection, "parenttype": xero_endpoints.CONNECTION},
		["name", "tenant_id", "deposit_account_code"],
	):
		synced = frappe.db.exists(
			"Xero Account",
			{
				"connection": connection,
				"tenant_id": tenant.tenant_id,
				"account_code": SANDBOX_DEPOSIT_ACCOUNT,
			},
		)
		if synced and not tenant.deposit_account_code:
			frappe.db.set_value(
				"Xero Connection Tenant", tenant.name, "deposit_account_code", SANDBOX_DEPOSIT_ACCOUNT
			)


def make_demo_data(sandbox_url: str | None = None):
	"""Connects the demo connection to the sandbox, syncs its masters and creates demo orders once:
	a Draft, an Open, a Partially Invoiced and a Closed one, with the sandbox's real contacts and items."""
	if sandbox_url:
		connect_sandbox(sandbox_url)
		summary = sync_connection(DEMO_CONNECTION)
		use_sandbox_deposit_account(DEMO_CONNECTION)
		frappe.db.commit()
		print(f"synced from the sandbox: {summary}")
	if frappe.db.exists("Xero Sales Order", {"po_number": ["like", f"{DEMO_PO}%"]}):
		print("demo orders already exist")
		return
	conn = frappe.get_doc(xero_endpoints.CONNECTION, DEMO_CONNECTION) if sandbox_url else None
	tenant = xero_clients.default_tenant(conn) if conn else None
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
			invoice_push.push_invoices([invoice.name])
		if index == 4:
			order_invoicing.close_order(order.name)
	frappe.db.commit()
	print(f"created {len(DEMO_ORDERS)} demo orders")
