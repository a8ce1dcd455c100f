"""Deposits and Update Items over REST against the sandbox: a deposit invoice and its deductions add up to the
order in Xero, an order changed after part of it is invoiced, the refusals with their statuses, and the doors
Frappe itself opens staying closed."""

from decimal import Decimal

import pytest

from .conftest import ORDER, order_in_xero_organisation, server_message

API = "xero_sales_orders.api.orders"
DEPOSIT_ACCOUNT = "835"  # the sandbox's Customer Deposits liability account


def money(value):
	return Decimal(str(value or 0)).quantize(Decimal("0.01"))


@pytest.fixture(scope="module")
def conn(admin, sandbox_connection):
	"""The E2E connection with the sandbox's Customer Deposits account as each organisation's deposit account
	(set as a System Manager sets it on the connection form)."""
	name = sandbox_connection["name"]
	doc = admin.get(admin.resource("Xero Connection", name)).json()["data"]
	r = admin.put(
		admin.resource("Xero Connection", name),
		{"tenants": [{**t, "deposit_account_code": DEPOSIT_ACCOUNT} for t in doc["tenants"]]},
	)
	assert r.status_code == 200, r.text
	return sandbox_connection


def invoice_of(admin, **args):
	r = admin.method(f"{API}.create_invoice", **args)
	assert r.status_code == 200, r.text
	invoice = r.json()["message"]
	assert invoice["push_state"] == "Pushed", invoice["last_error"]
	assert not invoice["totals_differ"], invoice["totals_difference"]
	return invoice


def test_a_deposit_and_progress_invoices_add_up_to_the_order_in_xero(admin, conn):
	order = order_in_xero_organisation(admin, conn, qty=10)
	line = order["items"][0]["name"]
	r = admin.method(f"{API}.create_deposit", sales_order=order["name"], percent=40)
	assert r.status_code == 200, r.text
	deposit = r.json()["message"]
	assert (deposit["is_deposit"], deposit["push_state"], deposit["totals_differ"]) == (1, "Pushed", 0)
	assert money(deposit["xero_total"]) == money(deposit["total"])
	assert money(deposit["total"]) == (money(order["grand_total"]) * Decimal("0.4")).quantize(Decimal("0.01"))
	assert [i["account_code"] for i in deposit["items"]] == [DEPOSIT_ACCOUNT]

	after = admin.order(order["name"])
	assert (after["status"], money(after["deposit_remaining"])) == ("Open", money(deposit["total"]))

	first = invoice_of(admin, sales_order=order["name"], lines=[{"item": line, "qty": 5}])
	deductions = [i for i in first["items"] if i["line_kind"] == "Deposit Deduction"]
	assert deductions and all(money(d["line_amount"]) < 0 for d in deductions)
	last = invoice_of(admin, sales_order=order["name"])
	done = admin.order(order["name"])
	assert (done["status"], money(done["deposit_remaining"])) == ("Fully Invoiced", 0)
	assert money(done["deposit_deducted"]) == money(deposit["total"])
	totals = [deposit, first, last]
	assert sum(money(i["total"]) for i in totals) == money(done["grand_total"])
	assert sum(money(i["xero_total"]) for i in totals) == money(done["grand_total"])  # Xero's own totals


def test_deposits_refused_with_their_reasons(admin, conn):
	order = order_in_xero_organisation(admin, conn, qty=4)
	total = money(order["grand_total"])
	cases = [
		(409, "above the order's total", {"amount": str(total + Decimal("0.01"))}),
		(409, "above the order's total", {"percent": 120}),
		(400, "either a percent", {"percent": 10, "amount": 10}),
		(400, "greater than 0", {"amount": 0}),
		(400, "Deduct deposit must be one of", {"percent": 10, "deduction": "Never"}),
		(404, "not found", {"sales_order": "XSO-NOPE", "percent": 10}),
	]
	for status, message, args in cases:
		r = admin.method(f"{API}.create_deposit", **{"sales_order": order["name"], **args})
		assert r.status_code == status, (args, r.text)
		assert message in server_message(r), server_message(r)
	r = admin.get(
		admin.resource("Xero Invoice"), params={"filters": f'[["sales_order","=","{order["name"]}"]]'}
	)
	assert r.json()["data"] == []
	# A GET cannot raise one.
	assert admin.get(
		f"/api/method/{API}.create_deposit?sales_order={order['name']}&percent=10"
	).status_code in (
		403,
		405,
	)


def test_update_items_over_rest_and_the_doors_that_stay_closed(admin, conn, make_user):
	order = order_in_xero_organisation(admin, conn, qty=10)
	line = order["items"][0]
	invoice_of(admin, sales_order=order["name"], lines=[{"item": line["name"], "qty": 4}])
	sales = make_user("xso-e2e-update-sales@example.com", ["Xero Sales User"])
	nobody = make_user("xso-e2e-update-nobody@example.com", [])

	r = nobody.method(
		f"{API}.update_items", sales_order=order["name"], items=[{"name": line["name"], "qty": 8}]
	)
	assert r.status_code == 403, r.text
	r = sales.method(
		f"{API}.update_items", sales_order=order["name"], items=[{"name": line["name"], "qty": 3}]
	)
	assert r.status_code == 409 and "4 of it is invoiced already" in server_message(r), r.text
	r = sales.method(
		f"{API}.update_items", sales_order=order["name"], items=[{"name": line["name"], "unit_price": 1}]
	)
	assert r.status_code == 409 and "only its quantity can change" in server_message(r), r.text
	r = sales.method(
		f"{API}.update_items", sales_order=order["name"], items=[{"name": line["name"], "invoiced_qty": 0}]
	)
	assert r.status_code == 417 and "derived" in server_message(r), r.text
	r = sales.method(f"{API}.update_items", sales_order=order["name"], items="not json")
	assert r.status_code == 400, r.text
	# Frappe's own doors refuse a change to a submitted order's lines, as before.
	r = sales.put(
		sales.resource(ORDER, order["name"]),
		{"items": [{**line, "qty": 8}]},
	)
	assert r.status_code == 417, r.text
	assert admin.order(order["name"])["items"][0]["qty"] == 10

	r = sales.method(
		f"{API}.update_items",
		sales_order=order["name"],
		items=[
			{"name": line["name"], "qty": 6},
			{"item": line["item"], "description": "Installation", "qty": 1, "unit_price": 150},
		],
	)
	assert r.status_code == 200, r.text
	answer = r.json()["message"]
	assert [c["kind"] for c in answer["changes"]] == ["changed", "added"]
	changed = admin.order(order["name"])
	assert [i["qty"] for i in changed["items"]] == [6, 1]
	assert changed["status"] == "Partially Invoiced"
	assert money(changed["grand_total"]) == sum(
		money(i["line_amount"]) + money(i["tax_amount"]) for i in changed["items"]
	)
	r = admin.get(
		"/api/method/frappe.desk.form.load.getdoc", params={"doctype": ORDER, "name": order["name"]}
	)
	timeline = r.json()["docinfo"]["info_logs"]
	[entry] = [c for c in timeline if "Items updated" in c["content"]]
	assert "Qty 10 → 6" in entry["content"] and "Added row 2" in entry["content"], entry
	assert entry["owner"] == "xso-e2e-update-sales@example.com"
	last = invoice_of(admin, sales_order=order["name"])
	done = admin.order(order["name"])
	assert done["status"] == "Fully Invoiced"
	assert money(done["outstanding_amount"]) == 0
	assert money(last["xero_total"]) == money(last["total"])
