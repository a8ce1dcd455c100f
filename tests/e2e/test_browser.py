"""A real browser (Debian's chromium driven by Playwright): create an order in the desk, submit it and
raise a partial invoice through the Create Invoice dialog."""

import os
import uuid

import pytest

from .conftest import ADMIN_PASSWORD, BASE_URL, needs_tool, order_in_xero_organisation, pay_in_xero_and_notify

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM_FLAGS = [
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
]


@pytest.fixture(scope="module")
def page():
	needs_tool("chromium", "the browser tests drive it")
	executable = os.environ.get("XSO_CHROMIUM", "/usr/bin/chromium")
	with sync_api.sync_playwright() as pw:
		browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
		context = browser.new_context(viewport={"width": 1400, "height": 1000})
		page = context.new_page()
		page.set_default_timeout(30_000)
		# Shown with a failing test's captured output: what the desk itself complained about.
		page.on("pageerror", lambda error: print(f"page error: {error}"))
		page.on("console", lambda m: m.type == "error" and print(f"console error: {m.text}"))
		page.goto(f"{BASE_URL}/login")
		page.fill("#login_email", "Administrator")
		page.fill("#login_password", ADMIN_PASSWORD)
		page.click(".btn-login")
		page.wait_for_url("**/app**")
		yield page
		context.close()
		browser.close()


def shot(page, name):
	folder = os.path.join(os.path.dirname(__file__), "..", "..", "test-results")
	os.makedirs(folder, exist_ok=True)
	page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def fill_grid_cell(page, grid, row, fieldname, value):
	cell = page.locator(f'{grid} .grid-body .grid-row[data-idx="{row}"] [data-fieldname="{fieldname}"]').first
	cell.click()
	field = cell.locator("input, textarea").first
	field.fill(str(value))
	field.press("Tab")


def invoice_qty_in_dialog(page, qty):
	"""Types the quantity on the Create Invoice dialog's first line and waits until the dialog holds it."""
	fill_grid_cell(page, ".modal.show", 1, "qty", str(qty))
	page.wait_for_function(
		"qty => cur_dialog && (cur_dialog.get_value('lines') || []).some((row) => flt(row.qty) === qty)",
		arg=qty,
	)


def pick_link(page, fieldname, text):
	"""Types into a Link field and picks the matching suggestion, as a user does."""
	field = page.locator(f'.frappe-control[data-fieldname="{fieldname}"] input').first
	field.click()
	field.fill(text)
	# The suggestion list is Awesomplete's listbox next to the input.
	page.locator('ul[role="listbox"] [role="option"]:visible', has_text=text).first.click()


def test_create_order_and_partial_invoice_in_the_desk(page, admin):
	po = f"BROWSER-{uuid.uuid4().hex[:6]}"
	customer_name = f"Browser Customer {po}"
	customer = admin.create_contact(customer_name)
	page.goto(f"{BASE_URL}/app/xero-sales-order/new")
	pick_link(page, "customer", customer_name)
	page.locator('.frappe-control[data-fieldname="po_number"] input').fill(po)
	page.locator('.frappe-control[data-fieldname="currency"] input').fill("NZD")
	grid = '.frappe-control[data-fieldname="items"]'
	page.locator(f"{grid} .grid-add-row").click()
	fill_grid_cell(page, grid, 1, "description", "Browser widget")
	fill_grid_cell(page, grid, 1, "qty", "8")
	fill_grid_cell(page, grid, 1, "unit_price", "12.5")
	fill_grid_cell(page, grid, 1, "tax_rate", "15")
	page.keyboard.press("Control+s")
	page.wait_for_url("**/app/xero-sales-order/XSO-*")
	page.locator(".indicator-pill", has_text="Draft").first.wait_for()

	page.locator(".page-actions .primary-action", has_text="Submit").click()
	page.locator(".modal.show .btn-primary", has_text="Yes").click()
	page.locator(".indicator-pill", has_text="Open").first.wait_for()
	name = page.url.rstrip("/").split("/")[-1]

	page.locator(".page-actions button", has_text="Create Invoice").click()
	dialog = page.locator(".modal.show")
	dialog.locator(".modal-title", has_text="Create Invoice").wait_for()
	invoice_qty_in_dialog(page, 3)
	shot(page, "create-invoice-dialog")
	dialog.locator(".btn-primary", has_text="Create Invoice").click()
	page.locator(".indicator-pill", has_text="Partially Invoiced").first.wait_for()
	page.locator(".xso-invoices", has_text=f"{name}-1").wait_for()
	shot(page, "order-partially-invoiced")

	order = admin.order(name)
	assert order["po_number"] == po
	assert order["customer"] == customer
	assert order["status"] == "Partially Invoiced"
	assert order["items"][0]["invoiced_qty"] == 3
	assert order["items"][0]["outstanding_qty"] == 5


def test_invoice_raised_in_the_desk_shows_xeros_status_after_a_signed_webhook(
	page, admin, sandbox_connection
):
	conn = sandbox_connection
	order = order_in_xero_organisation(admin, conn, qty=5)
	page.goto(f"{BASE_URL}/app/xero-sales-order/{order['name']}")
	page.locator(".page-actions button", has_text="Create Invoice").click()
	dialog = page.locator(".modal.show")
	dialog.locator(".modal-title", has_text="Create Invoice").wait_for()
	invoice_qty_in_dialog(page, 2)
	dialog.locator(".btn-primary", has_text="Create Invoice").click()
	row = page.locator(".xso-invoices tbody tr", has_text=f"{order['name']}-1")
	row.locator(".xso-xero-status", has_text="AUTHORISED").wait_for()
	assert row.locator("a", has_text="View in Xero").count() == 1

	invoice = admin.get(admin.resource("Xero Invoice", f"{order['name']}-1")).json()["data"]
	pay_in_xero_and_notify(conn, invoice["xero_invoice_id"])
	for _ in range(60):
		page.reload()
		row = page.locator(".xso-invoices tbody tr", has_text=f"{order['name']}-1")
		row.wait_for()
		if row.locator(".xso-xero-status", has_text="PAID").count():
			break
		page.wait_for_timeout(1000)
	row.locator(".xso-xero-status", has_text="PAID").wait_for()
	shot(page, "order-invoice-paid-via-webhook")
