"""Benchmarks that need a site, run by benchmarks/xero_on_bench.py through `bench --site SITE execute`.

Each starts its own Xero sandbox in-process and prints its figures; none is a test.
"""

import time

import frappe
import requests

from xero_sales_orders.services import connection as connections
from xero_sales_orders.services import invoicing, push, webhooks
from xero_sales_orders.services.sync import sync_connection
from xero_sales_orders.tests.sandbox import (
	access_tokens_from_workers,
	connect,
	expire_access_token,
	reset_calls,
	sandbox_calls,
	start_sandbox,
)


def refresh_race(workers: int = 10) -> dict:
	"""N workers find the same access token expired at once; prints how many token calls Xero saw."""
	sandbox = start_sandbox(tenants=2)
	try:
		name = connect(sandbox, "Benchmark Refresh Race")
		expire_access_token(name)
		reset_calls(sandbox)
		started = time.perf_counter()
		tokens, errors = access_tokens_from_workers(name, workers, timeout=120)
		figures = {
			"workers": workers,
			"token_refresh_calls": sandbox_calls(sandbox)["token"].get("refresh_token", 0),
			"distinct_tokens_returned": len(set(tokens)),
			"errors": [repr(e) for e in errors],
			"seconds": round(time.perf_counter() - started, 3),
		}
	finally:
		sandbox.stop()
	print(f"refresh race: {figures}")
	return figures


def sync_cost(contacts: int = 5000, items: int = 1000) -> dict:
	"""A first sync of a large organisation; prints Xero calls used against the fewest Xero allows."""
	sandbox = start_sandbox(
		tenants=1, seed_contacts=contacts, seed_items=items, seed_invoices=0, rate_limits=False
	)
	try:
		name = connect(sandbox, "Benchmark Sync")
		reset_calls(sandbox)
		started = time.perf_counter()
		summary = sync_connection(name, full=True)
		frappe.db.commit()
		seconds = time.perf_counter() - started
		calls = sandbox_calls(sandbox)["by_endpoint"]
	finally:
		sandbox.stop()
	# Contacts page at 1,000; items, tax rates and accounts come whole.
	minimum = -(-contacts // 1000) + 3
	used = sum(v for k, v in calls.items() if "/api.xro/2.0/" in k)
	figures = {"calls_used": used, "minimum": minimum, "by_endpoint": calls, "seconds": round(seconds, 2)}
	print(f"sync of {contacts} contacts and {items} items: {figures}; summary {summary}")
	return figures


def push_soak(invoices: int = 1000, fault_rate: float = 0.2, read_timeout: float = 2.0) -> dict:
	"""Pushes N invoices while the sandbox injects faults on every invoice write, then retries until
	nothing is Pending; prints what Xero holds: every invoice once, none twice, none lost."""
	sandbox = start_sandbox(tenants=1, rate_limits=False)
	original_timeout = push.PUSH_TIMEOUT
	push.PUSH_TIMEOUT = (5, read_timeout)  # a stored-then-silent answer must time out quickly here
	try:
		name = connect(sandbox, "Benchmark Push Soak")
		sync_connection(name)
		conn = frappe.get_doc(connections.CONNECTION, name)
		tenant = conn.tenants[0]
		org = {"connection": name, "tenant_id": tenant.tenant_id}
		customers = frappe.get_all("Xero Contact", {**org, "contact_status": "ACTIVE"}, pluck="name")
		items = frappe.get_all(
			"Xero Item", {**org, "is_sold": 1, "account_code": ["is", "set"]}, pluck="name"
		)
		lines_per_order = 4
		orders = []
		for n in range(invoices // lines_per_order):
			order = frappe.get_doc(
				{
					"doctype": "Xero Sales Order",
					"customer": customers[n % len(customers)],
					"po_number": f"SOAK-{n}",
					"currency": tenant.base_currency,
					"items": [
						{"item": items[(n + i) % len(items)], "qty": 3 + i} for i in range(lines_per_order)
					],
				}
			).insert()
			order.submit()
			orders.append(order)
		frappe.db.commit()
		share = fault_rate / 4
		requests.post(
			f"{sandbox.url}/_sandbox/faults",
			json=[
				{
					"kind": kind,
					"rate": share,
					"path": "/api.xro/2.0/Invoices",
					"method": "PUT",
					"delay": read_timeout + 1,
				}
				for kind in ("500", "429", "drop", "timeout_after_store")
			],
			timeout=10,
		).raise_for_status()
		started = time.perf_counter()
		names = []
		for order in orders:
			for row in order.items:
				invoice = invoicing.create_invoice(order.name, [{"item": row.name, "qty": row.qty}])
				frappe.db.commit()
				push.push_invoices([invoice.name])
				frappe.db.commit()
				names.append(invoice.name)
		first_pass = frappe.db.count("Xero Invoice", {"name": ["in", names], "push_state": "Pushed"})
		rounds = 0
		while (
			frappe.db.count("Xero Invoice", {"name": ["in", names], "push_state": "Pending"}) and rounds < 30
		):
			rounds += 1
			frappe.db.sql(
				"update `tabXero Invoice` set last_attempt_at = '2000-01-01' where push_state = 'Pending' and name in %s",
				[names],
			)
			push.retry_pending()
		seconds = time.perf_counter() - started
		requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=10)
		states = dict(
			frappe.get_all(
				"Xero Invoice",
				filters={"name": ["in", names]},
				fields=["push_state", "count(*) as n"],
				group_by="push_state",
				as_list=True,
			)
		)
		client = connections.client_for(name, tenant.tenant_id)
		remote = [inv["InvoiceNumber"] for inv in client.invoices(numbers=names)]
		client.close()
		calls = sandbox_calls(sandbox)
		figures = {
			"invoices": len(names),
			"in_xero": len(remote),
			"duplicates_in_xero": len(remote) - len(set(remote)),
			"lost": len(set(names) - set(remote)),
			"pushed_first_time": first_pass,
			"retry_rounds": rounds,
			"states": states,
			"faults_fired": calls.get("faults"),
			"seconds": round(seconds, 1),
		}
	finally:
		push.PUSH_TIMEOUT = original_timeout
		sandbox.stop()
	print(f"push soak: {figures}")
	return figures


def webhook_processing(events: int = 1000) -> dict:
	"""N invoice events (each invoice paid in Xero) processed in the background job; prints Xero calls and time."""
	sandbox = start_sandbox(tenants=1, rate_limits=False)
	try:
		name = connect(sandbox, "Benchmark Webhooks")
		sync_connection(name)
		conn = frappe.get_doc(connections.CONNECTION, name)
		tenant = conn.tenants[0]
		frappe.db.set_value("Xero Connection Tenant", tenant.name, "invoice_status", "AUTHORISED")
		org = {"connection": name, "tenant_id": tenant.tenant_id}
		customer = frappe.get_all("Xero Contact", {**org, "contact_status": "ACTIVE"}, pluck="name", limit=1)[
			0
		]
		item = frappe.get_all(
			"Xero Item", {**org, "is_sold": 1, "account_code": ["is", "set"]}, pluck="name", limit=1
		)[0]
		order = frappe.get_doc(
			{
				"doctype": "Xero Sales Order",
				"customer": customer,
				"currency": tenant.base_currency,
				"items": [{"item": item, "qty": events}],
			}
		).insert()
		order.submit()
		frappe.db.commit()
		names = []
		for _ in range(events):
			names.append(invoicing.create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}]).name)
		frappe.db.commit()
		push.push_invoices(names)
		frappe.db.commit()
		ids = frappe.get_all("Xero Invoice", {"name": ["in", names]}, pluck="xero_invoice_id")
		for invoice_id in ids:
			requests.post(
				f"{sandbox.url}/_sandbox/invoices/{invoice_id}/pay", json={}, timeout=10
			).raise_for_status()
		from datetime import datetime, timezone

		now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
		body = frappe.as_json(
			{
				"events": [
					{
						"resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{i}",
						"resourceId": i,
						"eventDateUtc": now,
						"eventType": "UPDATE",
						"eventCategory": "INVOICE",
						"tenantId": tenant.tenant_id,
						"tenantType": "ORGANISATION",
					}
					for i in ids
				],
				"firstEventSequence": 1,
				"lastEventSequence": len(ids),
				"entropy": "BENCHMARK",
			}
		).encode()
		from xero_sales_orders.xero.webhooks import sign

		webhooks.receive(body, sign(body, conn.get_password("webhook_key")))
		frappe.db.commit()
		reset_calls(sandbox)
		started = time.perf_counter()
		outcome = webhooks.process_queued()
		seconds = time.perf_counter() - started
		calls = sandbox_calls(sandbox)
		paid = frappe.db.count("Xero Invoice", {"name": ["in", names], "status": "PAID"})
		figures = {
			"events": len(ids),
			"outcome": outcome,
			"xero_calls": sum(v for k, v in calls["by_endpoint"].items() if "/api.xro/2.0/" in k),
			"invoices_now_paid": paid,
			"seconds": round(seconds, 2),
		}
	finally:
		sandbox.stop()
	print(f"webhook processing: {figures}")
	return figures
