"""Tracking round trip over HTTP: an order tracked with Xero's options raises an invoice that carries them
in the sandbox, a payment there comes back by a signed webhook and the invoice keeps its tracking; an option
Xero archived is refused with the reason, and the reports filter by an option."""

import json

import requests

from .conftest import BASE_URL, SANDBOX_URL, first, server_message, wait_for_invoice_status

OPTION = "Xero Tracking Option"


def option(admin, conn, category, name):
	return first(
		admin,
		OPTION,
		[
			["connection", "=", conn["name"]],
			["tenant_id", "=", conn["tenant_id"]],
			["category_name", "=", category],
			["option_name", "=", name],
		],
	)


def test_tracking_round_trip(admin, sandbox_connection):
	conn = sandbox_connection
	org = [["connection", "=", conn["name"]], ["tenant_id", "=", conn["tenant_id"]]]
	customer = first(admin, "Xero Contact", [*org, ["contact_status", "=", "ACTIVE"]])
	item = first(admin, "Xero Item", [*org, ["is_sold", "=", 1], ["account_code", "is", "set"]])
	north, sales = option(admin, conn, "Region", "North"), option(admin, conn, "Department", "Sales")
	order = admin.create_order(
		[{"item": item, "qty": 5, "tracking_option_1": sales}, {"item": item, "qty": 1}],
		customer=customer,
		currency=conn["currency"],
		tracking_option_1=north,
	)
	# Each line took the order's option of the category it did not name.
	assert [(r.get("tracking_option_1"), r.get("tracking_option_2")) for r in order["items"]] == [
		(sales, north),
		(north, None),
	]
	r = admin.method(
		"xero_sales_orders.api.orders.create_invoice",
		sales_order=order["name"],
		lines=[{"item": order["items"][0]["name"], "qty": 2}],
	)
	assert r.status_code == 200, r.text
	invoice = r.json()["message"]
	assert invoice["push_state"] == "Pushed", invoice["last_error"]
	assert [(i.get("tracking_option_1"), i.get("tracking_option_2")) for i in invoice["items"]] == [
		(sales, north)
	]

	# In Xero: the line carries both options (the sandbox's pay control answers with the invoice as Xero has it).
	paid = requests.post(
		f"{SANDBOX_URL}/_sandbox/invoices/{invoice['xero_invoice_id']}/pay", json={}, timeout=10
	)
	paid.raise_for_status()
	[line] = paid.json()["invoice"]["LineItems"]
	assert sorted((t["Name"], t["Option"], t["TrackingOptionID"]) for t in line["Tracking"]) == [
		("Department", "Sales", sales),
		("Region", "North", north),
	]
	sent = requests.post(
		f"{SANDBOX_URL}/_sandbox/webhooks/send",
		json={
			"url": f"{BASE_URL}/api/method/xero_sales_orders.api.webhook.receive",
			"events": [
				{
					"tenant_id": conn["tenant_id"],
					"category": "INVOICE",
					"type": "UPDATE",
					"resource_id": invoice["xero_invoice_id"],
				}
			],
		},
		timeout=30,
	).json()
	assert sent["status"] == 200, sent
	assert wait_for_invoice_status(admin, invoice["name"], "PAID") == "PAID"
	after = admin.get(admin.resource("Xero Invoice", invoice["name"])).json()["data"]
	assert [(i.get("tracking_option_1"), i.get("tracking_option_2")) for i in after["items"]] == [
		(sales, north)
	]

	# The line report filtered by Sales shows just this order's tracked line.
	report = admin.get(
		"/api/method/frappe.desk.query_report.run",
		params={
			"report_name": "Order Invoicing Status",
			"filters": json.dumps({"tracking_option": sales, "po_number": order["po_number"]}),
		},
	)
	assert report.status_code == 200, report.text
	rows = [row for row in report.json()["message"]["result"] if isinstance(row, dict)]
	assert [(row["sales_order"], row["ordered_qty"]) for row in rows] == [(order["name"], 5)]


def test_an_option_xero_archived_is_refused_with_the_reason(admin, sandbox_connection):
	conn = sandbox_connection
	org = [["connection", "=", conn["name"]], ["tenant_id", "=", conn["tenant_id"]]]
	customer = first(admin, "Xero Contact", [*org, ["contact_status", "=", "ACTIVE"]])
	item = first(admin, "Xero Item", [*org, ["is_sold", "=", 1]])
	west = option(admin, conn, "Region", "West")
	before = admin.get(admin.resource("Xero Sales Order"), params={"limit_page_length": 0}).json()["data"]
	r = admin.post(
		admin.resource("Xero Sales Order"),
		{
			"customer": customer,
			"currency": conn["currency"],
			"items": [{"item": item, "qty": 1, "tracking_option_1": west}],
		},
	)
	assert r.status_code == 417, r.text
	assert "Region: West cannot be used: it is archived in Xero" in server_message(r)
	after = admin.get(admin.resource("Xero Sales Order"), params={"limit_page_length": 0}).json()["data"]
	assert len(after) == len(before)
	bad = admin.get(
		"/api/method/frappe.desk.query_report.run",
		params={"report_name": "Uninvoiced Orders", "filters": json.dumps({"tracking_option": "nothing"})},
	)
	assert bad.status_code == 400, bad.text
