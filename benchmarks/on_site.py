"""Benchmarks that need a site, run by benchmarks/xero_on_bench.py on a site with the dev kit's runner:

    cd ~/frappe-bench/sites && ../env/bin/python -m xso_devkit.execute --site SITE benchmarks.on_site.<name>

Each starts its own Xero sandbox in-process and prints its figures; none is a test.
"""

import threading
import time
from datetime import datetime, timedelta, timezone

import frappe
import requests

from xero_sales_orders.services import (
	invoice_push,
	order_invoicing,
	webhook_receiver,
	xero_clients,
	xero_endpoints,
)
from xero_sales_orders.services.master_sync import MASTERS, sync_connection
from xero_sales_orders.services.webhook_processing import process_queued
from xso_devkit.sandbox import (
	access_tokens_from_workers,
	connect,
	expire_access_token,
	reset_calls,
	sandbox_calls,
	start_sandbox,
	synced_organisation,
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
	# Contacts page at 1,000; every other master (items, tax rates, accounts, tracking categories, currencies,
	# branding themes) comes whole in one call; /Organisation was read at the consent (once a day at most).
	minimum = -(-contacts // 1000) + len(MASTERS) - 1
	used = sum(v for k, v in calls.items() if "/api.xro/2.0/" in k)
	figures = {"calls_used": used, "minimum": minimum, "by_endpoint": calls, "seconds": round(seconds, 2)}
	print(f"sync of {contacts} contacts and {items} items: {figures}; summary {summary}")
	return figures


def push_soak(invoices: int = 1000, fault_rate: float = 0.2, read_timeout: float = 2.0) -> dict:
	"""Pushes N invoices while the sandbox injects faults on every invoice write, then retries until
	nothing is Pending; prints what Xero holds: every invoice once, none twice, none lost."""
	sandbox = start_sandbox(tenants=1, rate_limits=False)
	original_timeout = invoice_push.PUSH_TIMEOUT
	invoice_push.PUSH_TIMEOUT = (5, read_timeout)  # a stored-then-silent answer must time out quickly here
	try:
		name = connect(sandbox, f"Benchmark Push Soak {frappe.generate_hash(length=6)}")
		sync_connection(name)
		conn = frappe.get_doc(xero_endpoints.CONNECTION, name)
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
				invoice = order_invoicing.create_invoice(order.name, [{"item": row.name, "qty": row.qty}])
				frappe.db.commit()
				invoice_push.push_invoices([invoice.name])
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
			frappe.db.commit()
			invoice_push.retry_pending(name)
			time.sleep(5)  # the app's shared limiter (60 calls a minute) paces the rounds, as Xero would
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
		remote = [
			inv["InvoiceNumber"] for inv in _when_allowed(lambda: _fetch(name, tenant.tenant_id, names))
		]
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
		invoice_push.PUSH_TIMEOUT = original_timeout
		sandbox.stop()
	print(f"push soak: {figures}")
	return figures


def webhook_processing(events: int = 1000) -> dict:
	"""N invoice events (each invoice paid in Xero) processed in the background job; prints Xero calls and time."""
	sandbox = start_sandbox(tenants=1, rate_limits=False)
	try:
		name = connect(sandbox, "Benchmark Webhooks")
		sync_connection(name)
		conn = frappe.get_doc(xero_endpoints.CONNECTION, name)
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
			names.append(
				order_invoicing.create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}]).name
			)
		frappe.db.commit()
		invoice_push.push_invoices(names)
		frappe.db.commit()
		ids = frappe.get_all("Xero Invoice", {"name": ["in", names]}, pluck="xero_invoice_id")
		for invoice_id in ids:
			requests.post(
				f"{sandbox.url}/_sandbox/invoices/{invoice_id}/pay", json={}, timeout=10
			).raise_for_status()
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

		webhook_receiver.receive(body, sign(body, conn.get_password("webhook_key")))
		frappe.db.commit()
		reset_calls(sandbox)
		started = time.perf_counter()
		outcome = process_queued()
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


def _orders(org, count: int, lines_per_order: int, prefix: str) -> list:
	orders = []
	for n in range(count):
		order = frappe.get_doc(
			{
				"doctype": "Xero Sales Order",
				"customer": org.customers[n % len(org.customers)],
				"po_number": f"{prefix}-{n}",
				"currency": org.currency,
				"items": [
					{"item": org.sold_items[(n + i) % len(org.sold_items)], "qty": 3 + i}
					for i in range(lines_per_order)
				],
			}
		).insert()
		order.submit()
		orders.append(order)
	frappe.db.commit()
	return orders


def _in_xero(org, names: list[str]) -> list[str]:
	client = xero_clients.client_for(org.name, org.tenant_id)
	try:
		return [inv["InvoiceNumber"] for inv in client.invoices(numbers=names)]
	finally:
		client.close()


def _push_figures(names: list[str], remote: list[str]) -> dict:
	rows = frappe.get_all(
		"Xero Invoice", {"name": ["in", names]}, ["push_state", "push_attempts"], order_by="name asc"
	)
	states = {}
	for row in rows:
		states[row.push_state] = states.get(row.push_state, 0) + 1
	return {
		"invoices": len(names),
		"in_xero": len(remote),
		"duplicates_in_xero": len(remote) - len(set(remote)),
		"lost": len(set(names) - set(remote)),
		"states": states,
		"attempts_min_max": [min(r.push_attempts for r in rows), max(r.push_attempts for r in rows)]
		if rows
		else None,
	}


def push_soak_with_broken_organisation(
	invoices: int = 1000, fault_rate: float = 0.2, rounds: int = 5
) -> dict:
	"""Like push_soak, over two organisations of two consents, while the second one's token endpoint answers
	503 throughout (and its access token has expired): prints, per organisation, what Xero holds and the
	local push states. The healthy organisation's invoices must all be Pushed, the other's Pending with
	their attempts counted; none doubled, none lost."""
	healthy_box = start_sandbox(tenants=1, rate_limits=False)
	broken_box = start_sandbox(tenants=1, rate_limits=False)
	original_timeout = invoice_push.PUSH_TIMEOUT
	invoice_push.PUSH_TIMEOUT = (5, 2.0)
	try:
		orgs = {}
		for label, box in (("healthy", healthy_box), ("broken", broken_box)):
			name = f"Benchmark Soak {label.title()} {frappe.generate_hash(length=6)}"
			orgs[label] = synced_organisation(box, name, invoice_status="DRAFT")
		lines_per_order = 4
		per_org = invoices // 2 // lines_per_order
		orders = {
			label: _orders(org, per_org, lines_per_order, f"SOAK2-{label}") for label, org in orgs.items()
		}
		share = fault_rate / 4
		requests.post(
			f"{healthy_box.url}/_sandbox/faults",
			json=[
				{"kind": kind, "rate": share, "path": "/api.xro/2.0/Invoices", "method": "PUT", "delay": 3}
				for kind in ("500", "429", "drop", "timeout_after_store")
			],
			timeout=10,
		).raise_for_status()
		requests.post(
			f"{broken_box.url}/_sandbox/faults", json={"kind": "503", "path": "/connect/token"}, timeout=10
		).raise_for_status()
		expire_access_token(orgs["broken"].name)
		started = time.perf_counter()
		names = {"healthy": [], "broken": []}
		for pair in zip(orders["healthy"], orders["broken"], strict=True):
			for label, order in zip(("healthy", "broken"), pair, strict=True):
				for row in order.items:
					invoice = order_invoicing.create_invoice(order.name, [{"item": row.name, "qty": row.qty}])
					invoice_push.push_invoices([invoice.name])
					names[label].append(invoice.name)
		everything = names["healthy"] + names["broken"]
		done_rounds = 0
		for _ in range(rounds):
			if not frappe.db.count(
				"Xero Invoice", {"name": ["in", names["healthy"]], "push_state": "Pending"}
			):
				break
			done_rounds += 1
			frappe.db.sql(
				"update `tabXero Invoice` set last_attempt_at = '2000-01-01' where push_state = 'Pending' and name in %s",
				[everything],
			)
			frappe.db.commit()
			for org in orgs.values():
				invoice_push.retry_pending(org.name)
		seconds = time.perf_counter() - started
		requests.delete(f"{healthy_box.url}/_sandbox/faults", timeout=10)
		requests.delete(f"{broken_box.url}/_sandbox/faults", timeout=10)
		figures = {
			"healthy": _push_figures(names["healthy"], _in_xero(orgs["healthy"], names["healthy"])),
			"broken": {
				**_push_figures(names["broken"], []),
				"token_calls_refused": sandbox_calls(broken_box).get("faults"),
			},
			"retry_rounds": done_rounds,
			"healthy_faults_fired": sandbox_calls(healthy_box).get("faults"),
			"seconds": round(seconds, 1),
		}
		# Now the identity server is back: the waiting invoices go out once each.
		frappe.db.sql(
			"update `tabXero Invoice` set last_attempt_at = '2000-01-01' where push_state = 'Pending' and name in %s",
			[names["broken"]],
		)
		frappe.db.commit()
		invoice_push.retry_pending(orgs["broken"].name)
		figures["broken_after_recovery"] = _push_figures(
			names["broken"], _in_xero(orgs["broken"], names["broken"])
		)
	finally:
		invoice_push.PUSH_TIMEOUT = original_timeout
		healthy_box.stop()
		broken_box.stop()
	print(f"push soak with a broken organisation: {figures}")
	return figures


def _p95(values: list[float]) -> float:
	ordered = sorted(values)
	return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def create_invoice_during_slow_push(invoices: int = 200, delay: float = 3.0, samples: int = 60) -> dict:
	"""p95 of create_invoice (and its push, as the API runs it) on one organisation, idle and while a retry
	job pushes ``invoices`` Pending invoices of another organisation to a Xero that answers each write after
	``delay`` seconds. Target: within 2x of idle."""
	slow_box = start_sandbox(tenants=1, rate_limits=False)
	fast_box = start_sandbox(tenants=1, rate_limits=False)
	try:
		orgs = {}
		for label, box in (("slow", slow_box), ("fast", fast_box)):
			orgs[label] = synced_organisation(
				box, f"Benchmark Latency {label.title()}", invoice_status="DRAFT"
			)
		backlog = []
		for order in _orders(orgs["slow"], invoices // 2, 2, "BACKLOG"):
			for row in order.items:
				backlog.append(
					order_invoicing.create_invoice(order.name, [{"item": row.name, "qty": 1}]).name
				)
		measured = _orders(orgs["fast"], 2 * samples, 1, "MEASURED")

		def create_and_push(order) -> float:
			started = time.perf_counter()
			invoice = order_invoicing.create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}])
			invoice_push.push_invoices([invoice.name])
			return time.perf_counter() - started

		idle = [create_and_push(order) for order in measured[:samples]]
		requests.post(
			f"{slow_box.url}/_sandbox/faults",
			json={"kind": "slow", "delay": delay, "path": "/api.xro/2.0/Invoices", "method": "PUT"},
			timeout=10,
		).raise_for_status()
		site = frappe.local.site
		job = {}

		def retry_job():
			frappe.init(site=site)
			frappe.connect()
			try:
				started = time.perf_counter()
				job["states"] = invoice_push.push_invoices(backlog)
				job["seconds"] = time.perf_counter() - started
			finally:
				frappe.destroy()

		thread = threading.Thread(target=retry_job)
		thread.start()
		time.sleep(0.5)
		busy = []
		for order in measured[samples:]:
			if not thread.is_alive():
				break
			busy.append(create_and_push(order))
		thread.join()
		figures = {
			"idle_p95_ms": round(_p95(idle) * 1000, 1),
			"during_push_p95_ms": round(_p95(busy) * 1000, 1) if busy else None,
			"samples_idle_busy": [len(idle), len(busy)],
			"ratio": round(_p95(busy) / _p95(idle), 2) if busy else None,
			"backlog_pushed": sum(1 for s in job.get("states", {}).values() if s == "Pushed"),
			"backlog_seconds": round(job.get("seconds", 0), 1),
		}
	finally:
		slow_box.stop()
		fast_box.stop()
	print(f"create_invoice during a slow push: {figures}")
	return figures


def remainder_soak(orders: int = 40, fault_rate: float = 0.2) -> dict:
	"""The issue's orders (3 x 19.99; 7 x 4.3333 at 12.5 %; 2.5 x 250; 10 % GST), half Exclusive and half
	Inclusive, each invoiced in three parts so that the last part of every line takes the remainder, pushed while
	``fault_rate`` of invoice writes fail; prints how many invoices Xero totals differently from the app (by
	Xero's own answer, compared independently of the app's flag) and how many orders' invoices in Xero do not
	add up to the order. Target: 0 and 0."""
	sandbox = start_sandbox(tenants=2, rate_limits=False)
	original_timeout = invoice_push.PUSH_TIMEOUT
	invoice_push.PUSH_TIMEOUT = (5, 2.0)
	try:
		name = f"Benchmark Remainders {frappe.generate_hash(length=6)}"
		connect(sandbox, name)
		sync_connection(name)
		ten_percent = frappe.get_all(
			"Xero Tax Rate",
			{"connection": name, "effective_rate": 10, "can_apply_to_revenue": 1, "status": "ACTIVE"},
			["name", "tenant_id"],
			limit=1,
		)[0]
		org = {"connection": name, "tenant_id": ten_percent.tenant_id}
		customer = frappe.get_all("Xero Contact", {**org, "contact_status": "ACTIVE"}, pluck="name")[0]
		item = frappe.get_all(
			"Xero Item", {**org, "is_sold": 1, "account_code": ["is", "set"]}, pluck="name"
		)[0]
		currency = frappe.db.get_value(
			"Xero Connection Tenant", {"parent": name, "tenant_id": ten_percent.tenant_id}, "base_currency"
		)
		lines = [(3, 19.99, 0, (1, 1, 1)), (7, 4.3333, 12.5, (2, 2, 3)), (2.5, 250, 0, (1, 1, 0.5))]
		made = []
		for n in range(orders):
			order = frappe.get_doc(
				{
					"doctype": "Xero Sales Order",
					"customer": customer,
					"po_number": f"REM-{n}",
					"currency": currency,
					"line_amount_type": "Exclusive" if n % 2 == 0 else "Inclusive",
					"items": [
						{"item": item, "qty": q, "unit_price": p, "discount_rate": d, "tax": ten_percent.name}
						for q, p, d, _ in lines
					],
				}
			).insert()
			order.submit()
			made.append(order)
		frappe.db.commit()
		requests.post(
			f"{sandbox.url}/_sandbox/faults",
			json=[
				{
					"kind": kind,
					"rate": fault_rate / 4,
					"path": "/api.xro/2.0/Invoices",
					"method": "PUT",
					"delay": 3,
				}
				for kind in ("500", "429", "drop", "timeout_after_store")
			],
			timeout=10,
		).raise_for_status()
		names = []
		for part in range(3):
			for order in made:
				requested = [
					{"item": row.name, "qty": lines[i][3][part]} for i, row in enumerate(order.items)
				]
				invoice = order_invoicing.create_invoice(order.name, requested)
				invoice_push.push_invoices([invoice.name])
				names.append(invoice.name)
		requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=10)
		for _ in range(30):  # Xero's 60 calls a minute (the app's shared limiter) pace the retries
			if not frappe.db.count("Xero Invoice", {"name": ["in", names], "push_state": "Pending"}):
				break
			frappe.db.sql(
				"update `tabXero Invoice` set last_attempt_at = '2000-01-01' where push_state = 'Pending' and name in %s",
				[names],
			)
			frappe.db.commit()
			invoice_push.retry_pending(name)
			time.sleep(5)
		local = {
			r.name: r
			for r in frappe.get_all(
				"Xero Invoice",
				{"name": ["in", names]},
				["name", "sales_order", "total", "total_tax", "push_state", "totals_differ"],
			)
		}
		remote = {
			x["InvoiceNumber"]: x for x in _when_allowed(lambda: _fetch(name, ten_percent.tenant_id, names))
		}
		differ = [
			n
			for n, inv in local.items()
			if n not in remote
			or round(float(remote[n]["Total"]), 2) != round(float(inv.total), 2)
			or round(float(remote[n]["TotalTax"]), 2) != round(float(inv.total_tax), 2)
		]
		orders_off = [
			o.name
			for o in made
			if round(
				sum(
					float(remote[n]["Total"])
					for n, i in local.items()
					if i.sales_order == o.name and n in remote
				),
				2,
			)
			!= round(float(frappe.db.get_value("Xero Sales Order", o.name, "grand_total")), 2)
		]
		figures = {
			"orders": len(made),
			"invoices": len(names),
			"pushed": sum(1 for i in local.values() if i.push_state == "Pushed"),
			"in_xero": len(remote),
			"invoices_differing_from_xero": len(differ),
			"flagged_totals_differ": sum(1 for i in local.values() if i.totals_differ),
			"orders_whose_xero_invoices_do_not_add_up": len(orders_off),
			"faults_fired": sandbox_calls(sandbox).get("faults"),
		}
	finally:
		invoice_push.PUSH_TIMEOUT = original_timeout
		sandbox.stop()
	print(f"remainder soak: {figures}")
	return figures


def _fetch(connection: str, tenant_id: str, numbers: list[str]) -> list[dict]:
	client = xero_clients.client_for(connection, tenant_id)
	try:
		return list(client.invoices(numbers=numbers))
	finally:
		client.close()


def _when_allowed(call):
	"""Runs ``call`` once the app's shared limiter has room for it (a benchmark's own checks must wait their turn)."""
	from xero_sales_orders.xero.client import XeroRateLimitError

	while True:
		try:
			return call()
		except XeroRateLimitError as e:
			time.sleep(min(e.retry_after or 5, 60))


# --- Backlogs in the fewest calls (issue 16): Xero's real limits on, counts read from the sandbox's call log ---


def _organisations(name: str, invoice_status: str) -> list:
	"""Every organisation of the connection, raising invoices as ``invoice_status``."""
	orgs = []
	for tenant in frappe.get_doc(xero_endpoints.CONNECTION, name).tenants:
		frappe.db.set_value("Xero Connection Tenant", tenant.name, "invoice_status", invoice_status)
		orgs.append(frappe._dict(name=name, tenant_id=tenant.tenant_id, currency=tenant.base_currency))
	frappe.db.commit()
	return orgs


def _call_log(sandbox) -> list:
	return requests.get(f"{sandbox.url}/_sandbox/calls/log", timeout=60).json()["calls"]


def _counts(log: list, tenant_id: str) -> dict:
	counts = {}
	for _, tenant, endpoint in log:
		if tenant == tenant_id:
			counts[endpoint] = counts.get(endpoint, 0) + 1
	return counts


def _busiest_minute(log: list, tenant_id: str, endpoints=None) -> int:
	"""The most calls for the organisation within any 60 s (a sliding window over the call log)."""
	times = [
		t
		for t, tenant, endpoint in log
		if tenant == tenant_id and (endpoints is None or endpoint in endpoints)
	]
	most, first = 0, 0
	for last in range(len(times)):
		while times[last] - times[first] >= 60:
			first += 1
		most = max(most, last - first + 1)
	return most


def _invoices_held(sandbox) -> dict:
	"""How many invoices the sandbox holds per organisation."""
	tenants = requests.get(f"{sandbox.url}/_sandbox/tenants", timeout=10).json()["tenants"]
	return {t["tenantId"]: t.get("invoices") for t in tenants}


PUTS = "PUT /api.xro/2.0/Invoices"
GETS = "GET /api.xro/2.0/Invoices"


def push_backlog(sizes=(100, 300, 1000)) -> list:
	"""N Pending invoices over two organisations of one consent, each with an attempt that met an outage long
	ago (so each is looked up in Xero first), sent by the scheduled retry: prints per size the runs, PUTs and
	lookups per organisation against the fewest (2 x ceil(N / 2 / 50)), Xero's 429s (target 0), the busiest
	minute of calls per organisation (Xero allows 60), what Xero holds and the seconds."""
	from benchmarks.on_site_seed import clear_backlog, seed_backlog

	results = []
	for size in sizes:
		sandbox = start_sandbox(tenants=2, seed_invoices=0)  # Xero's own limits: 60 a minute, 5 at once
		prefix = f"BKP{frappe.generate_hash(length=5).upper()}-"
		try:
			name = connect(sandbox, f"Benchmark Push Backlog {prefix}")
			sync_connection(name)
			orgs = _organisations(name, "AUTHORISED")
			names = []
			for n, org in enumerate(orgs):
				names += seed_backlog(org, size // len(orgs), f"{prefix}{n}-", attempts=1, seed=n)
			reset_calls(sandbox)
			started, runs = time.perf_counter(), 0
			while runs < 5 and frappe.db.count(
				"Xero Invoice", {"name": ["in", names], "push_state": "Pending"}
			):
				runs += 1
				invoice_push.retry_pending(name)
			seconds = time.perf_counter() - started
			log, calls = _call_log(sandbox), sandbox_calls(sandbox)
			held = _invoices_held(sandbox)
			per_org = {}
			for n, org in enumerate(orgs):
				counts = _counts(log, org.tenant_id)
				per_org[f"organisation {n + 1}"] = {
					"puts": counts.get(PUTS, 0),
					"lookups": counts.get(GETS, 0),
					"busiest_minute_calls": _busiest_minute(log, org.tenant_id),
					"in_xero": held.get(org.tenant_id),
				}
			states = dict(
				frappe.get_all(
					"Xero Invoice",
					{"name": ["in", names]},
					["push_state", "count(*) as n"],
					group_by="push_state",
					as_list=True,
				)
			)
			figures = {
				"pending": len(names),
				"runs": runs,
				"puts": sum(o["puts"] for o in per_org.values()),
				"fewest_puts": sum(-(-(size // len(orgs)) // 50) for _ in orgs),
				"lookups": sum(o["lookups"] for o in per_org.values()),
				"per_organisation": per_org,
				"states": states,
				"xero_429s": sum(calls["rejected"].values()),
				"seconds": round(seconds, 1),
			}
		finally:
			clear_backlog(prefix)
			sandbox.stop()
		print(f"push backlog of {size}: {figures}", flush=True)
		results.append(figures)
	return results


def webhook_backlog(sizes=(1000, 3000, 10000), push_every: float = 8.0) -> list:
	"""Events naming N invoices (each paid in Xero) over two organisations of one consent, applied by the
	background drain under Xero's real limits while a user pushes an invoice to each organisation every
	``push_every`` s: prints per size the drain's Xero GETs (target ceil(N / 50)), its busiest minute per
	organisation (it must leave at least half of Xero's 60), every call's busiest minute, the pushes made
	during the drain with their p95 (and idle p95), Xero's 429s (target 0) and the seconds. Each size's events
	name invoices of their own, paid once in Xero."""
	from benchmarks.on_site_seed import clear_backlog, seed_backlog
	from xero_sales_orders.services import webhook_drain
	from xero_sales_orders.xero.webhooks import sign

	sandbox = start_sandbox(tenants=2, seed_invoices=0)
	prefix = f"BKW{frappe.generate_hash(length=5).upper()}-"
	original_drain_seconds = webhook_drain.DRAIN_SECONDS
	webhook_drain.DRAIN_SECONDS = 10**6  # the benchmark is the drain's only caller: no job to hand over to
	results = []
	try:
		name = connect(sandbox, f"Benchmark Webhook Backlog {prefix}")
		sync_connection(name)
		orgs = _organisations(name, "AUTHORISED")  # payable in Xero
		everything = {}
		for n, org in enumerate(orgs):
			everything[org.tenant_id] = seed_backlog(org, sum(sizes) // len(orgs), f"{prefix}{n}-", seed=n)
		# Pushed by the app as in ordinary use (Xero's limits pace it: 60 calls a minute per organisation).
		started = time.perf_counter()
		while frappe.db.count("Xero Invoice", {"name": ["like", f"{prefix}%"], "push_state": "Pending"}):
			invoice_push.retry_pending(name)
		print(f"setup: {sum(sizes)} invoices pushed in {time.perf_counter() - started:.0f} s", flush=True)
		ids = {
			tenant: frappe.get_all(
				"Xero Invoice",
				{"name": ["in", names], "push_state": "Pushed"},
				pluck="xero_invoice_id",
				order_by="name asc",
			)
			for tenant, names in everything.items()
		}
		pool = {
			org.tenant_id: seed_backlog(org, 400, f"{prefix}P{n}-", seed=100 + n)
			for n, org in enumerate(orgs)
		}
		webhook_key = frappe.get_doc(xero_endpoints.CONNECTION, name).get_password("webhook_key")
		site = frappe.local.site

		def push_one(tenant_id: str) -> tuple[float, str]:
			invoice = pool[tenant_id].pop(0)
			began = time.perf_counter()
			state = invoice_push.push_invoices([invoice]).get(invoice)
			return time.perf_counter() - began, state

		time.sleep(61)  # the setup's calls leave the minute's window of Xero's limit (and the app's limiter)
		idle = []
		for _ in range(5):
			idle += [push_one(org.tenant_id)[0] for org in orgs]
			time.sleep(push_every)
		used = 0
		for size in sizes:
			per_org = size // len(orgs)
			subset = {tenant: ids[tenant][used : used + per_org] for tenant in ids}
			used += per_org
			for tenant in subset:
				for invoice_id in subset[tenant]:
					requests.post(
						f"{sandbox.url}/_sandbox/invoices/{invoice_id}/pay",
						json={"amount": "1.00"},
						timeout=10,
					).raise_for_status()
			now = datetime.now(timezone.utc)
			events = [
				{
					"resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{subset[tenant][i]}",
					"resourceId": subset[tenant][i],
					"eventDateUtc": (now + timedelta(microseconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%f"),
					"eventType": "UPDATE",
					"eventCategory": "INVOICE",
					"tenantId": tenant,
					"tenantType": "ORGANISATION",
				}
				for i in range(per_org)
				for tenant in subset
			]
			for start in range(0, len(events), 100):  # Xero's deliveries carry a few events each
				body = frappe.as_json(
					{
						"events": events[start : start + 100],
						"firstEventSequence": start + 1,
						"lastEventSequence": start + len(events[start : start + 100]),
						"entropy": frappe.generate_hash(length=20),
					}
				).encode()
				webhook_receiver.receive(body, sign(body, webhook_key))
				frappe.db.commit()
			resource_ids = [e["resourceId"] for e in events]
			reset_calls(sandbox)
			pushes, stop = [], threading.Event()

			def user_pushing(pushes=pushes, stop=stop):
				frappe.init(site=site)
				frappe.connect()
				try:
					while not stop.wait(push_every):
						for org in orgs:
							pushes.append(push_one(org.tenant_id))
				finally:
					frappe.destroy()

			pusher = threading.Thread(target=user_pushing)
			pusher.start()
			started = time.perf_counter()
			try:
				while frappe.db.count(
					"Xero Webhook Event", {"resource_id": ["in", resource_ids], "status": "Queued"}
				):
					frappe.cache.set(frappe.cache.make_key(webhook_drain.PENDING_KEY), 1, ex=60)
					webhook_drain.drain()
					frappe.db.commit()
					time.sleep(1)  # a drain that met Xero's limit rests; so does this loop
				seconds = time.perf_counter() - started
			finally:
				stop.set()
				pusher.join()
			log, calls = _call_log(sandbox), sandbox_calls(sandbox)
			statuses = dict(
				frappe.get_all(
					"Xero Webhook Event",
					{"resource_id": ["in", resource_ids]},
					["status", "count(*) as n"],
					group_by="status",
					as_list=True,
				)
			)
			organisations = {}
			for n, org in enumerate(orgs):
				counts = _counts(log, org.tenant_id)
				organisations[f"organisation {n + 1}"] = {
					"drain_gets": counts.get(GETS, 0),
					"drain_busiest_minute": _busiest_minute(log, org.tenant_id, {GETS}),
					"all_calls_busiest_minute": _busiest_minute(log, org.tenant_id),
					"push_calls": {k: v for k, v in counts.items() if k != GETS},
					"push_busiest_minute": _busiest_minute(log, org.tenant_id, set(counts) - {GETS}),
				}
			latencies = [seconds_ for seconds_, _ in pushes]
			figures = {
				"events": len(events),
				"drain_gets": sum(o["drain_gets"] for o in organisations.values()),
				"fewest_gets": len(orgs) * -(-per_org // 50),
				"per_organisation": organisations,
				"events_by_status": statuses,
				"pushes_during_drain": len(pushes),
				"pushes_pushed": sum(1 for _, state in pushes if state == "Pushed"),
				"push_p95_ms_idle_vs_drain": [
					round(_p95(idle) * 1000),
					round(_p95(latencies) * 1000) if latencies else None,
				],
				"xero_429s": sum(calls["rejected"].values()),
				"seconds": round(seconds, 1),
			}
			print(f"webhook backlog of {len(events)} events: {figures}", flush=True)
			results.append(figures)
	finally:
		webhook_drain.DRAIN_SECONDS = original_drain_seconds
		clear_backlog(prefix)
		sandbox.stop()
	return results
