"""Concurrent clients invoicing different orders over HTTP while Xero answers normally or with faults: every
request is answered (never a 500 from a deadlock), nothing is over-invoiced, nothing is doubled in Xero."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import requests

from .conftest import SANDBOX_URL, Client, first, server_message

ORDERS, CLIENTS, INVOICES_PER_ORDER = 40, 4, 3


def test_four_clients_invoicing_forty_orders_at_once_all_get_answers(admin, sandbox_connection):
	conn = sandbox_connection["organisations"][1]  # many calls: the second organisation's minute budget
	org = [["connection", "=", conn["name"]], ["tenant_id", "=", conn["tenant_id"]]]
	customer = first(admin, "Xero Contact", [*org, ["contact_status", "=", "ACTIVE"]])
	item = first(admin, "Xero Item", [*org, ["is_sold", "=", 1]])
	orders = [
		admin.create_order(
			[
				{"item": item, "qty": 3, "unit_price": 19.99},
				{"item": item, "qty": 7, "unit_price": 4.3333, "discount_rate": 12.5},
			],
			customer=customer,
			currency=conn["currency"],
		)
		for _ in range(ORDERS)
	]
	faults = [
		{"kind": kind, "rate": 0.05, "path": "/api.xro/2.0/Invoices", "method": "PUT", "retry_after": 1}
		for kind in ("500", "503", "429", "drop")
	]
	requests.post(f"{SANDBOX_URL}/_sandbox/faults", json=faults, timeout=10).raise_for_status()
	answers = []
	try:

		def one_client(index):
			client = Client()
			mine = orders[index::CLIENTS]
			for part in range(INVOICES_PER_ORDER):
				for order in mine:
					lines = [
						{"item": order["items"][0]["name"], "qty": 1},
						{"item": order["items"][1]["name"], "qty": 3 if part == 0 else 2},
					]
					r = client.method(
						"xero_sales_orders.api.orders.create_invoice", sales_order=order["name"], lines=lines
					)
					answers.append((r.status_code, r.json()["message"] if r.ok else server_message(r)))

		with ThreadPoolExecutor(CLIENTS) as pool:
			list(pool.map(one_client, range(CLIENTS)))
	finally:
		requests.delete(f"{SANDBOX_URL}/_sandbox/faults", timeout=10)

	assert [a for a in answers if a[0] != 200] == []
	assert len(answers) == ORDERS * INVOICES_PER_ORDER
	states = {invoice["push_state"] for _, invoice in answers}
	assert states <= {"Pushed", "Pending"}, states  # a fault is retried later, never a refusal
	ids = [invoice["xero_invoice_id"] for _, invoice in answers if invoice["push_state"] == "Pushed"]
	assert len(ids) == len(set(ids))
	for order in orders:
		order = admin.order(order["name"])
		assert order["status"] == "Fully Invoiced"
		assert Decimal(str(order["outstanding_amount"])) == 0
		invoices = admin.method("xero_sales_orders.api.orders.invoices", sales_order=order["name"])
		listed = invoices.json()["message"]
		assert sorted(i["invoice_number"] for i in listed) == [f"{order['name']}-{n}" for n in (1, 2, 3)]
		assert sum(Decimal(str(i["total"])) for i in listed) == Decimal(str(order["grand_total"]))
