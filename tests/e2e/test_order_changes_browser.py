"""A real browser: "Update Items" on a partly invoiced order in the desk (a quantity changed and a line added,
then a quantity below what is invoiced refused with the reason), and a deposit invoice from its dialog."""

import uuid

from .conftest import BASE_URL, server_message
from .test_browser import fill_grid_cell, page, shot  # noqa: F401  (page is the logged-in browser fixture)

API = "xero_sales_orders.api.orders"


def open_update_items(page):  # noqa: F811
	page.locator(".page-actions button", has_text="Update Items").click()
	dialog = page.locator(".modal.show")
	dialog.locator(".modal-title", has_text="Update Items").wait_for()
	return dialog


def test_update_items_in_the_desk(page, admin):  # noqa: F811
	order = admin.create_order(
		[{"description": "Browser chair", "qty": 8, "unit_price": 12.5, "tax_rate": 15}],
		po_number=f"UPD-{uuid.uuid4().hex[:6]}",
	)
	line = order["items"][0]["name"]
	r = admin.method(f"{API}.create_invoice", sales_order=order["name"], lines=[{"item": line, "qty": 3}])
	assert r.status_code == 200, r.text

	# Shown with a failing test's output: what the server answered the dialog.
	page.on(
		"response",
		lambda r: (
			"update_items" in r.url
			and print(f"update_items {r.status}: {r.request.post_data} -> {r.text()[:2000]}")
		),
	)
	page.goto(f"{BASE_URL}/app/xero-sales-order/{order['name']}")
	page.locator(".indicator-pill", has_text="Partially Invoiced").first.wait_for()
	dialog = open_update_items(page)
	fill_grid_cell(page, ".modal.show", 1, "qty", "10")
	page.wait_for_function(
		"() => cur_dialog && (cur_dialog.get_value('lines') || []).some((row) => flt(row.qty) === 10)"
	)
	dialog.locator(".grid-add-row").click()
	fill_grid_cell(page, ".modal.show", 2, "description", "Browser cushion")
	fill_grid_cell(page, ".modal.show", 2, "qty", "4")
	fill_grid_cell(page, ".modal.show", 2, "unit_price", "7.5")
	page.wait_for_function(
		"() => cur_dialog && (cur_dialog.get_value('lines') || []).some((row) => flt(row.unit_price) === 7.5)"
	)
	shot(page, "update-items-dialog")
	dialog.locator(".btn-primary", has_text="Update").click()
	page.locator(".modal.show .modal-title", has_text="Update Items").wait_for(state="detached")
	page.locator(".frappe-control[data-fieldname='items'] .grid-row[data-idx='2']").wait_for()
	shot(page, "order-items-updated")

	changed = admin.order(order["name"])
	assert [(i["description"], i["qty"]) for i in changed["items"]] == [
		("Browser chair", 10),
		("Browser cushion", 4),
	]
	assert changed["items"][0]["outstanding_qty"] == 7
	assert changed["status"] == "Partially Invoiced"
	r = admin.get(
		"/api/method/frappe.desk.form.load.getdoc",
		params={"doctype": "Xero Sales Order", "name": order["name"]},
	)
	assert any("Qty 8 → 10" in c["content"] for c in r.json()["docinfo"]["info_logs"])

	# Below what is invoiced: the dialog shows the reason and nothing changes.
	open_update_items(page)
	fill_grid_cell(page, ".modal.show", 1, "qty", "2")
	page.wait_for_function(
		"() => cur_dialog && (cur_dialog.get_value('lines') || []).some((row) => flt(row.qty) === 2)"
	)
	page.locator(".modal.show .btn-primary", has_text="Update").click()
	page.locator(".modal.show .msgprint", has_text="3 of it is invoiced already").wait_for()
	shot(page, "update-items-refused")
	assert admin.order(order["name"])["items"][0]["qty"] == 10


def test_deposit_dialog_refuses_more_than_the_order(page, admin):  # noqa: F811
	order = admin.create_order([{"description": "Browser desk", "qty": 1, "unit_price": 100, "tax_rate": 15}])
	page.goto(f"{BASE_URL}/app/xero-sales-order/{order['name']}")
	page.locator(".page-actions button", has_text="Deposit Invoice").click()
	dialog = page.locator(".modal.show")
	dialog.locator(".modal-title", has_text="Deposit Invoice").wait_for()
	dialog.locator('.frappe-control[data-fieldname="percent"] input').fill("150")
	dialog.locator(".btn-primary", has_text="Create Deposit Invoice").click()
	page.locator(".modal.show .msgprint", has_text="above the order's total").wait_for()
	shot(page, "deposit-refused")
	r = admin.get(
		admin.resource("Xero Invoice"), params={"filters": f'[["sales_order","=","{order["name"]}"]]'}
	)
	assert r.json()["data"] == [], server_message(r)
