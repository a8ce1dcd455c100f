"""REST end to end: create -> submit -> partial invoices -> close, bad input, roles, concurrency."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from .conftest import ORDER, Client, server_message

CREATE_INVOICE = "xero_sales_orders.api.orders.create_invoice"


def money(value):
	return Decimal(str(value)).quantize(Decimal("0.01"))


def test_order_lifecycle_over_rest(admin):
	order = admin.create_order(
		[
			{
				"item_code": "DESK",
				"description": "Desk",
				"qty": 4,
				"unit_price": 849,
				"discount_rate": 5,
				"tax_rate": 15,
			},
			{"item_code": "BOLT", "description": "Bolt", "qty": 3, "unit_price": 0.3333, "tax_rate": 15},
		]
	)
	assert order["status"] == "Open"
	assert money(order["grand_total"]) == money("3711.28")  # 3226.20 + 1.00 + tax 483.93 + 0.15
	desk, bolt = order["items"]

	r = admin.method(
		CREATE_INVOICE,
		sales_order=order["name"],
		lines=[{"item": desk["name"], "qty": 1}, {"item": bolt["name"], "qty": 2}],
	)
	assert r.status_code == 200, r.text
	first = r.json()["message"]
	assert (first["push_state"], first["status"], first["invoice_number"]) == (
		"Pending",
		"DRAFT",
		f"{order['name']}-1",
	)
	assert admin.order(order["name"])["status"] == "Partially Invoiced"

	r = admin.method(CREATE_INVOICE, sales_order=order["name"], lines=[{"item": desk["name"], "qty": 4}])
	assert r.status_code == 409
	assert "only 3 of 4 is outstanding" in server_message(r)

	r = admin.method(CREATE_INVOICE, sales_order=order["name"])  # everything outstanding
	assert r.status_code == 200, r.text
	second = r.json()["message"]
	assert money(first["total"]) + money(second["total"]) == money(order["grand_total"])
	done = admin.order(order["name"])
	assert done["status"] == "Fully Invoiced"
	assert money(done["outstanding_amount"]) == 0

	r = admin.method("xero_sales_orders.api.orders.close", sales_order=order["name"])
	assert r.status_code == 200, r.text
	assert admin.order(order["name"])["status"] == "Closed"
	r = admin.method("xero_sales_orders.api.orders.reopen", sales_order=order["name"])
	assert admin.order(order["name"])["status"] == "Fully Invoiced"


def test_short_close_stops_invoicing(admin):
	order = admin.create_order([{"description": "Service", "qty": 10, "unit_price": 100, "tax_rate": 15}])
	line = order["items"][0]["name"]
	assert (
		admin.method(CREATE_INVOICE, sales_order=order["name"], lines=[{"item": line, "qty": 3}]).status_code
		== 200
	)
	assert admin.method("xero_sales_orders.api.orders.close", sales_order=order["name"]).status_code == 200
	r = admin.method(CREATE_INVOICE, sales_order=order["name"])
	assert r.status_code == 409 and "Closed" in server_message(r)
	closed = admin.order(order["name"])
	assert closed["status"] == "Closed" and closed["items"][0]["outstanding_qty"] == 7


def test_bad_input_gets_specific_errors_and_writes_nothing(admin):
	r = admin.post(
		admin.resource(ORDER),
		{"customer": "X", "currency": "NZD", "items": [{"description": "x", "qty": 0, "unit_price": 5}]},
	)
	assert r.status_code == 417 and "Quantity must be greater than 0" in server_message(r)
	r = admin.post(
		admin.resource(ORDER),
		{"customer": "X", "currency": "NZD", "items": [{"description": "x", "qty": 1, "unit_price": -5}]},
	)
	assert r.status_code == 417 and "Unit price cannot be negative" in server_message(r)
	r = admin.post(
		admin.resource(ORDER),
		{
			"customer": "X",
			"currency": "NZD",
			"items": [{"description": "x", "qty": 1, "unit_price": 5, "discount_rate": 101}],
		},
	)
	assert r.status_code == 417 and "between 0 and 100" in server_message(r)
	r = admin.post(
		admin.resource(ORDER),
		{"customer": "X", "currency": "NZD", "items": [{"description": "x", "qty": "ten", "unit_price": 5}]},
	)
	assert r.status_code == 417 and "Quantity must be a number" in server_message(r)

	draft = admin.create_order([{"description": "Draft line", "qty": 2, "unit_price": 5}], submit=False)
	r = admin.method(CREATE_INVOICE, sales_order=draft["name"])
	assert r.status_code == 409 and "Draft" in server_message(r)

	order = admin.create_order([{"description": "Line", "qty": 2, "unit_price": 5}])
	line = order["items"][0]["name"]
	cases = [
		([{"item": line, "qty": -1}], 400, "greater than 0"),
		([{"item": line, "qty": "two"}], 400, "qty must be a number"),
		([{"item": "nope", "qty": 1}], 400, "not a line of this order"),
		({"item": line}, 400, "must be a list"),
		([{"item": line, "qty": 3}], 409, "only 2 of 2 is outstanding"),
	]
	for lines, status, message in cases:
		r = admin.method(CREATE_INVOICE, sales_order=order["name"], lines=lines)
		assert r.status_code == status, (lines, r.status_code, r.text)
		assert message in server_message(r)
		assert "Traceback" not in r.text
	r = admin.method(CREATE_INVOICE, sales_order="XSO-NOPE")
	assert r.status_code == 404
	assert admin.order(order["name"])["status"] == "Open"
	r = admin.get(
		admin.resource("Xero Invoice"), params={"filters": f'[["sales_order","=","{order["name"]}"]]'}
	)
	assert r.json()["data"] == []


def test_roles_are_enforced_over_rest(admin, make_user):
	order = admin.create_order([{"description": "Role line", "qty": 5, "unit_price": 10}])
	line = order["items"][0]["name"]
	nobody = make_user("xso-e2e-nobody@example.com", [])
	r = nobody.method(CREATE_INVOICE, sales_order=order["name"], lines=[{"item": line, "qty": 1}])
	assert r.status_code == 403
	assert nobody.get(nobody.resource(ORDER, order["name"])).status_code == 403

	sales = make_user("xso-e2e-sales@example.com", ["Xero Sales User"])
	r = sales.method(CREATE_INVOICE, sales_order=order["name"], lines=[{"item": line, "qty": 1}])
	assert r.status_code == 200, r.text
	assert sales.method("xero_sales_orders.api.orders.close", sales_order=order["name"]).status_code == 403
	manager = make_user("xso-e2e-manager@example.com", ["Xero Sales User", "Xero Sales Manager"])
	assert manager.method("xero_sales_orders.api.orders.close", sales_order=order["name"]).status_code == 200

	retry = "xero_sales_orders.api.webhook.retry_events"
	assert sales.method(retry, events=["anything"]).status_code == 403
	r = manager.method(retry, events=["no-such-event"])
	assert r.status_code == 404 and "no-such-event not found" in server_message(r)
	r = manager.method(retry, events={"name": "x"})
	assert r.status_code == 417 and "must be a list" in server_message(r)


def _race(order, requests_):
	clients = [Client() for _ in range(len(requests_))]

	def fire(pair):
		client, lines = pair
		return client.method(CREATE_INVOICE, sales_order=order, lines=lines)

	with ThreadPoolExecutor(max_workers=len(requests_)) as pool:
		return list(pool.map(fire, zip(clients, requests_, strict=True)))


def test_twenty_concurrent_requests_never_over_invoice(admin):
	order = admin.create_order(
		[{"description": "Contended", "qty": 10, "unit_price": 3.3333, "tax_rate": 15}]
	)
	line = order["items"][0]["name"]
	responses = _race(order["name"], [[{"item": line, "qty": 1}]] * 20)
	codes = sorted(r.status_code for r in responses)
	assert codes.count(200) == 10, [(r.status_code, r.text[:200]) for r in responses]
	assert codes.count(409) == 10
	for r in responses:
		if r.status_code == 409:
			assert "outstanding" in server_message(r) or "fully invoiced" in server_message(r)
	done = admin.order(order["name"])
	assert done["items"][0]["invoiced_qty"] == 10
	assert done["status"] == "Fully Invoiced"
	numbers = sorted(r.json()["message"]["invoice_number"] for r in responses if r.status_code == 200)
	assert len(set(numbers)) == 10
	assert sum(money(r.json()["message"]["total"]) for r in responses if r.status_code == 200) == money(
		done["grand_total"]
	)


def test_concurrent_requests_for_everything_outstanding_invoice_once(admin):
	order = admin.create_order([{"description": "All at once", "qty": 7, "unit_price": 12}])
	responses = _race(order["name"], [None] * 20)
	assert sorted(r.status_code for r in responses).count(200) == 1
	assert admin.order(order["name"])["items"][0]["invoiced_qty"] == 7
