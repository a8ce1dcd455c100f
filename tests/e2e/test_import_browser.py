"""Bulk import in a real browser: a new batch over the sandbox's demo history, Preview, Import with the
progress bar, then the created orders; plus the same batch settings refused over REST."""

import os
import time
import uuid
from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from .conftest import SANDBOX_CLIENT, SANDBOX_URL, server_message
from .test_browser import page, shot  # noqa: F401  (the logged-in browser fixture)

BATCH = "Xero Import Batch"
API = "xero_sales_orders.api.importing"
REDIRECT = "http://127.0.0.1/xso-e2e-callback"


def wait_for_preview(admin, batch, timeout=120):
	"""The preview runs in the worker: the batch's status once it has left Previewing."""
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		doc = admin.get(admin.resource(BATCH, batch)).json()["data"]
		if doc["status"] != "Previewing":
			return doc
		time.sleep(0.5)
	raise AssertionError(f"{batch} was still previewing after {timeout} s")


def sandbox_client(tenant_id):
	"""A Xero client with a grant of its own, to put fresh invoices into the sandbox's organisation."""
	from xero_sales_orders.xero import oauth
	from xero_sales_orders.xero.client import XeroClient

	endpoints = oauth.Endpoints(login_url=SANDBOX_URL, identity_url=SANDBOX_URL, api_url=SANDBOX_URL)
	url = oauth.authorization_url(
		endpoints, SANDBOX_CLIENT[0], REDIRECT, ["openid", "accounting.transactions"], "e2e-state"
	)
	answer = requests.get(url, allow_redirects=False, timeout=30)
	code = parse_qs(urlparse(answer.headers["Location"]).query)["code"][0]
	tokens = oauth.exchange_code(endpoints, SANDBOX_CLIENT[0], SANDBOX_CLIENT[1], code, REDIRECT)
	return XeroClient(endpoints, tenant_id, lambda force: tokens.access_token)


@pytest.fixture(scope="module")
def fresh_invoices(admin, sandbox_connection):
	"""Two groups of today's invoices with a unique reference: one with a voided invoice, one mixing contacts."""
	tag = uuid.uuid4().hex[:6].upper()
	r = admin.get(
		admin.resource("Xero Contact"),
		params={
			"filters": f'[["tenant_id", "=", "{sandbox_connection["tenant_id"]}"], ["contact_status", "=", "ACTIVE"]]',
			"fields": '["name", "contact_name"]',
			"limit_page_length": 2,
		},
	)
	contacts = r.json()["data"]
	line = {"Description": "Browser widget", "Quantity": 4, "UnitAmount": 25, "AccountCode": "200"}

	def invoice(contact, reference):
		return {
			"Type": "ACCREC",
			"Contact": {"ContactID": contact["name"]},
			"Reference": reference,
			"Status": "AUTHORISED",
			"Date": date.today().isoformat(),
			"DueDate": date.today().isoformat(),
			"LineItems": [line],
		}

	with sandbox_client(sandbox_connection["tenant_id"]) as client:
		created = client.create_invoices(
			[
				invoice(contacts[0], f"BRW-{tag}"),
				invoice(contacts[0], f"BRW-{tag}"),
				invoice(contacts[0], f"BRW-{tag}-MIX"),
				invoice(contacts[1], f"BRW-{tag}-MIX"),
			]
		)
		assert all(c.get("InvoiceID") for c in created), created
		client.update_invoice(created[1]["InvoiceID"], {"Status": "VOIDED"})
	requests.post(f"{SANDBOX_URL}/_sandbox/invoices/{created[0]['InvoiceID']}/pay", json={}, timeout=10)
	return {"tag": tag, "contact": contacts[0]["contact_name"]}


def test_preview_and_import_in_the_desk(page, admin, sandbox_connection, fresh_invoices):  # noqa: F811
	tag = fresh_invoices["tag"]
	base = os.environ["XSO_URL"]
	page.goto(f"{base}/app/xero-import-batch/new")
	page.wait_for_function("() => window.cur_frm && cur_frm.doctype === 'Xero Import Batch'")
	page.evaluate(f"() => cur_frm.set_value('connection', {sandbox_connection['name']!r})")
	# The form proposes the last twelve months; the demo history and today's invoices are inside.
	assert page.locator('.frappe-control[data-fieldname="from_date"] input').input_value()
	# Statuses are checkboxes, AUTHORISED and PAID ticked; VOIDED is ticked here to see the voided flag.
	boxes = page.locator(".xso-statuses input.xso-status")
	assert [b.get_attribute("value") for b in boxes.all() if b.is_checked()] == ["AUTHORISED", "PAID"]
	page.locator(".xso-statuses input.xso-status[value='VOIDED']").check()
	page.wait_for_function("() => cur_frm.doc.statuses === 'AUTHORISED,PAID,VOIDED'")
	# The organisation is a choice among the connection's organisations.
	page.wait_for_function("tenant => cur_frm.doc.tenant_id === tenant", arg=sandbox_connection["tenant_id"])
	page.keyboard.press("Control+s")
	page.wait_for_url("**/app/xero-import-batch/XIB-*")
	batch = page.url.rstrip("/").split("/")[-1]

	# The preview runs in the background: the form shows its progress bar until its groups are there.
	page.evaluate(
		"""() => {
			window.xsoPreviewProgress = [];
			new MutationObserver(() => {
				document.querySelectorAll('.form-dashboard .progress-bar').forEach((bar) =>
					window.xsoPreviewProgress.push([
						`${bar.getAttribute('title') || ''} ${bar.parentElement.parentElement.innerText || ''}`,
						bar.style.width,
					]));
			}).observe(document.body, { subtree: true, childList: true, attributes: true });
		}"""
	)
	page.get_by_role("button", name="Preview").click()
	summary = page.locator(".xso-import-summary")
	summary.wait_for(timeout=120_000)
	preview_progress = page.evaluate("() => window.xsoPreviewProgress")
	assert preview_progress, "no progress bar was shown for the preview"
	assert any("100%" == width for _, width in preview_progress), preview_progress
	assert any(
		"Fetching invoices from Xero" in text or "Grouping invoices" in text for text, _ in preview_progress
	), preview_progress
	page.locator(".xso-search").fill(tag)
	rows = page.locator("tr.xso-group")
	page.wait_for_function("() => document.querySelectorAll('tr.xso-group').length === 2")
	rows.filter(has_text=f"BRW-{tag}-MIX").wait_for()
	good = rows.filter(has_text=f"BRW-{tag}").filter(has_not_text="MIX")
	assert "Will create" in good.inner_text()
	assert "VOIDED" in good.locator('[data-flag="voided_invoices"]').inner_text()
	mixed = rows.filter(has_text=f"BRW-{tag}-MIX")
	assert "Conflict" in mixed.inner_text()
	assert "contacts" in mixed.locator('[data-flag="mixed_contacts"]').inner_text()
	# The flag filter: only conflicts.
	page.locator(".xso-view").select_option("conflicts")
	page.wait_for_function("() => [...document.querySelectorAll('tr.xso-group')].length === 1")
	assert "MIX" in rows.first.inner_text()
	page.locator(".xso-view").select_option("all")
	shot(page, "import-preview")

	batch_doc = admin.get(admin.resource(BATCH, batch)).json()["data"]
	assert batch_doc["status"] == "Previewed"
	assert batch_doc["orders_to_create"] >= 1
	assert batch_doc["conflicts_count"] >= 1

	# Watch the realtime progress events the form receives while the worker imports.
	# Watch the progress bar the form shows (fed by realtime events, or by polling without socket.io).
	page.evaluate(
		"""() => {
			window.xsoProgress = [];
			frappe.realtime.on('progress', (d) => window.xsoProgress.push(['realtime', d.percent]));
			new MutationObserver(() => {
				document.querySelectorAll('.form-dashboard .progress-bar').forEach((bar) =>
					window.xsoProgress.push(['bar', bar.style.width]));
			}).observe(document.body, { subtree: true, childList: true, attributes: true });
		}"""
	)
	page.get_by_role("button", name="Import").click()
	page.locator(".modal.show").get_by_role("button", name="Yes").click()
	page.wait_for_function("() => cur_frm.doc.status === 'Completed'", timeout=120_000)
	progress = page.evaluate("() => window.xsoProgress")
	assert progress, "no progress bar was shown"
	assert ["bar", "100%"] in progress or ["realtime", 100] in progress, progress
	page.locator(".xso-search").fill(tag)
	order_link = page.locator("tr.xso-group", has_text=f"BRW-{tag}").filter(has_not_text="MIX").locator("a")
	order_link.wait_for()
	order = order_link.inner_text()
	shot(page, "import-completed")

	page.get_by_role("button", name="View Orders").click()
	page.wait_for_url("**/app/xero-sales-order?import_batch=*")
	page.locator(".list-row-container", has_text=order).first.wait_for()

	doc = admin.order(order)
	assert doc["docstatus"] == 1
	assert doc["customer_name"] == fresh_invoices["contact"]
	# The voided invoice is left out of the order (the batch does not make voided invoices demand): 4
	# ordered, 4 invoiced, 115.00 invoiced and paid.
	assert doc["status"] == "Fully Invoiced"
	assert (doc["grand_total"], doc["invoiced_amount"], doc["outstanding_amount"]) == (115.0, 115.0, 0.0)
	assert doc["paid_amount"] == 115.0
	r = admin.method(f"{API}.groups", batch=batch, view="conflicts", search=tag)
	assert r.status_code == 200 and r.json()["message"]["total"] == 1

	# Running the same batch again creates nothing.
	r = admin.method(f"{API}.start", batch=batch)
	assert r.status_code == 200, r.text
	page.goto(f"{base}/app/xero-import-batch/{batch}")
	page.wait_for_function(
		f"() => window.cur_frm && cur_frm.doc.name === '{batch}' && cur_frm.doc.status === 'Completed'",
		timeout=120_000,
	)
	orders = admin.get(
		admin.resource("Xero Sales Order"),
		params={"filters": f'[["po_number", "=", "BRW-{tag}"]]', "fields": '["name"]'},
	).json()["data"]
	assert [o["name"] for o in orders] == [order]


def test_bad_settings_are_refused_over_rest(admin, sandbox_connection):
	batch = {
		"connection": sandbox_connection["name"],
		"from_date": "2026-01-01",
		"to_date": "2026-12-31",
		"grouping": "PO Pattern",
	}
	r = admin.post(admin.resource(BATCH), {**batch, "po_pattern": "PO-\\d+"})
	assert r.status_code == 400, r.text
	assert "exactly one capturing group" in server_message(r)
	r = admin.post(admin.resource(BATCH), {**batch, "po_pattern": "PO-(\\d+)", "from_date": "2027-01-01"})
	assert r.status_code == 400 and "date range is empty" in server_message(r)
	r = admin.post(admin.resource(BATCH), {**batch, "po_pattern": "PO-(\\d+)"})
	assert r.status_code == 200, r.text
	name = r.json()["data"]["name"]
	r = admin.method(f"{API}.start", batch=name)
	assert r.status_code == 409 and "Preview" in server_message(r)
