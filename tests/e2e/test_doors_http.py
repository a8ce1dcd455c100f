"""Frappe's doors over HTTP, as the issue's hostile signed-in user sent them (issue 11, items 2-4).

Each request gets its refusal (status and message), and the document re-read as Administrator is exactly what
it was before. ``xero_sales_orders/tests/test_doors.py`` tries the same doors (and more) in the Frappe tier.
"""

import json

from .conftest import BASE_URL, ORDER, invoice_pushed, order_in_xero_organisation, server_message

SHARE_ADD = "/api/method/frappe.share.add"
CREATE_INVOICE = "xero_sales_orders.api.orders.create_invoice"


def sales_users(make_user):
	return {
		"sales": make_user("xso-e2e-doors-sales@example.com", ["Xero Sales User"]),
		"manager": make_user("xso-e2e-doors-manager@example.com", ["Xero Sales User", "Xero Sales Manager"]),
	}


def stored(admin, doctype, name) -> dict:
	r = admin.get(admin.resource(doctype, name))
	assert r.status_code == 200, r.text
	return r.json()["data"]


def shares(admin, doctype, name) -> list:
	r = admin.get(
		admin.resource("DocShare"),
		params={
			"filters": json.dumps([["share_doctype", "=", doctype], ["share_name", "=", name]]),
			"fields": json.dumps(["user", "read", "write", "share"]),
		},
	)
	assert r.status_code == 200, r.text
	return r.json()["data"]


def test_no_sales_role_can_share_itself_the_connection_or_change_its_urls(
	admin, make_user, sandbox_connection
):
	name = sandbox_connection["name"]
	before, shared_before = stored(admin, "Xero Connection", name), shares(admin, "Xero Connection", name)
	for role, client in sales_users(make_user).items():
		email = f"xso-e2e-doors-{role}@example.com"
		r = client.post(SHARE_ADD, {"doctype": "Xero Connection", "name": name, "user": email, "write": 1})
		assert r.status_code == 403, (role, r.text)
		for field, value in (
			("api_url", "https://attacker.example"),
			("identity_url", "https://attacker.example"),
			("webhook_key", "attacker-key"),
		):
			r = client.put(client.resource("Xero Connection", name), {field: value})
			assert r.status_code == 403, (role, field, r.text)
		r = client.post(
			"/api/method/frappe.client.set_value",
			{
				"doctype": "Xero Connection",
				"name": name,
				"fieldname": "api_url",
				"value": "https://attacker.example",
			},
		)
		assert r.status_code == 403, r.text
		assert client.get(client.resource("Xero Connection", name)).status_code == 403
	# Not even a System Manager can hand write on it to them.
	r = admin.post(
		SHARE_ADD,
		{"doctype": "Xero Connection", "name": name, "user": "xso-e2e-doors-manager@example.com", "write": 1},
	)
	assert r.status_code == 403, r.text
	assert "cannot be shared with xso-e2e-doors-manager@example.com for write" in server_message(r)
	assert stored(admin, "Xero Connection", name) == before
	assert shares(admin, "Xero Connection", name) == shared_before
	# The connection still works: its tokens and URLs are the sandbox's.
	r = admin.method("xero_sales_orders.api.connection.refresh", connection=name)
	assert r.status_code == 200, r.text


def test_synced_masters_are_written_by_nobody_but_the_sync_and_system_managers(
	admin, make_user, sandbox_connection
):
	org = [
		["connection", "=", sandbox_connection["name"]],
		["tenant_id", "=", sandbox_connection["tenant_id"]],
	]
	for role, client in sales_users(make_user).items():
		for doctype in ("Xero Contact", "Xero Item", "Xero Tax Rate", "Xero Account"):
			r = admin.get(
				admin.resource(doctype), params={"filters": json.dumps(org), "limit_page_length": 1}
			)
			name = r.json()["data"][0]["name"]
			before = stored(admin, doctype, name)
			email = f"xso-e2e-doors-{role}@example.com"
			r = client.post(SHARE_ADD, {"doctype": doctype, "name": name, "user": email, "write": 1})
			assert r.status_code == 403, (doctype, r.text)
			field = "contact_id" if doctype == "Xero Contact" else "tenant_id"
			r = client.put(client.resource(doctype, name), {field: "00000000-0000-0000-0000-000000000000"})
			assert r.status_code == 403, (doctype, r.text)
			assert client.session.delete(url(client, doctype, name), timeout=60).status_code == 403
			assert stored(admin, doctype, name) == before
		r = client.post(
			client.resource("Xero Contact"), {"contact_id": "forged-contact", "contact_name": "Forged"}
		)
		assert r.status_code == 403, r.text


def url(client, doctype, name):
	return f"{BASE_URL}{client.resource(doctype, name)}"


def test_a_sales_user_cannot_reopen_a_closed_order_over_rest(admin, make_user):
	order = admin.create_order([{"description": "Two units", "qty": 2, "unit_price": 10, "tax_rate": 15}])
	r = admin.method(
		CREATE_INVOICE, sales_order=order["name"], lines=[{"item": order["items"][0]["name"], "qty": 1}]
	)
	assert r.status_code == 200, r.text
	r = admin.method("xero_sales_orders.api.orders.close", sales_order=order["name"])
	assert r.status_code == 200, r.text
	before = admin.order(order["name"])
	assert (before["status"], before["is_closed"]) == ("Closed", 1)
	for role, client in sales_users(make_user).items():
		r = client.put(
			client.resource(ORDER, order["name"]), {"is_closed": 0, "status": "Partially Invoiced"}
		)
		assert r.status_code == 417, (role, r.text)
		message = server_message(r)
		assert "are derived from its invoices and the Close / Re-open actions" in message, message
		r = client.put(
			client.resource(ORDER, order["name"]),
			{"items": [{**before["items"][0], "invoiced_qty": 0, "outstanding_qty": 2}]},
		)
		assert r.status_code == 417, (role, r.text)
	assert admin.order(order["name"]) == before
	r = make_user("xso-e2e-doors-sales@example.com", ["Xero Sales User"]).method(
		CREATE_INVOICE, sales_order=order["name"]
	)
	assert r.status_code == 409 and "Closed" in server_message(r), r.text


def test_an_order_posted_submitted_with_a_negative_invoiced_qty_cannot_be_invoiced_past_its_qty(
	admin, make_user
):
	sales = make_user("xso-e2e-doors-sales@example.com", ["Xero Sales User"])
	customer = admin.create_contact("Doors HTTP Customer")
	r = sales.post(
		sales.resource(ORDER),
		{
			"customer": customer,
			"currency": "NZD",
			"po_number": "PO-DOORS-HTTP",
			"docstatus": 1,
			"status": "Open",
			"is_closed": 0,
			"paid_amount": 1000,
			"invoice_counter": 40,
			"items": [
				{
					"description": "Two units",
					"qty": 2,
					"unit_price": 10,
					"tax_rate": 15,
					"invoiced_qty": -10,
					"outstanding_qty": 12,
					"invoiced_amount": -100,
				}
			],
		},
	)
	assert r.status_code == 200, r.text
	order = admin.order(r.json()["data"]["name"])
	line = order["items"][0]
	assert (order["docstatus"], order["status"], order["paid_amount"], order["invoice_counter"]) == (
		1,
		"Open",
		0,
		0,
	)
	assert (line["invoiced_qty"], line["outstanding_qty"], line["invoiced_amount"]) == (0, 2, 0)
	r = sales.method(CREATE_INVOICE, sales_order=order["name"], lines=[{"item": line["name"], "qty": 12}])
	assert r.status_code == 409, r.text
	assert "outstanding" in server_message(r).lower(), server_message(r)
	assert admin.order(order["name"]) == order
	r = sales.method(CREATE_INVOICE, sales_order=order["name"], lines=[{"item": line["name"], "qty": 2}])
	assert r.status_code == 200, r.text
	assert r.json()["message"]["invoice_number"] == f"{order['name']}-1"
	r = sales.method(CREATE_INVOICE, sales_order=order["name"], lines=[{"item": line["name"], "qty": 1}])
	assert r.status_code == 409, r.text
	after = admin.order(order["name"])
	assert (after["status"], after["items"][0]["invoiced_qty"], after["items"][0]["outstanding_qty"]) == (
		"Fully Invoiced",
		2,
		0,
	)


def test_an_invoice_live_in_xero_follows_xero_only(admin, make_user, sandbox_connection):
	order = order_in_xero_organisation(admin, sandbox_connection, 3)
	invoice = invoice_pushed(admin, order, 2)
	assert invoice["status"] == "AUTHORISED"
	before, order_before = stored(admin, "Xero Invoice", invoice["name"]), admin.order(order["name"])
	manager = sales_users(make_user)["manager"]
	for client in (manager, admin):
		r = client.put(client.resource("Xero Invoice", invoice["name"]), {"status": "VOIDED"})
		assert r.status_code == 417, r.text
		assert "Status of invoice" in server_message(r) and "follow Xero" in server_message(r), (
			server_message(r)
		)
		r = client.put(client.resource("Xero Invoice", invoice["name"]), {"amount_paid": 0, "amount_due": 0})
		assert r.status_code == 417, r.text
	r = admin.session.delete(url(admin, "Xero Invoice", invoice["name"]), timeout=60)
	assert r.status_code == 409, r.text
	assert "is in Xero" in server_message(r), server_message(r)
	r = manager.post(
		SHARE_ADD,
		{
			"doctype": "Xero Invoice",
			"name": invoice["name"],
			"user": "xso-e2e-doors-sales@example.com",
			"write": 1,
		},
	)
	assert r.status_code == 403, r.text
	assert stored(admin, "Xero Invoice", invoice["name"]) == before
	assert admin.order(order["name"]) == order_before
