"""Xero sandbox webhooks: the published signature vector, signed deliveries and intent to receive."""

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from xero_sales_orders.xero.webhooks import sign, verify
from xero_sandbox.webhooks import mis_sign

# Published in XeroAPI/XeroWebhooksReceiver#1 (facts §6).
VECTOR_KEY = "LR+QgKlbRciIPYpi65tTKLaZ3FzLLofCNEQWrRXqWXJeDFrfexzfVI9SmnVuCWDJ4jnjHB9ECtOyxZSofRxwWw=="
VECTOR_BODY = (
	b'{"events":[],"firstEventSequence": 0,"lastEventSequence": 0, "entropy": "LUWDSUDGSWNZVALZXBEV"}'
)
VECTOR_SIGNATURE = "BjzNbYUfrzg4g8wxm+dKHaZVrKxr2m75E296fUbD1E4="


def facts_sheet_signature(body: bytes, key: str) -> str:
	"""The algorithm exactly as the facts sheet states it, independent of the code under test."""
	return base64.b64encode(hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()).decode()


def test_published_test_vector():
	assert len(VECTOR_BODY) == 95
	assert facts_sheet_signature(VECTOR_BODY, VECTOR_KEY) == VECTOR_SIGNATURE
	assert sign(VECTOR_BODY, VECTOR_KEY) == VECTOR_SIGNATURE
	assert verify(VECTOR_BODY, VECTOR_SIGNATURE, VECTOR_KEY)
	assert not verify(
		VECTOR_BODY, "/jzNbYUfrzg4g8wxm+dKHaZVrKxr2m75E296fUbD1E4=", VECTOR_KEY
	)  # ITR's mis-signed one
	decoded_key = hmac.new(base64.b64decode(VECTOR_KEY), VECTOR_BODY, hashlib.sha256).digest()
	assert base64.b64encode(decoded_key).decode() == "Mq69bgTi4NjaAH80DD36XGZTvVkmO6OvkkRpU2zYijA="
	assert mis_sign(VECTOR_SIGNATURE) != VECTOR_SIGNATURE and len(mis_sign(VECTOR_SIGNATURE)) == len(
		VECTOR_SIGNATURE
	)


class Receiver:
	"""A webhook endpoint as the app should run it: 200 with no body if signed right, else 401."""

	def __init__(self, key: str, always_ok: bool = False):
		self.key, self.always_ok = key, always_ok
		self.deliveries: list[tuple[bytes, dict]] = []
		receiver = self

		class Handler(BaseHTTPRequestHandler):
			def do_POST(self):
				body = self.rfile.read(int(self.headers["Content-Length"]))
				receiver.deliveries.append((body, dict(self.headers)))
				good = verify(body, self.headers.get("x-xero-signature"), receiver.key)
				self.send_response(200 if good or receiver.always_ok else 401)
				self.send_header("Content-Length", "0")
				self.end_headers()

			def log_message(self, *args):
				pass

		self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
		threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
		self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/webhooks/xero"

	def stop(self):
		self.httpd.shutdown()
		self.httpd.server_close()


@pytest.fixture
def receiver(sandbox):
	running = Receiver(sandbox.webhook_key)
	yield running
	running.stop()


def test_sender_signs_the_exact_bytes_it_sends(sandbox, receiver, xero_conformance):
	tenant = sandbox.tenant(0)
	invoice_id = next(iter(tenant.invoices))
	events = [
		{"tenant_id": tenant.tenant_id, "category": "INVOICE", "type": "UPDATE", "resource_id": invoice_id}
	]
	answer = requests.post(
		f"{sandbox.url}/_sandbox/webhooks/send", json={"events": events, "url": receiver.url}, timeout=10
	)
	assert answer.json()["status"] == 200

	body, headers = receiver.deliveries[-1]
	assert headers["x-xero-signature"] == facts_sheet_signature(body, sandbox.webhook_key)
	assert b'"firstEventSequence": 1,"lastEventSequence": 1, "entropy": "' in body  # Xero's own spacing
	payload = json.loads(body)
	event = payload["events"][0]
	assert event["resourceUrl"] == f"{sandbox.url}/api.xro/2.0/Invoices/{invoice_id}"
	assert (event["eventCategory"], event["eventType"], event["tenantId"], event["tenantType"]) == (
		"INVOICE",
		"UPDATE",
		tenant.tenant_id,
		"ORGANISATION",
	)
	assert len(payload["entropy"]) == 20
	assert xero_conformance.check_webhook(body, headers) == []

	bad = {"events": events, "url": receiver.url, "bad_signature": True}
	assert (
		requests.post(f"{sandbox.url}/_sandbox/webhooks/send", json=bad, timeout=10).json()["status"] == 401
	)
	unknown = {"events": [{**events[0], "tenant_id": "nobody"}], "url": receiver.url}
	assert requests.post(f"{sandbox.url}/_sandbox/webhooks/send", json=unknown, timeout=10).status_code == 400


def test_intent_to_receive(sandbox, receiver):
	result = requests.post(
		f"{sandbox.url}/_sandbox/webhooks/itr", json={"url": receiver.url}, timeout=30
	).json()
	assert result["passed"] is True
	assert {p["expected"] for p in result["probes"]} == {200, 401}
	assert all(p["got"] == p["expected"] and p["body_empty"] for p in result["probes"])
	assert all(json.loads(body)["events"] == [] for body, _ in receiver.deliveries)

	careless = Receiver(sandbox.webhook_key, always_ok=True)  # never checks the signature
	try:
		failed = requests.post(
			f"{sandbox.url}/_sandbox/webhooks/itr", json={"url": careless.url}, timeout=30
		).json()
	finally:
		careless.stop()
	assert failed["passed"] is False
	assert [p["ok"] for p in failed["probes"] if p["expected"] == 401] == [False, False]


def test_default_webhook_url_comes_from_the_options(sandbox_factory):
	receiver = Receiver("another-key")
	try:
		server = sandbox_factory(webhook_key="another-key", webhook_url=receiver.url)
		tenant = server.tenant(1)
		contact_id = next(iter(tenant.contacts))
		events = [
			{
				"tenant_id": tenant.tenant_id,
				"category": "CONTACT",
				"type": "CREATE",
				"resource_id": contact_id,
			}
		]
		assert (
			requests.post(f"{server.url}/_sandbox/webhooks/send", json={"events": events}, timeout=10).json()[
				"status"
			]
			== 200
		)
		assert json.loads(receiver.deliveries[0][0])["events"][0]["resourceUrl"].endswith(
			f"/Contacts/{contact_id}"
		)
	finally:
		receiver.stop()
