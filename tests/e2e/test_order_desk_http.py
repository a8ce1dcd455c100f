"""Over HTTP against the sandbox: a customer created in Xero from the order form and picked on an order, a name
Xero holds offered instead of an error, bad input refused with a 400, and the Create Invoice preview with the
invoice's chosen date, due date and status."""

import uuid
from datetime import date, timedelta

import pytest

from .conftest import first, order_in_xero_organisation, server_message

MASTERS = "xero_sales_orders.api.masters"
ORDERS = "xero_sales_orders.api.orders"


@pytest.fixture(scope="module")
def sales(make_user):
	return make_user("xso-e2e-desk-sales@example.com", ["Xero Sales User"])


def test_a_new_contact_is_created_in_xero_and_picked_on_an_order(sales, sandbox_connection):
	conn = sandbox_connection
	name = f"E2E New Customer {uuid.uuid4().hex[:6]}"
	key = uuid.uuid4().hex
	args = {
		"connection": conn["name"],
		"tenant_id": conn["tenant_id"],
		"contact_name": name,
		"email": "accounts@e2e-new.example",
		"payment_terms_day": 14,
		"payment_terms_type": "DAYSAFTERBILLDATE",
		"request_id": key,
	}
	r = sales.method(f"{MASTERS}.new_contact", **args)
	assert r.status_code == 200, r.text
	answer = r.json()["message"]
	assert answer["created"] is True
	contact = answer["contact"]
	assert contact["contact_name"] == name and contact["tenant_id"] == conn["tenant_id"]
	assert contact["organisation"]
	# The same request again (a double click, a lost answer): the same contact, not a second one.
	again = sales.method(f"{MASTERS}.new_contact", **args)
	assert again.status_code == 200, again.text
	assert again.json()["message"]["contact"]["name"] == contact["name"]
	# In the synced list at once, and picked on an order: the order is in that organisation and currency.
	r = sales.get(sales.resource("Xero Contact", contact["name"]))
	assert r.status_code == 200, r.text
	r = sales.post(
		sales.resource("Xero Sales Order"),
		{"customer": contact["name"], "items": [{"description": "Onboarding", "qty": 1, "unit_price": 250}]},
	)
	assert r.status_code == 200, r.text
	order = r.json()["data"]
	assert (order["connection"], order["tenant_id"]) == (conn["name"], conn["tenant_id"])
	assert order["currency"] == conn["currency"]


def test_a_name_xero_holds_is_offered_instead_of_an_error(sales, admin, sandbox_connection):
	conn = sandbox_connection
	org = [["connection", "=", conn["name"]], ["tenant_id", "=", conn["tenant_id"]]]
	existing = first(admin, "Xero Contact", [*org, ["contact_status", "=", "ACTIVE"]])
	taken = admin.get(admin.resource("Xero Contact", existing)).json()["data"]
	r = sales.method(
		f"{MASTERS}.new_contact",
		connection=conn["name"],
		tenant_id=conn["tenant_id"],
		contact_name=taken["contact_name"],
		request_id=uuid.uuid4().hex,
	)
	assert r.status_code == 200, r.text
	offer = r.json()["message"]
	assert offer["created"] is False and offer["taken"] == "name"
	assert offer["contact"]["name"] == existing
	assert taken["contact_name"] in offer["message"]


def test_bad_contact_fields_are_a_400_with_the_reason(sales, sandbox_connection):
	conn = sandbox_connection
	r = sales.method(
		f"{MASTERS}.new_contact",
		connection=conn["name"],
		tenant_id=conn["tenant_id"],
		contact_name="Bad Email Ltd",
		email="not-an-address",
	)
	assert r.status_code == 400, r.text
	assert "is not an email address" in server_message(r)
	r = sales.method(
		f"{MASTERS}.new_contact", connection=conn["name"], tenant_id="not-an-organisation", contact_name="X"
	)
	assert r.status_code == 400, r.text


def test_the_customer_picker_shows_each_contacts_organisation(sales, sandbox_connection):
	r = sales.get(
		"/api/method/frappe.desk.search.search_link",
		params={"doctype": "Xero Contact", "txt": "Boom FM", "reference_doctype": "Xero Sales Order"},
	)
	assert r.status_code == 200, r.text
	rows = [row for row in r.json()["message"] if row.get("label") == "Boom FM"]
	tenants = {o["tenant_name"] for o in sales.method(f"{MASTERS}.organisations").json()["message"]}
	assert len(rows) >= 2, rows
	shown = {next((t for t in tenants if t in row["description"]), None) for row in rows}
	assert len(shown - {None}) >= 2, rows


def test_the_preview_prices_the_invoice_and_create_invoice_honours_date_due_date_and_status(
	admin, sandbox_connection
):
	conn = sandbox_connection["organisations"][-1]
	conn = {**sandbox_connection, **conn}
	order = order_in_xero_organisation(admin, conn, qty=6)
	line = order["items"][0]["name"]
	invoice_date = (date.today() - timedelta(days=2)).isoformat()
	due_date = (date.today() + timedelta(days=21)).isoformat()
	r = admin.method(
		f"{ORDERS}.preview_invoice",
		sales_order=order["name"],
		lines=[{"item": line, "qty": 2}],
		invoice_date=invoice_date,
		due_date=due_date,
		status="DRAFT",
	)
	assert r.status_code == 200, r.text
	preview = r.json()["message"]
	assert (preview["invoice_date"], preview["due_date"], preview["status"]) == (
		invoice_date,
		due_date,
		"DRAFT",
	)
	assert admin.order(order["name"])["invoiced_amount"] == 0  # nothing written
	r = admin.method(f"{ORDERS}.preview_invoice", sales_order=order["name"], lines=[{"item": line, "qty": 7}])
	assert r.status_code == 409, r.text
	r = admin.method(
		f"{ORDERS}.create_invoice", sales_order=order["name"], lines=[{"item": line, "qty": 2}], status="PAID"
	)
	assert r.status_code == 400 and "DRAFT or AUTHORISED" in server_message(r), r.text
	r = admin.method(
		f"{ORDERS}.create_invoice",
		sales_order=order["name"],
		lines=[{"item": line, "qty": 2}],
		invoice_date=invoice_date,
		due_date=due_date,
		status="DRAFT",
	)
	assert r.status_code == 200, r.text
	invoice = r.json()["message"]
	assert invoice["push_state"] == "Pushed", invoice["last_error"]
	# The e2e organisations raise AUTHORISED invoices by default; this one was asked for as a DRAFT.
	assert invoice["status"] == "DRAFT"
	assert (invoice["invoice_date"], invoice["due_date"]) == (invoice_date, due_date)
	assert invoice["total"] == preview["total"] and invoice["xero_total"] == preview["total"]
