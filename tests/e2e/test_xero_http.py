"""Xero over HTTP: the consent through the real callback, invoices pushed to the sandbox, webhooks."""

import json
import uuid

import requests

from .conftest import (
	BASE_URL,
	SANDBOX_URL,
	WEBHOOK_KEY,
	invoice_pushed,
	order_in_xero_organisation,
	pay_in_xero_and_notify,
	wait_for_invoice_status,
)

WEBHOOK = f"{BASE_URL}/api/method/xero_sales_orders.api.webhook.receive"


def signed(body: bytes, key: str = WEBHOOK_KEY) -> dict:
	import base64
	import hashlib
	import hmac

	signature = base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()
	return {"x-xero-signature": signature, "Content-Type": "application/json"}


def test_webhook_answers_as_xero_requires(admin):
	body = b'{"events":[],"firstEventSequence": 0,"lastEventSequence": 0, "entropy": "LUWDSUDGSWNZVALZXBEV"}'
	good = requests.post(WEBHOOK, data=body, headers=signed(body), timeout=10)
	assert (good.status_code, good.content) == (200, b"")
	assert "Set-Cookie" not in good.headers
	bad = requests.post(WEBHOOK, data=body, headers=signed(body, "another-key"), timeout=10)
	assert (bad.status_code, bad.content) == (401, b"")
	altered = requests.post(WEBHOOK, data=body.replace(b"LUWD", b"LUWE"), headers=signed(body), timeout=10)
	assert altered.status_code == 401
	missing = requests.post(WEBHOOK, data=body, headers={"Content-Type": "application/json"}, timeout=10)
	assert missing.status_code == 401
	# A signed body that is not JSON: sent as JSON, Frappe parses it before any app code runs and answers
	# 500 itself; sent as anything else it reaches the endpoint, which answers 400. Neither stores anything.
	resource_id = str(uuid.uuid4())
	junk = b'{"events":[{"resourceId":"%s","tenantId":"%s"' % (
		resource_id.encode(),
		uuid.uuid4().hex.encode(),
	)
	as_json = requests.post(WEBHOOK, data=junk, headers=signed(junk), timeout=10)
	assert not 200 <= as_json.status_code < 300 and as_json.status_code >= 400, as_json.status_code
	as_text = {**signed(junk), "Content-Type": "text/plain"}
	assert requests.post(WEBHOOK, data=junk, headers=as_text, timeout=10).status_code == 400
	stored = admin.get(
		admin.resource("Xero Webhook Event"),
		params={"filters": json.dumps([["resource_id", "=", resource_id]])},
	)
	assert (stored.status_code, stored.json()["data"]) == (200, [])
	huge = b"{" + b" " * (10 * 1024 * 1024) + b"}"
	too_big = requests.post(WEBHOOK, data=huge, headers=signed(huge), timeout=30)
	assert too_big.status_code == 413
	for answer in (bad, altered, missing, too_big):
		assert b"Traceback" not in answer.content


def test_xeros_intent_to_receive_series_passes(sandbox_connection):
	report = requests.post(f"{SANDBOX_URL}/_sandbox/webhooks/itr", json={"url": WEBHOOK}, timeout=60).json()
	probes = report.get("probes") or report.get("results") or []
	assert probes, report
	assert all(p["expected"] == p["got"] for p in probes), report


def test_invoice_pushed_then_paid_in_xero_flows_back(admin, sandbox_connection):
	conn = sandbox_connection
	order = order_in_xero_organisation(admin, conn, qty=6)
	invoice = invoice_pushed(admin, order, qty=2)
	assert invoice["status"] == "AUTHORISED" and invoice["online_url"]
	pay_in_xero_and_notify(conn, invoice["xero_invoice_id"])
	assert wait_for_invoice_status(admin, invoice["name"], "PAID") == "PAID"
	assert float(admin.order(order["name"])["paid_amount"]) == float(invoice["total"])
