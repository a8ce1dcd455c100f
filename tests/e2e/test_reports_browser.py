"""The workspace and the three reports in a real browser, their numbers checked against the orders."""

import json
import uuid

import pytest

from .conftest import BASE_URL, ORDER, needs_tool, server_message
from .test_browser import page, shot  # noqa: F401 (the logged-in browser page fixture)

LINES = [
	{"item_code": "WIDGET", "description": "Widget", "qty": 10, "unit_price": 12.5, "tax_rate": 15},
	{"item_code": "GADGET", "description": "Gadget", "qty": 4, "unit_price": 25, "tax_rate": 15},
]


@pytest.fixture(scope="module")
def seeded(admin):
	"""A customer with one order of which 4 of 10 widgets are invoiced (58.75 of 258.75 with tax)."""
	tag = uuid.uuid4().hex[:6]
	customer = admin.create_contact(f"Report Browser {tag}")
	order = admin.create_order(LINES, customer=customer, po_number=f"RPT-{tag}")
	widget = next(row for row in order["items"] if row["item_code"] == "WIDGET")
	r = admin.method(
		"xero_sales_orders.api.orders.create_invoice",
		sales_order=order["name"],
		lines=[{"item": widget["name"], "qty": 4}],
	)
	assert r.status_code == 200, r.text
	return {"customer": customer, "order": admin.order(order["name"]), "po": order["po_number"]}


def report_rows(browser, report, **filters):
	"""Opens a report with filters as a user would and answers the rows the browser shows (without the totals row)."""
	query = "&".join(f"{key}={value}" for key, value in filters.items())
	browser.goto(f"{BASE_URL}/app/query-report/{report}?{query}")
	# Wait for the run with the filters applied: a Link filter is applied after a first, unfiltered run.
	browser.wait_for_function(
		"""([report, filters]) => {
			const q = window.frappe && frappe.query_report;
			if (!q || q.report_name !== report || !q.data || !q.data.length) return false;
			const rows = q.raw_data.add_total_row ? q.data.slice(0, -1) : q.data;
			return Object.entries(filters).every(([key, value]) =>
				q.get_filter_value(key) === value && rows.every((row) => !(key in row) || row[key] === value));
		}""",
		arg=[report, filters],
		# A cold server runs the first, unfiltered report over every order before the filtered one.
		timeout=60_000,
	)
	# Earlier reports stay in the DOM, hidden: only the visible table is this report's.
	browser.locator(".dt-scrollable .dt-row >> visible=true").first.wait_for()
	return browser.evaluate(
		"""() => frappe.query_report.raw_data.add_total_row
		? frappe.query_report.data.slice(0, -1) : frappe.query_report.data"""
	)


def test_order_invoicing_status(page, seeded):  # noqa: F811
	rows = report_rows(page, "Order Invoicing Status", po_number=seeded["po"])
	shot(page, "report-order-invoicing-status")
	widget = next(r for r in rows if r["item_code"] == "WIDGET")
	gadget = next(r for r in rows if r["item_code"] == "GADGET")
	assert (widget["ordered_qty"], widget["invoiced_qty"], widget["outstanding_qty"]) == (10, 4, 6)
	assert (widget["ordered_amount"], widget["invoiced_amount"], widget["outstanding_amount"]) == (
		125,
		50,
		75,
	)
	assert (gadget["invoiced_qty"], gadget["outstanding_amount"]) == (0, 100)
	summary = page.locator(".report-summary").inner_text()
	assert "Outstanding (NZD)" in summary and "175.00" in summary


def test_uninvoiced_orders(page, seeded):  # noqa: F811
	rows = report_rows(page, "Uninvoiced Orders", po_number=seeded["po"])
	shot(page, "report-uninvoiced-orders")
	order = seeded["order"]
	assert [r["sales_order"] for r in rows] == [order["name"]]
	assert rows[0]["outstanding_amount"] == order["outstanding_amount"] == 201.25
	assert rows[0]["age_0_30"] == 201.25
	page.locator(".dt-cell__content >> visible=true", has_text="201.25").first.wait_for()


def test_order_book_by_customer(page, seeded):  # noqa: F811
	# The PO filter (a Data field) applies at once; a Link filter from the URL is applied after a first run.
	rows = report_rows(page, "Order Book by Customer", po_number=seeded["po"])
	shot(page, "report-order-book-by-customer")
	order = seeded["order"]
	assert [r["customer"] for r in rows] == [seeded["customer"]]
	row = rows[0]
	assert (row["orders"], row["ordered"], row["invoiced"], row["outstanding"], row["paid"]) == (
		1,
		order["grand_total"],
		order["invoiced_amount"],
		order["outstanding_amount"],
		order["paid_amount"],
	)


def card_text(browser, label):
	card = browser.locator(".widget.number-widget-box", has_text=label).first
	card.locator(".number").wait_for()
	browser.wait_for_function(
		"(el) => !el.querySelector('.number-card-loading')", arg=card.element_handle(), timeout=30_000
	)
	return card.locator(".number").inner_text().strip()


def test_workspace_cards_and_charts(page, admin, seeded):  # noqa: F811
	def count(status):
		r = admin.get(
			"/api/method/frappe.client.get_count",
			params={"doctype": ORDER, "filters": json.dumps({"docstatus": 1, "status": status})},
		)
		return r.json()["message"]

	r = admin.get(
		admin.resource(ORDER),
		params={
			"fields": json.dumps(["currency", "sum(outstanding_amount) as outstanding"]),
			"filters": json.dumps([["docstatus", "=", 1], ["status", "in", ["Open", "Partially Invoiced"]]]),
			"group_by": "currency",
		},
	)
	outstanding = {row["currency"]: row["outstanding"] for row in r.json()["data"]}
	page.goto(f"{BASE_URL}/app/xero-sales-orders")
	assert int(card_text(page, "Open Orders").replace(",", "")) == count("Open")
	assert int(card_text(page, "Partially Invoiced").replace(",", "")) == count("Partially Invoiced")
	text = card_text(page, "Outstanding to Invoice")
	assert f"NZD {outstanding['NZD']:,.2f}" in text, (text, outstanding)
	for chart in ("Outstanding by Customer", "Invoiced per Month"):
		# Bars are drawn once the chart's data has arrived; months with nothing invoiced draw empty bars.
		page.locator(".widget.dashboard-widget-box", has_text=chart).locator(
			'.dataset-units rect:not([height="0"])'
		).first.wait_for()
	shot(page, "workspace")


def test_user_without_app_roles_gets_403(make_user):
	outsider = make_user("xso-e2e-no-role@example.com", [])
	for method, payload in (
		("frappe.desk.query_report.run", {"report_name": "Order Book by Customer", "filters": {}}),
		("xero_sales_orders.api.dashboard.outstanding_amount_card", {}),
		("xero_sales_orders.api.dashboard.invoiced_per_month", {}),
		(
			"frappe.desk.doctype.number_card.number_card.get_result",
			{"doc": json.dumps({"document_type": ORDER, "function": "Count"}), "filters": "[]"},
		),
	):
		r = outsider.method(method, **payload)
		assert r.status_code == 403, (method, r.status_code, r.text[:300])


def test_bad_report_filter_is_a_message(admin):
	r = admin.method(
		"frappe.desk.query_report.run", report_name="Uninvoiced Orders", filters={"from_date": "soon"}
	)
	assert r.status_code == 400, r.text
	assert "From Date must be a date" in server_message(r)
	assert "Traceback" not in r.text


def test_order_confirmation_print_view(page, seeded):  # noqa: F811
	order = seeded["order"]
	page.goto(
		f"{BASE_URL}/printview?doctype={ORDER}&name={order['name']}"
		"&format=Xero Sales Order Confirmation&trigger_print=0"
	)
	text = page.locator(".print-format").inner_text()
	shot(page, "print-order-confirmation")
	for expected in ("Order Confirmation", seeded["po"], "WIDGET", "GADGET", "258.75", "Total Tax", "33.75"):
		assert expected in text, expected


def test_order_confirmation_pdf(admin, seeded):
	"""Frappe renders the PDF with wkhtmltopdf; no browser involved."""
	needs_tool("wkhtmltopdf", "Frappe renders PDFs with it")
	order = seeded["order"]
	r = admin.get(
		"/api/method/frappe.utils.print_format.download_pdf",
		params={"doctype": ORDER, "name": order["name"], "format": "Xero Sales Order Confirmation"},
	)
	assert r.status_code == 200 and r.content.startswith(b"%PDF"), r.text[:300]
