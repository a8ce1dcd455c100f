"""The webhook endpoint on production's web server: gunicorn with sync workers and --preload, as bench
sets production up. Deliveries go through Frappe's own request handling like any whitelisted method: each
worker opens its database connection for a request and closes it afterwards, keeping none between them."""

import json
import os
import subprocess
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from xero_sandbox.webhooks import WebhookSender

from .conftest import invoice_pushed, order_in_xero_organisation, pay_in_xero, wait_for_invoice_status
from .test_xero_http import signed

GUNICORN_URL = os.environ.get("XSO_GUNICORN_URL")
SITE = os.environ.get("XSO_SITE")
PATH = "/api/method/xero_sales_orders.api.webhook.receive"
XERO = WebhookSender(
	key="", default_url=None, api_url="https://api.xero.com", now=lambda: datetime.now(timezone.utc)
)

pytestmark = pytest.mark.skipif(not GUNICORN_URL, reason="XSO_GUNICORN_URL is not set: no gunicorn to test")


def deliver(body: bytes, headers: dict) -> requests.Response:
	return requests.post(
		GUNICORN_URL + PATH, data=body, headers={"X-Frappe-Site-Name": SITE, **headers}, timeout=30
	)


def delivery(tenant_id: str, resource_id: str) -> bytes:
	"""One invoice event, in the exact bytes Xero sends (the sandbox's sender builds them)."""
	event = XERO.event({"tenant_id": tenant_id, "resource_id": resource_id}, tenant_known=lambda _: True)
	return XERO.build_body([event])


def stored_status(admin, resource_id: str):
	r = admin.get(
		admin.resource("Xero Webhook Event"),
		params={"filters": json.dumps([["resource_id", "=", resource_id]]), "fields": '["status"]'},
	)
	assert r.status_code == 200, r.text
	return [row["status"] for row in r.json()["data"]]


def test_deliveries_get_xeros_answers_from_a_fresh_worker_on(sandbox_connection, admin):
	probe = b'{"events":[],"firstEventSequence": 0,"lastEventSequence": 0, "entropy": "LUWDSUDGSWNZVALZXBEV"}'
	for _ in range(2):  # a worker's first request and the ones after it
		good = deliver(probe, signed(probe))
		assert (good.status_code, good.content) == (200, b"")
		assert "Set-Cookie" not in good.headers
	assert deliver(probe, signed(probe, "another-key")).status_code == 401
	assert deliver(probe.replace(b"LUWD", b"LUWE"), signed(probe)).status_code == 401
	assert deliver(probe, {"Content-Type": "application/json"}).status_code == 401
	# A signed body that is not JSON: sent as JSON, Frappe parses it before any app code runs and answers
	# 500 itself; sent as anything else it reaches the endpoint, which answers 400. Neither stores anything.
	resource_id = str(uuid.uuid4())
	cut = delivery(sandbox_connection["tenant_id"], resource_id)[:-3]
	as_json = deliver(cut, signed(cut))
	assert not 200 <= as_json.status_code < 300, as_json.status_code
	assert as_json.status_code >= 400
	as_text = deliver(cut, {**signed(cut), "Content-Type": "text/plain"})
	assert as_text.status_code == 400
	assert stored_status(admin, resource_id) == []
	huge = b"{" + b" " * (10 * 1024 * 1024) + b"}"
	assert deliver(huge, signed(huge)).status_code == 413
	resource_id = str(uuid.uuid4())
	body = delivery(sandbox_connection["tenant_id"], resource_id)
	assert deliver(body, signed(body)).status_code == 200
	assert deliver(body, signed(body)).status_code == 200  # Xero delivers twice: stored once
	assert len(stored_status(admin, resource_id)) == 1


def gunicorn_workers() -> set[int]:
	master = int(os.environ["XSO_GUNICORN_PID"])
	workers = set()
	for stat in Path("/proc").glob("[0-9]*/stat"):
		try:
			fields = stat.read_text().rsplit(")", 1)[1].split()
		except OSError:
			continue
		if int(fields[1]) == master:
			workers.add(int(stat.parent.name))
	return workers


def database_connections_of(pids: set[int]) -> list[str]:
	"""The MariaDB connections (TCP, port 3306, as the bench's sites use) these processes hold."""
	sockets = subprocess.run(
		["ss", "-tnpH", "( dport = :3306 )"], capture_output=True, text=True, check=True
	).stdout
	return [line for line in sockets.splitlines() if any(f"pid={pid}," in line for pid in pids)]


def test_a_worker_keeps_no_database_connection_between_deliveries(sandbox_connection, admin):
	resource_id = str(uuid.uuid4())
	body = delivery(sandbox_connection["tenant_id"], resource_id)
	assert deliver(body, signed(body)).status_code == 200
	assert len(stored_status(admin, resource_id)) == 1
	workers = gunicorn_workers()
	assert workers
	deadline = time.monotonic() + 10  # Frappe closes it once the answer has been sent
	while (held := database_connections_of(workers)) and time.monotonic() < deadline:
		time.sleep(0.2)
	assert held == []


def test_invoice_paid_in_xero_flows_back_through_gunicorn(sandbox_connection, admin):
	order = order_in_xero_organisation(admin, sandbox_connection, qty=2)
	invoice = invoice_pushed(admin, order, qty=2)
	pay_in_xero(invoice["xero_invoice_id"])
	body = delivery(sandbox_connection["tenant_id"], invoice["xero_invoice_id"])
	assert deliver(body, signed(body)).status_code == 200
	assert wait_for_invoice_status(admin, invoice["name"], "PAID") == "PAID"
	assert stored_status(admin, invoice["xero_invoice_id"]) == ["Processed"]
