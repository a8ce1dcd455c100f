"""The webhook endpoint on production's web server: gunicorn with sync workers and --preload, as bench
sets production up. There deliveries take the short path (xero_sales_orders/webhook_request.py) and
each worker keeps its MariaDB connection between deliveries."""

import json
import os
import re
import subprocess
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
	# The worker's first request goes through Frappe's whole pipeline; the ones after take the short path.
	probe = b'{"events":[],"firstEventSequence": 0,"lastEventSequence": 0, "entropy": "LUWDSUDGSWNZVALZXBEV"}'
	for _ in range(2):
		good = deliver(probe, signed(probe))
		assert (good.status_code, good.content) == (200, b"")
		assert "Set-Cookie" not in good.headers
	assert deliver(probe, signed(probe, "another-key")).status_code == 401
	assert deliver(probe.replace(b"LUWD", b"LUWE"), signed(probe)).status_code == 401
	assert deliver(probe, {"Content-Type": "application/json"}).status_code == 401
	junk = b"this is not json"
	assert deliver(junk, signed(junk)).status_code == 400
	huge = b"{" + b" " * (10 * 1024 * 1024) + b"}"
	assert deliver(huge, signed(huge)).status_code == 413
	resource_id = str(uuid.uuid4())
	body = delivery(sandbox_connection["tenant_id"], resource_id)
	assert deliver(body, signed(body)).status_code == 200
	assert deliver(body, signed(body)).status_code == 200  # Xero delivers twice: stored once
	assert len(stored_status(admin, resource_id)) == 1


def site_db() -> dict:
	conf = json.loads((Path(os.environ["XSO_BENCH_PATH"]) / "sites" / SITE / "site_config.json").read_text())
	return {"user": conf["db_name"], "password": conf["db_password"], "database": conf["db_name"]}


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


def kill_worker_connections() -> int:
	"""Closes, from the server's side, every MariaDB connection a gunicorn worker holds."""
	workers = gunicorn_workers()
	sockets = subprocess.run(
		["ss", "-tnpH", "( dport = :3306 )"], capture_output=True, text=True, check=True
	).stdout
	ports = [
		local.rsplit(":", 1)[1]
		for line in sockets.splitlines()
		for local in [line.split()[3]]
		if any(int(pid) in workers for pid in re.findall(r"pid=(\d+)", line))
	]
	db = site_db()
	mysql = ["mysql", "-h127.0.0.1", f"-u{db['user']}", f"-p{db['password']}", "-N", "-e"]
	killed = 0
	for port in ports:
		ids = subprocess.run(
			# MariaDB names the client host:port, with the host as it resolved it (localhost, 127.0.0.1, ...).
			[*mysql, f"select id from information_schema.processlist where host like '%:{port}'"],
			capture_output=True,
			text=True,
			check=True,
		).stdout.split()
		for connection_id in ids:
			subprocess.run([*mysql, f"kill {connection_id}"], capture_output=True, check=True)
			killed += 1
	return killed


def test_a_worker_whose_kept_connection_was_closed_still_stores_the_delivery(sandbox_connection, admin):
	tenant = sandbox_connection["tenant_id"]
	before, after = str(uuid.uuid4()), str(uuid.uuid4())
	body = delivery(tenant, before)
	assert deliver(body, signed(body)).status_code == 200
	# The worker kept its connection after answering; the server closes it (a restart, wait_timeout).
	assert kill_worker_connections() >= 1
	body = delivery(tenant, after)
	answer = deliver(body, signed(body))
	assert (answer.status_code, answer.content) == (200, b"")
	assert len(stored_status(admin, before)) == 1 and len(stored_status(admin, after)) == 1


def test_invoice_paid_in_xero_flows_back_through_gunicorn(sandbox_connection, admin):
	order = order_in_xero_organisation(admin, sandbox_connection, qty=2)
	invoice = invoice_pushed(admin, order, qty=2)
	pay_in_xero(invoice["xero_invoice_id"])
	body = delivery(sandbox_connection["tenant_id"], invoice["xero_invoice_id"])
	assert deliver(body, signed(body)).status_code == 200
	assert wait_for_invoice_status(admin, invoice["name"], "PAID") == "PAID"
	assert stored_status(admin, invoice["xero_invoice_id"]) == ["Processed"]
