"""Bulk import of Xero invoices at 1x, 3x and 10x a base size, beside Frappe's own Data Import at the base size.

    cd ~/frappe-bench/sites && ../env/bin/python ../apps/xero_sales_orders/benchmarks/importing.py \\
        --site SITE [--invoices 10000] [--scales 1,3,10] [--no-baseline] [--no-rate-limits]

With ``--scales`` (the default 1,3,10) each size runs in a process of its own (so each one's memory is its
own) and a table of the figures follows, with each figure per 1,000 invoices so the slope is visible; the
Data Import baseline runs at the base size only. One size alone: ``--scales 1 --invoices N``. Each run:

1. starts a Xero sandbox in a child process (so the app's memory is measured alone) with N seeded invoices,
   regrouped into N/4 references (``PO-8xxxxx``, ``Order PO-8xxxxx part 2``, ...; one contact and one tax
   treatment per group, lines re-priced by the sandbox's own arithmetic), with Xero's rate limits (60 calls
   a minute, 5 at once) unless ``--no-rate-limits``;
2. connects and syncs a Xero Connection (setup, not measured), then runs the preview and the import as the
   worker runs them (``import_runner.preview`` / ``start`` with ``now``: the request's checks, then the job),
   timed, counting Xero's calls (the sandbox's ``/_sandbox/calls``) and the process's peak memory over the two
   jobs (``VmHWM``, reset before them);
3. times pages of the stored preview (``api.importing.groups``, 50 groups): each view's first, middle and
   last page and searches by reference, contact and invoice number;
4. checks every figure to the cent (not timed, a page at a time): each imported invoice against the
   sandbox's own invoice and lines, each order against the sum of its live invoices, no order with a
   negative outstanding amount or more than 100 % invoiced, and ``refresh_order_invoicing`` changing nothing
   on a sample of orders;
5. at the base size, writes the created orders (header and lines) to a CSV and imports it with Frappe's Data
   Import (insert + submit, as a user would do without this feature), timed, and prints the ratio;
6. deletes everything it created.
"""

import argparse
import contextlib
import csv
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time

CONNECTION = "Import Benchmark"
PATTERN = r"PO-(\d+)"
PAGE = 50
CSV_FIELDS = ["customer", "po_number", "order_date", "currency", "line_amount_type", "remarks"]
CSV_LINE_FIELDS = [
	"item_code",
	"description",
	"qty",
	"unit_price",
	"discount_rate",
	"tax_type",
	"tax_rate",
	"account_code",
]
TARGETS = {"seconds_100k": 180, "peak_mb": 400, "page_ms": 300, "speedup": 10}


# ---- memory: the process's peak resident set, reset before the measured part --------------------------------


def reset_peak() -> None:
	"""Resets the kernel's high-water mark of this process's resident set (Linux: clear_refs 5)."""
	with open("/proc/self/clear_refs", "w") as f:
		f.write("5")


def peak_mb() -> float:
	with open("/proc/self/status") as f:
		for line in f:
			if line.startswith("VmHWM:"):
				return int(line.split()[1]) / 1024
	return 0.0


def rss_mb() -> float:
	with open("/proc/self/status") as f:
		for line in f:
			if line.startswith("VmRSS:"):
				return int(line.split()[1]) / 1024
	return 0.0


def cpu_seconds() -> dict:
	"""CPU seconds used so far by this process (every thread) and by MariaDB's server: steadier than the
	wall clock on a shared machine, to compare one change of the code with another."""
	own = os.times()
	figures = {"app": own.user + own.system}
	with contextlib.suppress(OSError, ValueError, subprocess.SubprocessError):
		pid = subprocess.run(["pidof", "mariadbd"], capture_output=True, text=True, timeout=5).stdout.split()[
			0
		]
		with open(f"/proc/{pid}/stat") as f:
			fields = f.read().rsplit(")", 1)[1].split()
		figures["mariadb"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
	return figures


def cpu_used(before: dict) -> dict:
	after = cpu_seconds()
	return {name: round(after[name] - before[name], 2) for name in before if name in after}


# ---- the sandbox (child process) ------------------------------------------------------------------------


def regroup(tenant, groups: int) -> None:
	"""Gives every run of N/G consecutive invoices one PO reference, contact and tax treatment."""
	from decimal import Decimal

	from xero_sandbox.arithmetic import NO_TAX
	from xero_sandbox.invoices import price_line, set_totals

	invoices = list(tenant.invoices.values())
	per_group = max(1, len(invoices) // groups)
	formats = ["PO-{po}", "Order PO-{po} part {part}", "PO-{po} / backorder", "PO-{po}"]
	sales_tax = next(i for i in tenant.items.values() if i["IsSold"])["SalesDetails"]["TaxType"]
	for index, invoice in enumerate(invoices):
		group, part = divmod(index, per_group)
		first = invoices[group * per_group] if group < groups else invoice
		po = 800000 + min(group, groups - 1)
		invoice["Reference"] = formats[part % len(formats)].format(po=po, part=part + 1)
		invoice["Contact"] = dict(first["Contact"])
		if invoice["LineAmountTypes"] != first["LineAmountTypes"]:
			invoice["LineAmountTypes"] = first["LineAmountTypes"]
			priced = []
			for line in invoice["LineItems"]:
				line["TaxType"] = "NONE" if first["LineAmountTypes"] == NO_TAX else sales_tax
				rate = tenant.tax_rates[line["TaxType"]]["EffectiveRate"]
				p = price_line(
					line["Quantity"],
					line["UnitAmount"],
					rate,
					first["LineAmountTypes"],
					line.get("DiscountRate") or Decimal(0),
				)
				line["LineAmount"], line["TaxAmount"] = p.line_amount, p.tax_amount
				priced.append(p)
			set_totals(invoice, priced)
			if invoice["AmountDue"] < 0:
				invoice["AmountPaid"], invoice["AmountDue"] = invoice["Total"], Decimal(0)


def serve_sandbox(invoices: int, groups: int, rate_limits: bool, port_queue) -> None:
	from xero_sandbox import SandboxServer
	from xso_devkit.sandbox import CLIENT_ID, CLIENT_SECRET, WEBHOOK_KEY

	server = SandboxServer(
		port=0,
		tenants=1,
		seed_invoices=invoices,
		seed_contacts=max(20, invoices // 100),
		rate_limits=rate_limits,
		client_id=CLIENT_ID,
		client_secret=CLIENT_SECRET,
		webhook_key=WEBHOOK_KEY,
		seed=int(time.time()),
	)
	regroup(list(server.tenants.values())[0], groups)
	server.start()
	port_queue.put(server.url)
	while True:
		time.sleep(3600)


# ---- one measured run -----------------------------------------------------------------------------------


class Url:
	def __init__(self, url):
		self.url = url


def run(
	invoices: int = 10000, groups: int | None = None, baseline: bool = True, rate_limits: bool = True
) -> dict:
	import frappe
	import requests

	from xero_sales_orders.services import import_runner
	from xero_sales_orders.services.import_settings import BATCH
	from xero_sales_orders.services.master_sync import sync_connection
	from xso_devkit.sandbox import connect

	groups = groups or max(1, invoices // 4)
	context = multiprocessing.get_context("fork")
	urls = context.Queue()
	started = time.perf_counter()
	child = context.Process(target=serve_sandbox, args=(invoices, groups, rate_limits, urls), daemon=True)
	child.start()
	sandbox = Url(urls.get(timeout=900))
	print(f"sandbox with {invoices} invoices ready in {time.perf_counter() - started:.1f} s at {sandbox.url}")
	results = {"invoices_seeded": invoices, "rate_limits": rate_limits}
	batch = None
	try:
		frappe.set_user("Administrator")
		connect(sandbox, CONNECTION)
		sync_connection(CONNECTION)
		frappe.db.commit()
		requests.delete(f"{sandbox.url}/_sandbox/calls", timeout=10)
		batch = frappe.get_doc(
			{
				"doctype": BATCH,
				"connection": CONNECTION,
				"from_date": frappe.utils.add_days(frappe.utils.today(), -400),
				"to_date": frappe.utils.add_days(frappe.utils.today(), 1),
				"grouping": "PO Pattern",
				"po_pattern": PATTERN,
				"statuses": "DRAFT,SUBMITTED,AUTHORISED,PAID,VOIDED,DELETED",
			}
		).insert()
		frappe.db.commit()
		rss_before = rss_mb()
		reset_peak()

		started, cpu_before = time.perf_counter(), cpu_seconds()
		if os.environ.get("XSO_PROFILE"):
			import cProfile

			cProfile.runctx(
				"import_runner.preview(batch.name, now=True)",
				globals(),
				locals(),
				os.environ["XSO_PROFILE"] + ".preview",
			)
		else:
			import_runner.preview(batch.name, now=True)
		preview_seconds = time.perf_counter() - started
		preview_cpu = cpu_used(cpu_before)
		preview_peak = peak_mb()
		batch.reload()
		preview_calls = requests.get(f"{sandbox.url}/_sandbox/calls", timeout=10).json()["total"]
		if os.environ.get("XSO_PROFILE"):
			import cProfile

			cProfile.runctx(
				"import_runner.start(batch.name, now=True)", globals(), locals(), os.environ["XSO_PROFILE"]
			)
		else:
			import_runner.start(batch.name, now=True)
		total_seconds = time.perf_counter() - started
		total_cpu = cpu_used(cpu_before)
		peak = peak_mb()
		batch.reload()
		calls = requests.get(f"{sandbox.url}/_sandbox/calls", timeout=10).json()
		results.update(
			invoices=batch.invoices_fetched,
			groups=batch.groups_count,
			orders_created=batch.orders_created,
			status=batch.status,
			error=batch.error,
			xero_calls=calls["total"],
			xero_calls_preview=preview_calls,
			calls_by_endpoint=calls["by_endpoint"],
			calls_rejected={k: v for k, v in (calls.get("rejected") or {}).items() if v},
			log=batch.import_log,
			pages_fetched=batch.pages_fetched,
			preview_seconds=round(preview_seconds, 2),
			import_seconds=round(total_seconds - preview_seconds, 2),
			total_seconds=round(total_seconds, 2),
			rss_mb_before=round(rss_before, 1),
			peak_mb_preview=round(preview_peak, 1),
			peak_mb=round(peak, 1),
			cpu_preview=preview_cpu,
			cpu_total=total_cpu,
		)
		print(
			f"xero import: {results['invoices']} invoices, {results['groups']} groups -> "
			f"{results['orders_created']} orders ({results['status']}"
			f"{': ' + results['error'] if results['error'] else ''})\n"
			f"  Xero calls: {results['xero_calls']} ({preview_calls} in the preview, {results['pages_fetched']} pages; "
			f"refused by Xero's limits: {results['calls_rejected']}) {results['calls_by_endpoint']}\n"
			f"  preview {results['preview_seconds']} s + import {results['import_seconds']} s = "
			f"{results['total_seconds']} s end to end (Xero's rate limits {'on' if rate_limits else 'off'})\n"
			f"  CPU seconds, preview + import: this process {total_cpu.get('app')} "
			f"(preview {preview_cpu.get('app')}), MariaDB {total_cpu.get('mariadb')} "
			f"(preview {preview_cpu.get('mariadb')})\n"
			f"  worker's peak memory {results['peak_mb']} MB (preview {results['peak_mb_preview']} MB; "
			f"{results['rss_mb_before']} MB resident before the jobs)\n"
			f"  the batch's log: {(batch.import_log or '').replace(chr(10), '; ')}"
		)
		results.update(page_timings(batch.name))
		print(
			f"preview pages of {PAGE} groups: {results['pages_timed']} pages, p50 {results['page_ms_p50']} ms, "
			f"max {results['page_ms_max']} ms ({results['page_slowest']})"
		)
		results.update(cent_check(batch.name, sandbox.url))
		print(
			f"to the cent: {results['invoices_differing']} of {results['invoices_checked']} imported invoices differ "
			f"from the sandbox by any amount; {results['orders_differing']} of {results['orders_checked']} orders "
			f"differ from the sum of their invoices; {results['orders_over_invoiced']} orders with a negative "
			f"outstanding or over 100 % invoiced; {results['refresh_changed']} of {results['refresh_checked']} "
			f"sampled orders changed by refresh_order_invoicing (target: 0, 0, 0, 0); "
			f"{results['invoices_left_out']} voided or deleted invoices left out of their orders"
		)
		for example in results["cent_examples"]:
			print(f"  {example}")
		if baseline:
			results.update(data_import_baseline(batch.name))
			ratio = results["data_import_seconds"] / max(results["total_seconds"], 0.001)
			results["speedup"] = round(ratio, 1)
			print(
				f"data import baseline: {results['data_import_orders']} orders from CSV in "
				f"{results['data_import_seconds']} s -> the bulk import (preview + import) is "
				f"{results['speedup']}x faster (target >= {TARGETS['speedup']}x)"
			)
	finally:
		cleanup(batch.name if batch else None)
		child.kill()
	return results


def page_timings(batch_name: str) -> dict:
	"""Pages of the stored preview as the form asks for them: every view's first, middle and last page, and
	searches by a reference, a contact and an invoice number (in the middle of the preview)."""
	import frappe

	from xero_sales_orders.api import importing as api
	from xero_sales_orders.services.import_groups import VIEWS

	timings = []

	def timed(label, **args):
		started = time.perf_counter()
		answer = api.groups(batch_name, page_length=PAGE, **args)
		timings.append(((time.perf_counter() - started) * 1000, label))
		return answer

	for view in VIEWS:
		total = timed(f"{view} first", view=view)["total"]
		for label, start in (("middle", total // 2), ("last", max(0, total - PAGE))):
			timed(f"{view} {label}", view=view, start=start)
	middle = api.groups(batch_name, start=frappe.db.count("Xero Import Group", {"batch": batch_name}) // 2)
	row = middle["rows"][0]
	timed("search reference", search=row["key"])
	timed("search contact", search=row["contact"][:8])
	timed("search invoice number", search=row["invoices"][-1]["number"])
	timed("search nothing matches", search="no such reference anywhere")
	timed("search flagged by contact", view="flagged", search=row["contact"][:5])
	ms = sorted(t for t, _ in timings)
	slowest = max(timings)
	return {
		"pages_timed": len(timings),
		"page_ms_p50": round(ms[len(ms) // 2], 1),
		"page_ms_max": round(slowest[0], 1),
		"page_slowest": slowest[1],
	}


def _money(value):
	from decimal import Decimal

	return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _within_limits(call):
	"""The check reads the sandbox as the app does, within Xero's minute limit: it waits when it must."""
	from xero_sales_orders.xero.errors import XeroRateLimitError

	while True:
		try:
			return call()
		except XeroRateLimitError as e:
			time.sleep(min(max(e.retry_after or 5, 1), 60))


def cent_check(batch_name: str, sandbox_url: str, sample: int = 200) -> dict:
	"""Every imported invoice against the sandbox's, every order against its invoices, to the cent; a page
	of the sandbox's invoices at a time."""
	import frappe

	from xero_sales_orders.core.order_status import DEAD_INVOICE_STATUSES
	from xero_sales_orders.services.order_invoicing import refresh_order_invoicing
	from xero_sales_orders.services.xero_clients import client_for

	batch = frappe.get_doc("Xero Import Batch", batch_name)
	examples, differing, checked, left_out, imported_ids = [], 0, 0, 0, set()
	client = client_for(batch.connection, batch.tenant_id)
	try:
		page = 1
		while True:
			remote, pagination = _within_limits(
				lambda page=page: client.invoice_page(
					page, statuses=["DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"]
				)
			)
			if not remote:
				break
			by_id = {i["InvoiceID"]: i for i in remote}
			rows = frappe.get_all(
				"Xero Invoice",
				{"import_batch": batch_name, "xero_invoice_id": ["in", list(by_id)]},
				["name", "xero_invoice_id", "subtotal", "total_tax", "total"],
			)
			lines = {}
			if rows:
				for parent, amount, tax in frappe.db.sql(
					"""select parent, line_amount, tax_amount from `tabXero Invoice Item`
					where parent in %s order by parent, idx""",
					[[r.name for r in rows]],
				):
					lines.setdefault(parent, []).append((_money(amount), _money(tax)))
			for inv in rows:
				checked += 1
				imported_ids.add(inv.xero_invoice_id)
				theirs = by_id[inv.xero_invoice_id]
				ours = (_money(inv.subtotal), _money(inv.total_tax), _money(inv.total))
				expected = tuple(_money(theirs[k]) for k in ("SubTotal", "TotalTax", "Total"))
				remote_lines = [
					(_money(line.get("LineAmount")), _money(line.get("TaxAmount")))
					for line in theirs.get("LineItems", [])
					if line.get("Quantity") or line.get("LineAmount")
				]
				if expected != ours or remote_lines != lines.get(inv.name, []):
					differing += 1
					if len(examples) < 5:
						examples.append(f"invoice {inv.name}: app {ours}, sandbox {expected}")
			left_out += sum(
				1
				for i in remote
				if i.get("Reference")
				and i["InvoiceID"] not in imported_ids
				and i["Status"] in ("VOIDED", "DELETED")
			)
			if page >= (pagination.get("pageCount") or page):
				break
			page += 1
	finally:
		client.close()
	orders = frappe.db.sql(
		"""select o.name, o.subtotal, o.total_tax, o.grand_total, o.outstanding_amount, o.per_invoiced,
			o.status, coalesce(sum(i.subtotal), 0), coalesce(sum(i.total_tax), 0), coalesce(sum(i.total), 0)
		from `tabXero Sales Order` o
		left join `tabXero Invoice` i on i.sales_order = o.name and i.status not in %s
		where o.import_batch = %s group by o.name""",
		(list(DEAD_INVOICE_STATUSES), batch_name),
	)
	orders_differing = over = 0
	for name, subtotal, tax, total, outstanding, per, status, s_sub, s_tax, s_total in orders:
		ours = (_money(subtotal), _money(tax), _money(total))
		sums = (_money(s_sub), _money(s_tax), _money(s_total))
		if sums != ours or (status == "Fully Invoiced" and _money(outstanding)):
			orders_differing += 1
			if len(examples) < 10:
				examples.append(f"order {name}: {ours} vs its invoices {sums}, {status}")
		if _money(outstanding) < 0 or (per or 0) > 100:
			over += 1
	changed = 0
	names = random.sample([o[0] for o in orders], min(sample, len(orders)))
	fields = ["invoiced_amount", "outstanding_amount", "per_invoiced", "paid_amount", "status"]
	for name in names:
		before = frappe.db.get_value("Xero Sales Order", name, fields, as_dict=True)
		items = frappe.get_all(
			"Xero Sales Order Item",
			{"parent": name},
			["invoiced_qty", "invoiced_amount", "invoiced_tax", "outstanding_qty", "outstanding_amount"],
			order_by="idx",
		)
		refresh_order_invoicing(name, notify=False)
		after = frappe.db.get_value("Xero Sales Order", name, fields, as_dict=True)
		items_after = frappe.get_all(
			"Xero Sales Order Item",
			{"parent": name},
			["invoiced_qty", "invoiced_amount", "invoiced_tax", "outstanding_qty", "outstanding_amount"],
			order_by="idx",
		)
		if before != after or items != items_after:
			changed += 1
			if len(examples) < 12:
				examples.append(f"refresh changed order {name}: {before} -> {after}")
	frappe.db.rollback()
	return {
		"invoices_checked": checked,
		"invoices_differing": differing,
		"orders_checked": len(orders),
		"orders_differing": orders_differing,
		"orders_over_invoiced": over,
		"refresh_checked": len(names),
		"refresh_changed": changed,
		"invoices_left_out": left_out,
		"cent_examples": examples,
	}


def data_import_baseline(batch_name: str) -> dict:
	"""The same orders through Frappe's Data Import: insert and submit each order from a CSV."""
	import frappe
	from frappe.core.doctype.data_import.data_import import import_file

	orders = frappe.get_all(
		"Xero Sales Order", {"import_batch": batch_name}, ["name", *CSV_FIELDS], order_by="name"
	)
	lines = {}
	for row in frappe.get_all(
		"Xero Sales Order Item",
		{"parent": ["in", [o.name for o in orders]]},
		["parent", *CSV_LINE_FIELDS],
		order_by="parent, idx",
	):
		lines.setdefault(row.parent, []).append(row)
	path = os.path.join(tempfile.mkdtemp(), "xero-orders.csv")
	with open(path, "w", newline="") as f:
		writer = csv.writer(f)
		writer.writerow(CSV_FIELDS + [f"items.{c}" for c in CSV_LINE_FIELDS])
		for order in orders:
			for index, line in enumerate(lines[order.name]):
				head = [order[c] if c != "remarks" else f"xso-bench {batch_name}" for c in CSV_FIELDS]
				writer.writerow(
					(head if index == 0 else [""] * len(CSV_FIELDS)) + [line[c] for c in CSV_LINE_FIELDS]
				)
	started = time.perf_counter()
	# console=True makes import_file read the path itself (otherwise it wants a File record); its
	# per-row progress output is dropped.
	with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
		import_file("Xero Sales Order", path, "Insert", submit_after_import=True, console=True)
	frappe.db.commit()
	seconds = time.perf_counter() - started
	imported = frappe.db.count("Xero Sales Order", {"remarks": f"xso-bench {batch_name}", "docstatus": 1})
	return {"data_import_seconds": round(seconds, 2), "data_import_orders": imported}


def cleanup(batch_name: str | None) -> None:
	import frappe

	from xero_sales_orders.services.import_settings import BATCH

	frappe.db.rollback()
	if batch_name:
		orders = frappe.get_all("Xero Sales Order", {"import_batch": batch_name}, pluck="name")
		orders += frappe.get_all("Xero Sales Order", {"remarks": f"xso-bench {batch_name}"}, pluck="name")
		invoices = frappe.get_all("Xero Invoice", {"import_batch": batch_name}, pluck="name")
		for doctype, names in (("Xero Invoice", invoices), ("Xero Sales Order", orders)):
			for start in range(0, len(names), 1000):
				chunk = names[start : start + 1000]
				frappe.db.delete(f"{doctype} Item", {"parent": ["in", chunk]})
				frappe.db.delete(doctype, {"name": ["in", chunk]})
			frappe.db.commit()
		frappe.delete_doc(BATCH, batch_name, force=True, ignore_permissions=True)
	for doctype in ("Xero Contact", "Xero Item", "Xero Tax Rate", "Xero Account"):
		frappe.db.delete(doctype, {"connection": CONNECTION})
	frappe.db.commit()


# ---- the scales -----------------------------------------------------------------------------------------


def run_in_child(args, invoices: int, baseline: bool) -> dict:
	"""One size in a process of its own; its figures come back as JSON."""
	out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
	command = [
		sys.executable,
		os.path.abspath(__file__),
		"--site",
		args.site,
		"--invoices",
		str(invoices),
		"--scales",
		"1",
		"--json",
		out,
	]
	if not baseline:
		command.append("--no-baseline")
	if args.no_rate_limits:
		command.append("--no-rate-limits")
	print(f"\n=== {invoices} invoices ===", flush=True)
	subprocess.run(command, check=False)
	with open(out) as f:
		return json.load(f)


def table(figures: list[dict]) -> None:
	print("\ninvoices  groups  calls  preview s  import s  total s  s/1k inv  peak MB  page max ms  cents ok")
	for r in figures:
		ok = not (r.get("invoices_differing") or r.get("orders_differing") or r.get("refresh_changed"))
		print(
			f"{r.get('invoices', 0):>8}  {r.get('groups', 0):>6}  {r.get('xero_calls', 0):>5}  "
			f"{r.get('preview_seconds', 0):>9}  {r.get('import_seconds', 0):>8}  {r.get('total_seconds', 0):>7}  "
			f"{r.get('total_seconds', 0) * 1000 / max(r.get('invoices', 1), 1):>8.2f}  "
			f"{r.get('peak_mb', 0):>7}  {r.get('page_ms_max', 0):>11}  {'yes' if ok else 'NO':>8}"
		)
	base = next((r for r in figures if "speedup" in r), None)
	if base:
		print(
			f"Data Import of the base size's {base['data_import_orders']} orders: {base['data_import_seconds']} s, "
			f"{base['speedup']}x the bulk import's preview + import (target >= {TARGETS['speedup']}x)"
		)


def passed(figures: list[dict]) -> bool:
	ok = True
	for r in figures:
		pages_needed = -(-r.get("invoices", 0) // 1000)
		ok &= not (
			r.get("invoices_differing", 1) or r.get("orders_differing", 1) or r.get("refresh_changed", 1)
		)
		ok &= r.get("xero_calls", 10**6) <= pages_needed + 1
		ok &= (
			r.get("peak_mb", 10**6) <= TARGETS["peak_mb"]
			and r.get("page_ms_max", 10**6) <= TARGETS["page_ms"]
		)
		ok &= r.get("total_seconds", 10**6) <= TARGETS["seconds_100k"]
		if "speedup" in r:
			ok &= r["speedup"] >= TARGETS["speedup"]
	return ok


def main() -> None:
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--site", required=True)
	parser.add_argument("--invoices", type=int, default=10000, help="the base size (1x)")
	parser.add_argument("--scales", default="1,3,10", help="multiples of the base size, each run on its own")
	parser.add_argument(
		"--no-baseline", action="store_true", help="skip Frappe's Data Import at the base size"
	)
	parser.add_argument("--no-rate-limits", action="store_true", help="a sandbox without Xero's rate limits")
	parser.add_argument("--json", help=argparse.SUPPRESS)
	args = parser.parse_args()
	scales = [int(s) for s in args.scales.split(",") if s.strip()]
	if scales != [1]:
		figures = [
			run_in_child(args, args.invoices * k, baseline=k == 1 and not args.no_baseline) for k in scales
		]
		table(figures)
		sys.exit(0 if passed(figures) else 1)
	import frappe

	frappe.init(site=args.site, sites_path=os.getcwd())
	frappe.connect()
	results = {}
	try:
		results = run(args.invoices, baseline=not args.no_baseline, rate_limits=not args.no_rate_limits)
	finally:
		frappe.destroy()
		if args.json:
			with open(args.json, "w") as f:
				json.dump(results, f, default=str)
	if not args.json:
		table([results])
		sys.exit(0 if passed([results]) else 1)


if __name__ == "__main__":
	main()
