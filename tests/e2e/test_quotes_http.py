"""Orders from Xero quotes over HTTP against the sandbox (issue 15, item 1): a quote made and accepted in Xero is
listed, becomes an order equal to it, refusals come back with their status and reason, concurrent requests make
one order, and once the order is fully invoiced the background worker sets the quote to INVOICED in Xero."""

import base64
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from .conftest import SANDBOX_CLIENT, SANDBOX_URL, Client, server_message

API = "xero_sales_orders.api.quotes"
ORDER = "Xero Sales Order"


def money(value) -> Decimal:
	return Decimal(str(value)).quantize(Decimal("0.01"))


class XeroUser:
	"""Someone working in the sandbox organisation itself (making and accepting quotes), with a consent of
	their own."""

	def __init__(self, tenant_id: str):
		self.tenant_id = tenant_id
		answer = requests.get(
			f"{SANDBOX_URL}/identity/connect/authorize",
			params={
				"response_type": "code",
				"client_id": SANDBOX_CLIENT[0],
				"redirect_uri": "http://127.0.0.1:9/callback",
				"scope": "openid offline_access accounting.invoices accounting.contacts",
				"state": uuid.uuid4().hex,
			},
			allow_redirects=False,
			timeout=30,
		)
		assert answer.status_code == 302, answer.text
		code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
		basic = base64.b64encode(f"{SANDBOX_CLIENT[0]}:{SANDBOX_CLIENT[1]}".encode()).decode()
		tokens = requests.post(
			f"{SANDBOX_URL}/connect/token",
			data={
				"grant_type": "authorization_code",
				"code": code,
				"redirect_uri": "http://127.0.0.1:9/callback",
			},
			headers={"Authorization": f"Basic {basic}"},
			timeout=30,
		)
		assert tokens.status_code == 200, tokens.text
		self.headers = {
			"Authorization": f"Bearer {tokens.json()['access_token']}",
			"xero-tenant-id": tenant_id,
			"Accept": "application/json",
		}

	def call(self, method: str, path: str, body=None, params=None) -> dict:
		for _attempt in range(30):  # the organisation's minute limit is shared with the site: wait it out
			answer = requests.request(
				method,
				f"{SANDBOX_URL}/api.xro/2.0{path}",
				json=body,
				params=params,
				headers=self.headers,
				timeout=30,
			)
			if answer.status_code != 429:
				break
			time.sleep(float(answer.headers.get("Retry-After") or 1))
		assert answer.status_code == 200, answer.text
		return answer.json()

	def contact_id(self) -> str:
		contacts = self.call("GET", "/Contacts", params={"where": 'ContactStatus=="ACTIVE"'})["Contacts"]
		return contacts[0]["ContactID"]

	def sales_tax(self) -> str:
		rates = self.call("GET", "/TaxRates")["TaxRates"]
		return next(
			r["TaxType"]
			for r in rates
			if r["Status"] == "ACTIVE" and r.get("CanApplyToRevenue") and Decimal(str(r["EffectiveRate"])) > 0
		)

	def quote(self, status="ACCEPTED", **fields) -> dict:
		tax = {"TaxType": self.sales_tax(), "AccountCode": "200"}
		body = {
			"Contact": {"ContactID": self.contact_id()},
			"Date": "2026-05-04",
			"Reference": f"PO-{uuid.uuid4().hex[:6]}",
			"LineItems": [
				{"Description": "Oak desk", "Quantity": 3, "UnitAmount": 0.3333, **tax},
				{
					"Description": "Chair",
					"Quantity": 7,
					"UnitAmount": 4.3333,
					"DiscountAmount": 1.11,
					**tax,
				},
				{
					"Description": "Freight",
					"Quantity": 1,
					"UnitAmount": 19.99,
					"TaxAmount": 2.97,
					**tax,
				},
			],
			**fields,
		}
		quote = self.call("PUT", "/Quotes", {"Quotes": [body]})["Quotes"][0]
		steps = {"DRAFT": [], "SENT": ["SENT"]}.get(status, ["SENT", "ACCEPTED"])
		for step in steps:
			# Xero clears the header fields a POST leaves out: a user's change keeps them.
			keys = ("Contact", "Date", "Reference", "Terms", "Title", "Summary", "ExpiryDate")
			header = {k: body[k] for k in keys if k in body}
			header["LineAmountTypes"] = quote["LineAmountTypes"]
			quote = self.call(
				"POST", f"/Quotes/{quote['QuoteID']}", {"Quotes": [{**header, "Status": step}]}
			)["Quotes"][0]
		return self.call("GET", f"/Quotes/{quote['QuoteID']}")["Quotes"][0]


@pytest.fixture(scope="module")
def organisation(sandbox_connection):
	# Call-heavy: the sandbox's last organisation, so the others keep their minute budget.
	return sandbox_connection["organisations"][-1]


@pytest.fixture(scope="module")
def xero_user(organisation):
	return XeroUser(organisation["tenant_id"])


def create_order(client, organisation, quote_id):
	return client.method(
		f"{API}.create_order",
		connection=organisation["name"],
		tenant_id=organisation["tenant_id"],
		quote=quote_id,
	)


def test_an_accepted_quote_becomes_an_order_and_its_quote_is_invoiced_once_the_order_is(
	admin, organisation, xero_user
):
	quote = xero_user.quote(LineAmountTypes="INCLUSIVE", Terms="Net 20")
	listed = admin.get(
		f"/api/method/{API}.quotes",
		params={"connection": organisation["name"], "tenant_id": organisation["tenant_id"]},
	)
	assert listed.status_code == 200, listed.text
	row = next(q for q in listed.json()["message"]["quotes"] if q["quote_id"] == quote["QuoteID"])
	assert (row["can_order"], row["status"], row["line_amount_type"]) == (True, "ACCEPTED", "Inclusive")

	answer = create_order(admin, organisation, quote["QuoteID"])
	assert answer.status_code == 200, answer.text
	order = answer.json()["message"]
	assert (order["docstatus"], order["status"], order["line_amount_type"]) == (1, "Open", "Inclusive")
	assert (order["xero_quote_number"], order["po_number"]) == (quote["QuoteNumber"], quote["Reference"])
	assert [money(order[k]) for k in ("subtotal", "total_tax", "grand_total")] == [
		money(quote[k]) for k in ("SubTotal", "TotalTax", "Total")
	]
	assert [row["amounts_from_xero"] for row in order["items"]] == [0, 0, 1]

	again = create_order(admin, organisation, quote["QuoteID"])
	assert again.status_code == 409 and f"already order {order['name']}" in server_message(again)

	invoice = admin.method("xero_sales_orders.api.orders.create_invoice", sales_order=order["name"])
	assert invoice.status_code == 200, invoice.text
	assert invoice.json()["message"]["push_state"] == "Pushed", invoice.json()["message"]["last_error"]
	deadline = time.time() + 90
	while admin.order(order["name"])["quote_invoiced"] != "Done" and time.time() < deadline:
		time.sleep(1)
	done = admin.order(order["name"])
	assert (done["status"], done["quote_invoiced"], done["xero_quote_status"]) == (
		"Fully Invoiced",
		"Done",
		"INVOICED",
	), done.get("quote_error")
	in_xero = xero_user.call("GET", f"/Quotes/{quote['QuoteID']}")["Quotes"][0]
	assert (in_xero["Status"], in_xero["Terms"], in_xero["Total"]) == ("INVOICED", "Net 20", quote["Total"])


def test_refusals_come_back_with_their_status_and_reason_and_write_nothing(admin, organisation, xero_user):
	def orders():
		return len(admin.get(admin.resource(ORDER), params={"limit_page_length": 0}).json()["data"])

	before = orders()
	draft = xero_user.quote(status="DRAFT")
	answer = create_order(admin, organisation, draft["QuoteID"])
	assert answer.status_code == 409, answer.text
	assert "is DRAFT in Xero: only an ACCEPTED quote can become an order" in server_message(answer)
	assert create_order(admin, organisation, "00000000-0000-0000-0000-000000000000").status_code == 404
	assert create_order(admin, organisation, "QU-0001").status_code == 400
	bad_page = admin.get(f"/api/method/{API}.quotes", params={"connection": organisation["name"], "page": 0})
	assert bad_page.status_code == 400
	get_create = admin.get(
		f"/api/method/{API}.create_order",
		params={"connection": organisation["name"], "quote": draft["QuoteID"]},
	)
	assert get_create.status_code in (403, 405), get_create.status_code  # writes are POST only
	for refused in (answer, bad_page):
		assert b"Traceback" not in refused.content
	assert orders() == before


def test_concurrent_requests_for_one_quote_make_one_order(admin, organisation, xero_user):
	quote = xero_user.quote()
	clients = [Client() for _ in range(6)]
	with ThreadPoolExecutor(len(clients)) as pool:
		answers = list(pool.map(lambda c: create_order(c, organisation, quote["QuoteID"]), clients))
	codes = sorted(a.status_code for a in answers)
	assert codes == [200] + [409] * (len(clients) - 1), [a.text[:200] for a in answers]
	made = admin.get(
		admin.resource(ORDER),
		params={"filters": f'[["xero_quote_id", "=", "{quote["QuoteID"]}"]]', "limit_page_length": 0},
	).json()["data"]
	assert len(made) == 1


def test_only_users_who_may_make_orders_reach_the_quotes(make_user, organisation, xero_user):
	quote = xero_user.quote()
	outsider = make_user("xso-e2e-quotes-outsider@example.com", ["Blogger"])
	listed = outsider.get(f"/api/method/{API}.quotes", params={"connection": organisation["name"]})
	assert listed.status_code == 403
	assert create_order(outsider, organisation, quote["QuoteID"]).status_code == 403
	seller = make_user("xso-e2e-quotes-seller@example.com", ["Xero Sales User"])
	made = create_order(seller, organisation, quote["QuoteID"])
	assert made.status_code == 200, made.text
	retry = seller.method(f"{API}.retry_quote_invoiced", sales_order=made.json()["message"]["name"])
	assert retry.status_code == 403  # sending to Xero again is the managers' right


def test_a_quotes_batch_makes_the_orders_in_the_background_once(admin, organisation, xero_user):
	accepted = [xero_user.quote(Date=f"2026-07-{day:02d}") for day in (1, 31)]
	xero_user.quote(Date="2026-07-15", status="SENT")
	xero_user.quote(Date="2026-08-01")
	r = admin.post(
		admin.resource("Xero Import Batch"),
		{
			"connection": organisation["name"],
			"tenant_id": organisation["tenant_id"],
			"from_date": "2026-07-01",
			"to_date": "2026-07-31",
			"source": "Quotes",
		},
	)
	assert r.status_code == 200, r.text
	batch = r.json()["data"]["name"]
	preview = admin.method("xero_sales_orders.api.importing.preview", batch=batch)
	assert preview.status_code == 200, preview.text
	assert preview.json()["message"]["summary"]["to_create"] == 2
	rows = admin.get(
		"/api/method/xero_sales_orders.api.importing.groups", params={"batch": batch, "view": "importable"}
	).json()["message"]["rows"]
	assert {row["quote_id"] for row in rows} == {q["QuoteID"] for q in accepted}

	def run_to_the_end():
		started = admin.method("xero_sales_orders.api.importing.start", batch=batch)
		assert started.status_code == 200, started.text
		deadline = time.time() + 90
		while time.time() < deadline:
			doc = admin.get(admin.resource("Xero Import Batch", batch)).json()["data"]
			if doc["status"] in ("Completed", "Failed"):
				return doc
			time.sleep(1)
		raise AssertionError(f"batch {batch} did not finish: {doc['status']}")

	done = run_to_the_end()
	assert (done["status"], done["orders_created"]) == ("Completed", 2), done.get("error")
	made = admin.get(
		admin.resource(ORDER),
		params={
			"filters": f'[["import_batch", "=", "{batch}"]]',
			"fields": '["xero_quote_id", "grand_total"]',
		},
	).json()["data"]
	assert {m["xero_quote_id"] for m in made} == {q["QuoteID"] for q in accepted}
	assert sorted(money(m["grand_total"]) for m in made) == sorted(money(q["Total"]) for q in accepted)
	assert run_to_the_end()["orders_created"] == 2  # again: nothing twice
