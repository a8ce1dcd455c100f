"""Bulk import of 10,000 Xero invoices in 2,500 groups, beside Frappe's own Data Import of the same orders.

    cd /root/frappe-bench/sites && ../env/bin/python ../apps/xero_sales_orders/benchmarks/importing.py \\
        --site xso-import.localhost [--invoices 10000] [--groups 2500] [--no-baseline]

or ``bench --site SITE execute benchmarks.importing.run``. In one run it:

1. starts a Xero sandbox in a child process (so the app's memory is measured alone) with N seeded invoices,
   regrouped into G references of N/G invoices each (``PO-8xxxxx``, ``Order PO-8xxxxx part 2``; one contact
   and one tax treatment per group, lines re-priced by the sandbox's own arithmetic);
2. connects and syncs a Xero Connection (setup, not measured), then times Preview + Import of a batch
   grouped by the pattern ``PO-(\\d+)``, counting the Xero calls with the sandbox's ``/_sandbox/calls``;
3. checks every figure to the cent (not timed): each imported invoice against the sandbox's own invoice
   (SubTotal, TotalTax, Total and its lines' LineAmount and TaxAmount), each order against the sum of its
   invoices, and no order with a negative outstanding amount or more than 100 % invoiced
   (``--cents-only`` stops after this check);
4. writes the created orders (header and lines) to a CSV and imports it with Frappe's Data Import
   (insert + submit, as a user would do without this feature), timed, and prints the ratio;
5. deletes everything it created.
"""

import argparse
import contextlib
import csv
import multiprocessing
import os
import resource
import sys
import tempfile
import time

CONNECTION = "Import Benchmark"
PATTERN = r"PO-(\d+)"
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


def peak_rss_mb() -> float:
	return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def serve_sandbox(invoices: int, groups: int, port_queue) -> None:
	from xero_sandbox import SandboxServer
	from xso_devkit.sandbox import CLIENT_ID, CLIENT_SECRET, WEBHOOK_KEY

	server = SandboxServer(
		port=0,
		tenants=1,
		seed_invoices=invoices,
		rate_limits=False,
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


# ---- the measured runs --------------------------------------------------------------------------------


class Url:
	def __init__(self, url):
		self.url = url


def run(invoices: int = 10000, groups: int = 2500, baseline: bool = True) -> dict:
	import frappe
	import requests

	from xero_sales_orders.services import import_runner
	from xero_sales_orders.services.import_settings import BATCH
	from xero_sales_orders.services.master_sync import sync_connection
	from xso_devkit.sandbox import connect

	context = multiprocessing.get_context("fork")
	urls = context.Queue()
	started = time.perf_counter()
	child = context.Process(target=serve_sandbox, args=(invoices, groups, urls), daemon=True)
	child.start()
	sandbox = Url(urls.get(timeout=120))
	print(f"sandbox with {invoices} invoices ready in {time.perf_counter() - started:.1f} s at {sandbox.url}")
	results = {}
	batch = None
	try:
		frappe.set_user("Administrator")
		connect(sandbox, CONNECTION)
		sync_connection(CONNECTION)
		frappe.db.commit()
		requests.delete(f"{sandbox.url}/_sandbox/calls", timeout=10)
		rss_before = peak_rss_mb()

		started = time.perf_counter()
		batch = frappe.get_doc(
			{
				"doctype": BATCH,
				"connection": CONNECTION,
				"from_date": frappe.utils.add_days(frappe.utils.today(), -400),
				"to_date": frappe.utils.add_days(frappe.utils.today(), 1),
				"grouping": "PO Pattern",
				"po_pattern": PATTERN,
			}
		).insert()
		frappe.db.commit()
		summary = import_runner.preview(batch.name)["summary"]
		preview_seconds = time.perf_counter() - started
		if os.environ.get("XSO_PROFILE"):
			import cProfile

			cProfile.runctx(
				"import_runner.start(batch.name, now=True)", globals(), locals(), os.environ["XSO_PROFILE"]
			)
		else:
			import_runner.start(batch.name, now=True)
		total_seconds = time.perf_counter() - started
		batch.reload()
		calls = requests.get(f"{sandbox.url}/_sandbox/calls", timeout=10).json()
		results.update(
			invoices=summary["invoices"],
			groups=summary["groups"],
			orders_created=batch.orders_created,
			status=batch.status,
			error=batch.error,
			xero_calls=calls["total"],
			calls_by_endpoint=calls["by_endpoint"],
			preview_seconds=round(preview_seconds, 2),
			import_seconds=round(total_seconds - preview_seconds, 2),
			total_seconds=round(total_seconds, 2),
			peak_rss_mb_before=round(rss_before, 1),
			peak_rss_mb=round(peak_rss_mb(), 1),
		)
		print(
			f"xero import: {results['invoices']} invoices, {results['groups']} groups -> "
			f"{results['orders_created']} orders ({results['status']}{': ' + results['error'] if results['error'] else ''})\n"
			f"  Xero calls: {results['xero_calls']} {results['calls_by_endpoint']}\n"
			f"  preview {results['preview_seconds']} s + import {results['import_seconds']} s = "
			f"{results['total_seconds']} s end to end\n"
			f"  peak RSS {results['peak_rss_mb']} MB (before the run {results['peak_rss_mb_before']} MB)"
		)
		results.update(cent_check(batch.name))
		print(
			f"to the cent: {results['invoices_differing']} of {results['invoices_checked']} imported invoices differ "
			f"from the sandbox by any amount; {results['orders_differing']} of {results['orders_checked']} orders "
			f"differ from the sum of their invoices ({results['invoices_of_orders_differing']} invoices in them); "
			f"{results['orders_over_invoiced']} orders with a negative outstanding or over 100 % invoiced "
			f"(target: 0, 0, 0); {results['invoices_left_out']} voided or deleted invoices left out of their orders"
		)
		for example in results["cent_examples"]:
			print(f"  {example}")
		if baseline:
			results.update(data_import_baseline(batch.name))
			ratio = results["data_import_seconds"] / max(results["total_seconds"], 0.001)
			results["speedup"] = round(ratio, 1)
			print(
				f"data import baseline: {results['data_import_orders']} orders from CSV in "
				f"{results['data_import_seconds']} s -> the bulk import is {results['speedup']}x faster "
				"(target >= 5x)"
			)
	finally:
		cleanup(batch.name if batch else None)
		child.kill()
	return results


def _money(value):
	from decimal import Decimal

	return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def cent_check(batch_name: str) -> dict:
	"""Every imported invoice against the sandbox's, every order against its invoices, to the cent."""
	import frappe

	from xero_sales_orders.core.order_status import is_live_invoice
	from xero_sales_orders.services.xero_clients import client_for

	batch = frappe.get_doc("Xero Import Batch", batch_name)
	client = client_for(batch.connection, batch.tenant_id)
	try:
		xero = {
			i["InvoiceID"]: i
			for i in client.invoices(
				statuses=["DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"]
			)
		}
	finally:
		client.close()
	invoices = frappe.get_all(
		"Xero Invoice",
		{"import_batch": batch_name},
		["name", "xero_invoice_id", "sales_order", "status", "subtotal", "total_tax", "total"],
	)
	lines = {}
	for row in frappe.db.sql(
		"""select item.parent, item.line_amount, item.tax_amount from `tabXero Invoice Item` item
		join `tabXero Invoice` inv on inv.name = item.parent where inv.import_batch = %s order by item.idx""",
		batch_name,
	):
		lines.setdefault(row[0], []).append((_money(row[1]), _money(row[2])))
	examples, differing = [], set()
	by_order = {}
	for inv in invoices:
		remote = xero.get(inv.xero_invoice_id)
		by_order.setdefault(inv.sales_order, []).append(inv)
		ours = (_money(inv.subtotal), _money(inv.total_tax), _money(inv.total))
		theirs = tuple(_money(remote[k]) for k in ("SubTotal", "TotalTax", "Total")) if remote else None
		remote_lines = [
			(_money(line.get("LineAmount")), _money(line.get("TaxAmount")))
			for line in (remote or {}).get("LineItems", [])
			if line.get("Quantity") or line.get("LineAmount")
		]
		if theirs != ours or remote_lines != lines.get(inv.name, []):
			differing.add(inv.name)
			if len(examples) < 5:
				examples.append(f"invoice {inv.name}: app {ours}, sandbox {theirs}")
	orders = frappe.get_all(
		"Xero Sales Order",
		{"import_batch": batch_name},
		["name", "subtotal", "total_tax", "grand_total", "outstanding_amount", "per_invoiced", "status"],
	)
	orders_differing, invoices_in_them, over = 0, 0, 0
	for order in orders:
		live = [i for i in by_order.get(order.name, []) if is_live_invoice(i.status)]
		sums = tuple(sum((_money(i[k]) for i in live), _money(0)) for k in ("subtotal", "total_tax", "total"))
		ours = (_money(order.subtotal), _money(order.total_tax), _money(order.grand_total))
		if sums != ours or (order.status == "Fully Invoiced" and _money(order.outstanding_amount)):
			orders_differing += 1
			invoices_in_them += len(by_order.get(order.name, []))
			if len(examples) < 10:
				examples.append(f"order {order.name}: {ours} vs its invoices {sums}, {order.status}")
		if _money(order.outstanding_amount) < 0 or (order.per_invoiced or 0) > 100:
			over += 1
	imported_ids = {i.xero_invoice_id for i in invoices}
	grouped = [i for i in xero.values() if i.get("Reference")]
	left_out = sum(
		1 for i in grouped if i["InvoiceID"] not in imported_ids and i["Status"] in ("VOIDED", "DELETED")
	)
	return {
		"invoices_checked": len(invoices),
		"invoices_differing": len(differing),
		"orders_checked": len(orders),
		"orders_differing": orders_differing,
		"invoices_of_orders_differing": invoices_in_them,
		"orders_over_invoiced": over,
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
		frappe.delete_doc(BATCH, batch_name, force=True, ignore_permissions=True)
	for doctype in ("Xero Contact", "Xero Item", "Xero Tax Rate", "Xero Account"):
		frappe.db.delete(doctype, {"connection": CONNECTION})
	frappe.db.commit()


def main() -> None:
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--site", required=True)
	parser.add_argument("--invoices", type=int, default=10000)
	parser.add_argument("--groups", type=int, default=2500)
	parser.add_argument("--no-baseline", action="store_true")
	parser.add_argument(
		"--cents-only", action="store_true", help="check the figures, skip the Data Import baseline"
	)
	args = parser.parse_args()
	import frappe

	frappe.init(site=args.site, sites_path=os.getcwd())
	frappe.connect()
	try:
		results = run(args.invoices, args.groups, baseline=not (args.no_baseline or args.cents_only))
	finally:
		frappe.destroy()
	exact = not (results.get("invoices_differing", 1) or results.get("orders_differing", 1))
	ok = exact and results.get("xero_calls", 99) <= 11 and results.get("total_seconds", 999) <= 60
	sys.exit(0 if ok else 1)


if __name__ == "__main__":
	main()
