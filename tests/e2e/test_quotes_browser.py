"""A real browser: "From Xero Quote" on the order list lists the organisation's accepted quotes (their texts shown
as text), makes an order of one and opens it, with the quote it came from on the form."""

import uuid

import pytest

from .conftest import BASE_URL
from .test_browser import page, pick_link, shot  # noqa: F401 - the logged-in browser page fixture
from .test_quotes_http import XeroUser


@pytest.fixture(scope="module")
def organisation(sandbox_connection):
	return sandbox_connection["organisations"][-1]


def test_an_order_from_a_xero_quote_in_the_desk(page, admin, organisation):  # noqa: F811
	xero_user = XeroUser(organisation["tenant_id"])
	reference = f"<b>PO-{uuid.uuid4().hex[:6]}</b>"
	quote = xero_user.quote(Reference=reference, Title='<img src=x onerror="window.xso_hacked=1">')
	page.goto(f"{BASE_URL}/app/xero-sales-order")
	page.get_by_role("button", name="From Xero Quote").click()
	dialog = page.locator(".modal.show")
	pick_link(page, "connection", organisation["name"])
	dialog.locator('select[data-fieldname="tenant_id"]').select_option(organisation["tenant_id"])
	row = dialog.locator(f'tr[data-quote="{quote["QuoteID"]}"]')
	row.wait_for()
	# Texts from Xero are text: the reference's tags are shown, never run or rendered.
	assert reference in row.inner_text()
	assert dialog.locator(".xso-quotes b, .xso-quotes img").count() == 0
	assert page.evaluate("window.xso_hacked") is None
	shot(page, "quotes-dialog")
	row.locator(".xso-quote-order").click()
	page.wait_for_url("**/app/xero-sales-order/XSO-*")
	name = page.url.rsplit("/", 1)[1]
	order = admin.order(name)
	assert (order["xero_quote_id"], order["docstatus"]) == (quote["QuoteID"], 1)
	page.locator('.frappe-control[data-fieldname="xero_quote_number"]').filter(
		has_text=quote["QuoteNumber"]
	).wait_for()
	assert page.evaluate("window.xso_hacked") is None  # the title is in the remarks: text there too
	shot(page, "order-from-quote")
