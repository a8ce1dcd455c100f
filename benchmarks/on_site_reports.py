"""Times the reports' first page and the workspace's cards and charts inside a site (see benchmarks/reports.py).

cd ~/frappe-bench/sites && ../env/bin/python -m xso_devkit.execute --site SITE benchmarks.on_site_reports.measure
"""

import json
import time
from contextlib import contextmanager

import frappe
from frappe.desk import reportview
from frappe.desk.doctype.number_card.number_card import get_result
from frappe.desk.query_report import run

from xero_sales_orders.api import dashboard

ORDER = "Xero Sales Order"
REPORTS = ("Order Invoicing Status", "Uninvoiced Orders", "Order Book by Customer")
RUNS = 3


@contextmanager
def counting_queries():
	"""Counts every statement sent through frappe.db.sql (frappe.qb and get_list go through it too)."""
	counter = {"queries": 0}
	original = frappe.db.sql

	def sql(*args, **kwargs):
		counter["queries"] += 1
		return original(*args, **kwargs)

	frappe.db.sql = sql
	try:
		yield counter
	finally:
		frappe.db.sql = original


def timed(call) -> dict:
	"""Seconds of the first call after clearing caches (cold) and the best of the next ones (warm), with query counts."""
	frappe.clear_cache()
	with counting_queries() as counter:
		start = time.perf_counter()
		call()
		cold = time.perf_counter() - start
	cold_queries = counter["queries"]
	warm = []
	for _ in range(RUNS):
		with counting_queries() as counter:
			start = time.perf_counter()
			call()
			warm.append(time.perf_counter() - start)
	return {
		"cold_s": round(cold, 3),
		"warm_s": round(min(warm), 3),
		"queries_cold": cold_queries,
		"queries_warm": counter["queries"],
	}


def workspace_cards() -> None:
	for card in frappe.get_all("Number Card", {"module": "Xero Sales Orders"}, pluck="name"):
		doc = frappe.get_doc("Number Card", card)
		if doc.type == "Custom":
			frappe.get_attr(doc.method)(filters=None)
		else:
			get_result(doc.as_dict(), doc.filters_json)


def workspace_charts() -> None:
	dashboard.outstanding_by_customer()
	dashboard.invoiced_per_month()


def order_list_args() -> dict:
	"""What the desk's list view sends for the order list with its default filters (none): Frappe's standard
	fields, the in-list-view fields, the title, xero_sales_order_list.js's add_fields, newest first, 20 rows."""
	meta = frappe.get_meta(ORDER)
	standard = [
		"name", "owner", "creation", "modified", "modified_by", "_user_tags", "_comments", "_assign",
		"_liked_by", "docstatus", "idx",
	]  # fmt: skip
	in_list = [df.fieldname for df in meta.fields if df.in_list_view]
	fields = dict.fromkeys(
		[*standard, *in_list, meta.title_field, "status", "per_invoiced", "outstanding_amount", "currency"]
	)
	return {
		"doctype": ORDER,
		"fields": json.dumps([f"`tab{ORDER}`.`{f}`" for f in fields]),
		"filters": "[]",
		"order_by": f"`tab{ORDER}`.`{meta.sort_field}` {meta.sort_order.lower()}",
		"start": 0,
		"page_length": 20,
		"view": "List",
		"group_by": None,
		"with_comment_count": 1,
	}


def order_list() -> int:
	"""frappe.desk.reportview.get for the list's first page, then its count (get_count, limit 1001), as the
	desk's list view makes them; returns the rows."""
	frappe.local.form_dict = frappe._dict(order_list_args())
	rows = reportview.get()
	frappe.local.form_dict = frappe._dict(
		doctype=ORDER, filters="[]", fields="[]", distinct="false", limit=1001
	)
	reportview.get_count()
	return len(rows["values"])


RESTRICTED_USER = "xso-bench-restricted@example.com"


def restricted_user(customers: int = 20) -> str:
	"""A Xero Sales User allowed (by user permissions) the first ``customers`` seeded customers only, so that
	every report, card and chart carries a permission condition in its SQL; returns the user."""
	if not frappe.db.exists("User", RESTRICTED_USER):
		frappe.get_doc(
			{"doctype": "User", "email": RESTRICTED_USER, "first_name": "Restricted", "send_welcome_email": 0}
		).insert(ignore_permissions=True)
	user = frappe.get_doc("User", RESTRICTED_USER)
	user.add_roles("Xero Sales User")
	frappe.db.delete("User Permission", {"user": RESTRICTED_USER})
	for contact in frappe.get_all(
		"Xero Contact",
		{"contact_name": ["like", "Seed Customer %"]},
		pluck="name",
		order_by="contact_name",
		limit=customers,
	):
		frappe.get_doc(
			{
				"doctype": "User Permission",
				"user": RESTRICTED_USER,
				"allow": "Xero Contact",
				"for_value": contact,
			}
		).insert(ignore_permissions=True)
	frappe.db.commit()
	return RESTRICTED_USER


def measure(user: str = "Administrator") -> str:
	frappe.set_user(user)
	figures = {
		"orders": frappe.db.count("Xero Sales Order", {"docstatus": 1}),
		"lines": frappe.db.count("Xero Sales Order Item"),
		"invoices": frappe.db.count("Xero Invoice"),
	}
	results = {}
	for report in REPORTS:
		results[report] = timed(lambda report=report: run(report, {}))
		results[report]["rows"] = len(run(report, {})["result"])
	results["Workspace cards (5)"] = timed(workspace_cards)
	results["Workspace charts (2)"] = timed(workspace_charts)
	results["Order list (20 + count)"] = timed(order_list)
	results["Order list (20 + count)"]["rows"] = order_list()
	return json.dumps({"data": figures, "results": results})
