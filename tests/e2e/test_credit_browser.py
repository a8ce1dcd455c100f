"""A real browser on the order form: the Credit dialog of an invoice in the order's invoice list (lines and the
quantity to credit, the credit note's total as Xero will compute it, the quantities back to the order), then
the credit note in the order's list and the quantity invoiceable again."""

from decimal import Decimal

from .conftest import BASE_URL, invoice_pushed, order_in_xero_organisation
from .test_browser import fill_grid_cell, page, shot  # noqa: F401  (the logged-in browser fixture)


def test_credit_dialog_credits_in_xero_and_returns_the_quantity_to_the_order(
	page,  # noqa: F811
	admin,
	sandbox_connection,
):
	order = order_in_xero_organisation(admin, sandbox_connection, qty=5)
	invoice = invoice_pushed(admin, order, 5)
	page.goto(f"{BASE_URL}/app/xero-sales-order/{order['name']}")
	row = page.locator(".xso-invoices tbody tr", has_text=invoice["name"])
	row.locator("button.xso-credit").click()
	dialog = page.locator(".modal.show")
	dialog.locator(".modal-title", has_text="Credit invoice").wait_for()
	# At most what is invoiced and not yet credited; nothing chosen yet.
	dialog.locator(".xso-credit-preview", has_text="Nothing chosen").wait_for()
	fill_grid_cell(page, ".modal.show", 1, "credit_qty", "2")
	page.wait_for_function(
		"() => cur_dialog && (cur_dialog.get_value('lines') || []).some((row) => flt(row.credit_qty) === 2)"
	)
	preview = admin.method(
		"xero_sales_orders.api.invoices.preview_credit",
		invoice=invoice["name"],
		lines=[{"item": invoice["items"][0]["name"], "qty": 2}],
	).json()["message"]
	total = Decimal(str(preview["total"]))
	# The dialog shows the credit note's total as Xero will compute it, before anything is sent.
	dialog.locator(".xso-credit-total").wait_for()
	shown = page.evaluate("() => document.querySelector('.modal.show .xso-credit-total').innerText")
	assert f"{total:,.2f}" in shown.replace(" ", ""), (shown, total)
	assert dialog.locator('[data-fieldname="returns_to_order"] select').input_value() == "1"
	shot(page, "credit-dialog")
	dialog.locator(".btn-primary", has_text="Credit in Xero").click()
	page.locator(".xso-credit-notes .xso-credit-note", has_text=f"{invoice['invoice_number']}-CN1").wait_for()
	page.locator(".indicator-pill", has_text="Partially Invoiced").first.wait_for()
	shot(page, "order-credited")

	credited = admin.order(order["name"])
	assert (credited["items"][0]["invoiced_qty"], credited["items"][0]["outstanding_qty"]) == (3, 2)
	assert Decimal(str(credited["credited_amount"])).quantize(Decimal("0.01")) == total
	note = admin.get(admin.resource("Xero Credit Note", f"{invoice['invoice_number']}-CN1")).json()["data"]
	assert (note["push_state"], note["allocation_state"], note["returns_to_order"]) == (
		"Pushed",
		"Allocated",
		1,
	)
