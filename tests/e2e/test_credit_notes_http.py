"""Credit notes, Approve & Email and Email over HTTP against the sandbox (issue 14, items 2 and 3): a credit whose
quantities return to the order and are invoiced again, with the Xero calls it spends; over-crediting and a DRAFT
invoice refused with nothing sent; an invoice approved and emailed from the order; a contact without an email
address refused before anything is sent."""

import base64
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import requests

from .conftest import (
	SANDBOX_CLIENT,
	SANDBOX_URL,
	first,
	invoice_pushed,
	order_in_xero_organisation,
	server_message,
)

API = "xero_sales_orders.api.invoices"
PUT_CREDIT_NOTES = "PUT /api.xro/2.0/CreditNotes"
PUT_ALLOCATIONS = "PUT /api.xro/2.0/CreditNotes/{id}/Allocations"
EMAIL = "POST /api.xro/2.0/Invoices/{id}/Email"
APPROVE = "POST /api.xro/2.0/Invoices/{id}"


def money(value) -> Decimal:
	return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def calls() -> dict:
	return requests.get(f"{SANDBOX_URL}/_sandbox/calls", timeout=10).json()["by_endpoint"]


def spent(before: dict, after: dict) -> dict:
	return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def in_xero(tenant_id: str, method: str, path: str, body=None) -> dict:
	"""Someone working in the sandbox organisation itself, with a consent of their own."""
	redirect = "http://127.0.0.1:9/callback"
	answer = requests.get(
		f"{SANDBOX_URL}/identity/connect/authorize",
		params={
			"response_type": "code",
			"client_id": SANDBOX_CLIENT[0],
			"redirect_uri": redirect,
			"scope": "openid offline_access accounting.transactions accounting.contacts",
			"state": uuid.uuid4().hex,
		},
		allow_redirects=False,
		timeout=30,
	)
	code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
	basic = base64.b64encode(f"{SANDBOX_CLIENT[0]}:{SANDBOX_CLIENT[1]}".encode()).decode()
	tokens = requests.post(
		f"{SANDBOX_URL}/connect/token",
		data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
		headers={"Authorization": f"Basic {basic}"},
		timeout=30,
	).json()
	headers = {"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": tenant_id}
	answer = requests.request(
		method, f"{SANDBOX_URL}/api.xro/2.0{path}", json=body, headers=headers, timeout=30
	)
	assert answer.status_code == 200, answer.text
	return answer.json()


def test_a_credit_returns_quantities_that_are_invoiced_again(admin, sandbox_connection):
	conn = sandbox_connection
	order = order_in_xero_organisation(admin, conn, qty=10)
	invoice = invoice_pushed(admin, order, 10)
	line = invoice["items"][0]["name"]
	before = calls()
	r = admin.method(
		f"{API}.credit", invoice=invoice["name"], lines=[{"item": line, "qty": 4}], returns_to_order=1
	)
	assert r.status_code == 200, r.text
	note = r.json()["message"]
	# Calls spent per credit note: create, allocate, the invoice read back.
	used = spent(before, calls())
	assert used == {PUT_CREDIT_NOTES: 1, PUT_ALLOCATIONS: 1, "GET /api.xro/2.0/Invoices": 1}, used
	assert (note["push_state"], note["allocation_state"], note["status"]) == ("Pushed", "Allocated", "PAID")
	assert note["credit_note_number"] == f"{invoice['invoice_number']}-CN1"
	assert money(note["allocated_amount"]) == money(note["total"]) == money(note["xero_total"])
	figures = note["invoice_figures"]
	assert money(figures["amount_credited"]) == money(note["total"])
	assert money(figures["amount_due"]) == money(invoice["total"]) - money(note["total"])

	credited = admin.order(order["name"])
	assert credited["status"] == "Partially Invoiced"
	assert (credited["items"][0]["invoiced_qty"], credited["items"][0]["outstanding_qty"]) == (6, 4)
	assert money(credited["credited_amount"]) == money(note["total"])
	listed = admin.get(f"/api/method/{API}.invoice_credit_notes", params={"sales_order": order["name"]})
	assert [n["name"] for n in listed.json()["message"]] == [note["name"]]

	again = invoice_pushed(admin, order, 4)
	done = admin.order(order["name"])
	assert done["status"] == "Fully Invoiced"
	assert money(invoice["total"]) + money(again["total"]) - money(note["total"]) == money(
		done["grand_total"]
	)

	# More than invoiced and not yet credited: 409, nothing sent to Xero.
	before = calls()
	r = admin.method(
		f"{API}.credit", invoice=invoice["name"], lines=[{"item": line, "qty": 7}], returns_to_order=0
	)
	assert r.status_code == 409, r.text
	assert "at most 6 can be credited" in server_message(r)
	r = admin.method(f"{API}.credit", invoice=invoice["name"], lines=[{"item": line, "qty": "lots"}])
	assert r.status_code == 400, r.text
	assert spent(before, calls()) == {}


def test_a_draft_is_not_credited_but_approved_and_emailed(admin, sandbox_connection):
	conn = sandbox_connection
	order = order_in_xero_organisation(admin, conn, qty=3)
	r = admin.method(
		"xero_sales_orders.api.orders.create_invoice",
		sales_order=order["name"],
		lines=[{"item": order["items"][0]["name"], "qty": 3}],
		status="DRAFT",
	)
	assert r.status_code == 200, r.text
	draft = r.json()["message"]
	assert (draft["push_state"], draft["status"]) == ("Pushed", "DRAFT")
	before = calls()
	r = admin.method(f"{API}.credit", invoice=draft["name"])
	assert r.status_code == 409 and "approve it first" in server_message(r), r.text
	r = admin.method(f"{API}.email", invoice=draft["name"])
	assert r.status_code == 409 and "Approve & Email" in server_message(r), r.text
	assert spent(before, calls()) == {}

	r = admin.method(f"{API}.approve_and_email", invoice=draft["name"])
	assert r.status_code == 200, r.text
	sent = r.json()["message"]
	assert (sent["status"], sent["sent_to_contact"]) == ("AUTHORISED", 1)
	used = spent(before, calls())
	assert (used.get(APPROVE), used.get(EMAIL)) == (1, 1), used
	rows = admin.get(
		"/api/method/xero_sales_orders.api.orders.invoices", params={"sales_order": order["name"]}
	)
	assert rows.json()["message"][0]["sent_to_contact"] == 1


def test_email_is_refused_for_a_contact_without_an_address(admin, sandbox_connection):
	conn = sandbox_connection
	name = f"No Email E2E {uuid.uuid4().hex[:6]}"
	[contact] = in_xero(conn["tenant_id"], "PUT", "/Contacts", {"Contacts": [{"Name": name}]})["Contacts"]
	r = admin.sync(conn["name"])
	assert r.status_code == 200, r.text
	item = first(
		admin,
		"Xero Item",
		[["connection", "=", conn["name"]], ["tenant_id", "=", conn["tenant_id"]], ["is_sold", "=", 1]],
	)
	order = admin.create_order(
		[{"item": item, "qty": 2}], customer=contact["ContactID"], currency=conn["currency"]
	)
	invoice = invoice_pushed(admin, order, 2)
	assert invoice["status"] == "AUTHORISED"
	before = calls()
	r = admin.method(f"{API}.email", invoice=invoice["name"])
	assert r.status_code == 409, r.text
	assert f"{name} has no email address in Xero" in server_message(r)
	# The contact is read once more from Xero (the synced copy may be older); nothing is sent.
	assert spent(before, calls()) == {"GET /api.xro/2.0/Contacts/{id}": 1}
	assert admin.get(admin.resource("Xero Invoice", invoice["name"])).json()["data"]["sent_to_contact"] == 0
