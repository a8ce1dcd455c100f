"""A real browser on the order form: the New Xero Contact dialog (a contact created in Xero and picked, then a
name Xero holds offered and picked), and the Create Invoice dialog's subtotal, tax and total following the
quantities as they are typed."""

import uuid

from .conftest import BASE_URL, order_in_xero_organisation
from .test_browser import page, shot  # noqa: F401  (the logged-in browser fixture)

ORDERS = "xero_sales_orders.api.orders"


def open_new_contact_dialog(browser_page):
	browser_page.locator(
		".page-actions button, .form-inner-toolbar button", has_text="New Xero Contact"
	).first.click()
	dialog = browser_page.locator(".modal.show")
	dialog.locator(".modal-title", has_text="New Xero Contact").wait_for()
	return dialog


def test_new_contact_dialog_creates_in_xero_and_picks_or_offers_the_contact_xero_holds(
	page,  # noqa: F811
	admin,
	sandbox_connection,
):
	conn = sandbox_connection
	page.goto(f"{BASE_URL}/app/xero-sales-order/new")
	page.wait_for_function("() => window.cur_frm && cur_frm.doctype === 'Xero Sales Order'")
	# A draft's lines show no invoiced or outstanding columns: they mean something only after submit.
	headings = page.locator('.frappe-control[data-fieldname="items"] .grid-heading-row').inner_text()
	assert "Outstanding" not in headings and "Invoiced" not in headings, headings
	assert not page.evaluate("() => cur_frm.doc.currency"), "the currency waits for the customer"

	name = f"Browser New Customer {uuid.uuid4().hex[:6]}"
	dialog = open_new_contact_dialog(page)
	# The organisation is chosen among every connected one (two "Demo Company (NZ)" say which connection).
	organisation = dialog.locator('.frappe-control[data-fieldname="organisation"] select')
	ours = next(
		o
		for o in admin.method("xero_sales_orders.api.masters.organisations").json()["message"]
		if o["connection"] == conn["name"] and o["tenant_id"] == conn["tenant_id"]
	)
	organisation.select_option(label=ours["label"])
	dialog.locator('.frappe-control[data-fieldname="contact_name"] input').fill(name)
	dialog.locator('.frappe-control[data-fieldname="email"] input').fill("accounts@browser-new.example")
	dialog.locator('.frappe-control[data-fieldname="payment_terms_type"] select').select_option(
		"OFFOLLOWINGMONTH"
	)
	dialog.locator('.frappe-control[data-fieldname="payment_terms_day"] input').fill("20")
	shot(page, "new-contact-dialog")
	dialog.locator(".btn-primary", has_text="Create in Xero").click()
	page.wait_for_function("name => cur_frm.doc.customer_name === name", arg=name)
	page.wait_for_function("() => !!cur_frm.doc.currency")
	created = page.evaluate("() => cur_frm.doc.customer")
	contact = admin.get(admin.resource("Xero Contact", created)).json()["data"]
	assert contact["contact_name"] == name
	assert (contact["connection"], contact["tenant_id"]) == (conn["name"], conn["tenant_id"])
	assert page.evaluate("() => cur_frm.doc.currency") == conn["currency"]

	# The same name again: Xero holds it, so the dialog offers that contact instead of an error.
	page.evaluate("() => cur_frm.set_value('customer', null)")
	dialog = open_new_contact_dialog(page)
	dialog.locator('.frappe-control[data-fieldname="organisation"] select').select_option(label=ours["label"])
	dialog.locator('.frappe-control[data-fieldname="contact_name"] input').fill(name.upper())
	dialog.locator(".btn-primary", has_text="Create in Xero").click()
	offer = dialog.locator(".xso-contact-offer")
	offer.wait_for()
	assert name in offer.inner_text()
	shot(page, "new-contact-offered")
	offer.get_by_role("button", name="Use this contact").click()
	page.wait_for_function("id => cur_frm.doc.customer === id", arg=created)
	assert page.locator(".modal.show").count() == 0


def type_qty(browser_page, row, qty):
	"""Types a quantity on a line of the Create Invoice dialog and leaves it with Tab, as a user does."""
	cell = browser_page.locator(
		f'.modal.show .grid-body .grid-row[data-idx="{row}"] [data-fieldname="qty"]'
	).first
	cell.click()
	field = cell.locator("input").first
	field.fill(str(qty))
	field.press("Tab")
	browser_page.wait_for_function(
		"([row, qty]) => flt(cur_dialog.get_value('lines')[row - 1].qty) === qty", arg=[row, qty]
	)


def totals(browser_page) -> dict:
	cells = browser_page.locator(".modal.show .xso-invoice-totals [data-total]")
	return {cells.nth(i).get_attribute("data-total"): cells.nth(i).inner_text() for i in range(cells.count())}


def test_create_invoice_dialog_totals_follow_the_quantities(page, admin, sandbox_connection):  # noqa: F811
	conn = {**sandbox_connection, **sandbox_connection["organisations"][-1]}
	order = order_in_xero_organisation(admin, conn, qty=5)
	line = order["items"][0]["name"]

	def expected(qty):
		r = admin.method(
			f"{ORDERS}.preview_invoice", sales_order=order["name"], lines=[{"item": line, "qty": qty}]
		)
		assert r.status_code == 200, r.text
		return r.json()["message"]

	page.goto(f"{BASE_URL}/app/xero-sales-order/{order['name']}")
	page.locator(".page-actions button", has_text="Create Invoice").click()
	dialog = page.locator(".modal.show")
	dialog.locator(".modal-title", has_text="Create Invoice").wait_for()
	# Everything outstanding to begin with.
	whole = expected(5)
	page.locator(".modal.show .xso-invoice-totals [data-total='total']").wait_for()
	page.wait_for_function(
		"total => (document.querySelector('.modal.show [data-total=\"total\"]') || {}).innerText === total",
		arg=totals_text(page, whole["total"], whole["currency"]),
	)
	assert dialog.locator('.frappe-control[data-fieldname="due_date"] input').input_value()
	type_qty(page, 1, 2)
	part = expected(2)
	page.wait_for_function(
		"total => (document.querySelector('.modal.show [data-total=\"total\"]') || {}).innerText === total",
		arg=totals_text(page, part["total"], part["currency"]),
	)
	shown = totals(page)
	assert shown["subtotal"] == totals_text(page, part["subtotal"], part["currency"])
	assert shown["tax"] == totals_text(page, part["total_tax"], part["currency"])
	shot(page, "create-invoice-totals")
	# More than is outstanding: said at once, in the dialog.
	type_qty(page, 1, 9)
	page.locator(".modal.show [data-total='error']", has_text="outstanding").wait_for()
	type_qty(page, 1, 2)
	page.locator(".modal.show [data-total='total']").wait_for()
	# Tab on the last line adds no empty line.
	assert page.locator(".modal.show .grid-body .grid-row").count() == 1
	dialog.locator('.frappe-control[data-fieldname="status"] select').select_option("DRAFT")
	dialog.locator(".btn-primary", has_text="Create Invoice").click()
	row = page.locator(".xso-invoices tbody tr", has_text=f"{order['name']}-1")
	row.locator(".xso-xero-status", has_text="DRAFT").wait_for()
	invoice = admin.get(admin.resource("Xero Invoice", f"{order['name']}-1")).json()["data"]
	assert invoice["total"] == part["total"] and invoice["requested_status"] == "DRAFT"
	page.locator(".new-timeline", has_text=f"Invoice {order['name']}-1 raised").first.wait_for()


def totals_text(browser_page, value, currency) -> str:
	return browser_page.evaluate("([v, c]) => format_currency(v, c)", [value, currency])
