"""REST throughput of orders and invoices, beside Frappe's own floor, measured in one run.

    python benchmarks/orders.py --url http://127.0.0.1:8000 [--orders 1000] [--lines 10]

1. creates and submits N orders of L lines through /api/resource and raises two partial invoices on each
   through xero_sales_orders.api.orders.create_invoice;
2. inserts and submits the same rows into a bare submittable doctype with the same fields and no app logic
   (a custom doctype made for the benchmark and deleted afterwards);
3. prints orders/s for both, their ratio (target <= 1.5) and create_invoice p50/p95.

Requests go one after another from one client, so the figures are per-request costs, not concurrency.
"""

import argparse
import random
import statistics
import sys
import time
import uuid

import requests
from stats import percentile

BARE = "XSO Bench Bare"
BARE_ITEM = "XSO Bench Bare Item"
LINE_FIELDS = [
	("item_code", "Data"),
	("description", "Small Text"),
	("qty", "Float"),
	("unit_price", "Currency"),
	("discount_rate", "Percent"),
	("tax_type", "Data"),
	("tax_rate", "Percent"),
	("account_code", "Data"),
	("line_amount", "Currency"),
	("tax_amount", "Currency"),
	("invoiced_qty", "Float"),
	("invoiced_amount", "Currency"),
	("outstanding_qty", "Float"),
	("outstanding_amount", "Currency"),
]
HEADER_FIELDS = [
	("customer", "Link"),
	("customer_name", "Data"),
	("po_number", "Data"),
	("order_date", "Date"),
	("currency", "Data"),
	("line_amount_type", "Data"),
	("status", "Data"),
	("subtotal", "Currency"),
	("total_tax", "Currency"),
	("grand_total", "Currency"),
	("invoiced_amount", "Currency"),
	("outstanding_amount", "Currency"),
]


class Api:
	def __init__(self, url, user, password):
		self.url = url.rstrip("/")
		self.s = requests.Session()
		self.s.headers["Accept"] = "application/json"
		self.s.post(
			f"{self.url}/api/method/login", json={"usr": user, "pwd": password}, timeout=30
		).raise_for_status()

	def call(self, verb, path, payload=None):
		r = self.s.request(verb, f"{self.url}{path}", json=payload, timeout=120)
		if r.status_code != 200:
			raise SystemExit(f"{verb} {path} -> {r.status_code}: {r.text[:500]}")
		return r.json()


def order_payload(rng, lines, index, customers):
	return {
		"customer": customers[index % len(customers)],
		"customer_name": f"Bench Customer {index % len(customers)}",
		"po_number": f"BENCH-{index}",
		"currency": "NZD",
		"line_amount_type": "Exclusive",
		"items": [
			{
				"item_code": f"ITEM-{rng.randint(1, 500)}",
				"description": f"Benchmark line {n}",
				"qty": rng.randint(2, 40),
				"unit_price": rng.randint(100, 1_000_000) / 100,
				"discount_rate": rng.choice([0, 0, 5, 10]),
				"tax_rate": 15,
				"account_code": "200",
				"tax_type": "OUTPUT2",
			}
			for n in range(lines)
		],
	}


def make_bare_doctypes(api):
	for name in (BARE, BARE_ITEM):
		r = api.s.get(f"{api.url}/api/resource/DocType/{name}", timeout=30)
		if r.status_code == 200:
			api.call("DELETE", f"/api/resource/DocType/{name}")
	api.call(
		"POST",
		"/api/resource/DocType",
		{
			"name": BARE_ITEM,
			"module": "Xero Sales Orders",
			"custom": 1,
			"istable": 1,
			"fields": [{"fieldname": f, "fieldtype": t, "label": f} for f, t in LINE_FIELDS],
		},
	)
	api.call(
		"POST",
		"/api/resource/DocType",
		{
			"name": BARE,
			"module": "Xero Sales Orders",
			"custom": 1,
			"is_submittable": 1,
			"autoname": "format:BARE-{#####}",
			# The customer is a Link in both, so Frappe's own link check is on both sides of the comparison.
			"fields": [
				{
					"fieldname": f,
					"fieldtype": t,
					"label": f,
					**({"options": "Xero Contact"} if t == "Link" else {}),
				}
				for f, t in HEADER_FIELDS
			]
			+ [{"fieldname": "items", "fieldtype": "Table", "options": BARE_ITEM, "label": "Items"}],
			"permissions": [
				{
					"role": "System Manager",
					"read": 1,
					"write": 1,
					"create": 1,
					"submit": 1,
					"cancel": 1,
					"delete": 1,
				}
			],
		},
	)


def drop_bare_doctypes(api):
	for name in (BARE, BARE_ITEM):
		api.s.delete(f"{api.url}/api/resource/DocType/{name}", timeout=120)


def main():
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--url", default="http://127.0.0.1:8000")
	parser.add_argument("--user", default="Administrator")
	parser.add_argument("--password", default="admin")
	parser.add_argument("--orders", type=int, default=1000)
	parser.add_argument("--lines", type=int, default=10)
	args = parser.parse_args()
	api = Api(args.url, args.user, args.password)
	rng = random.Random(42)
	customers = [
		api.call(
			"POST",
			"/api/resource/Xero Contact",
			{"contact_id": str(uuid.uuid4()), "contact_name": f"Bench Customer {i}"},
		)["data"]["name"]
		for i in range(50)
	]
	payloads = [order_payload(rng, args.lines, i, customers) for i in range(args.orders)]

	# Warm up both paths so that neither pays for first-request caches.
	make_bare_doctypes(api)
	for path, doc in (
		("/api/resource/Xero Sales Order", payloads[0]),
		(f"/api/resource/{BARE}", payloads[0]),
	):
		name = api.call("POST", path, doc)["data"]["name"]
		api.call("PUT", f"{path}/{name}", {"docstatus": 1})

	start = time.perf_counter()
	orders = []
	for doc in payloads:
		created = api.call("POST", "/api/resource/Xero Sales Order", doc)["data"]
		submitted = api.call("PUT", f"/api/resource/Xero Sales Order/{created['name']}", {"docstatus": 1})[
			"data"
		]
		orders.append(submitted)
	app_seconds = time.perf_counter() - start

	start = time.perf_counter()
	for doc in payloads:
		bare = {
			**doc,
			"items": [{**line, "line_amount": 0, "outstanding_qty": line["qty"]} for line in doc["items"]],
		}
		created = api.call("POST", f"/api/resource/{BARE}", bare)["data"]
		api.call("PUT", f"/api/resource/{BARE}/{created['name']}", {"docstatus": 1})
	bare_seconds = time.perf_counter() - start

	latencies = []
	invoice_start = time.perf_counter()
	for order in orders:
		for part in (0, 1):
			# First invoice: half of every line; second: the rest of every other line.
			if part == 0:
				lines = [{"item": row["name"], "qty": row["qty"] // 2} for row in order["items"]]
			else:
				lines = [
					{"item": row["name"], "qty": row["qty"] - row["qty"] // 2} for row in order["items"][::2]
				]
			t = time.perf_counter()
			api.call(
				"POST",
				"/api/method/xero_sales_orders.api.orders.create_invoice",
				{"sales_order": order["name"], "lines": lines},
			)
			latencies.append(time.perf_counter() - t)
	invoice_seconds = time.perf_counter() - invoice_start
	drop_bare_doctypes(api)

	app_rate = args.orders / app_seconds
	bare_rate = args.orders / bare_seconds
	print(f"orders of {args.lines} lines, created + submitted over REST, one client, {args.orders} each:")
	print(f"  Xero Sales Order          {app_rate:8.1f} orders/s  ({app_seconds:.1f} s)")
	print(f"  bare doctype (no logic)   {bare_rate:8.1f} orders/s  ({bare_seconds:.1f} s)")
	print(f"  ratio app/bare time       {app_seconds / bare_seconds:8.2f}x  (target <= 1.50)")
	ms = [v * 1000 for v in latencies]
	print(
		f"create_invoice x {len(ms)}: p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms, "
		f"mean {statistics.mean(ms):.1f} ms, {len(ms) / invoice_seconds:.1f} invoices/s"
	)
	return 0


if __name__ == "__main__":
	sys.exit(main())
