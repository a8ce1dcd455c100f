"""Web workers killed while their invoices are on the way to a slow Xero: the retry finds in Xero what the dead
workers sent and marks it Pushed; nothing ends Failed ("Invoice # must be unique"), nothing is doubled or lost."""

import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .conftest import ADMIN_PASSWORD, SANDBOX_URL, first

GUNICORN_URL = os.environ.get("XSO_GUNICORN_URL")
GUNICORN_PID = os.environ.get("XSO_GUNICORN_PID")
BENCH = os.environ.get("XSO_BENCH_PATH")
SITE = os.environ.get("XSO_SITE")

pytestmark = pytest.mark.skipif(
	not (GUNICORN_URL and GUNICORN_PID and BENCH),
	reason="needs the gunicorn and bench the test command starts",
)


def gunicorn_session() -> requests.Session:
	session = requests.Session()
	session.headers.update({"X-Frappe-Site-Name": SITE, "Accept": "application/json"})
	r = session.post(
		f"{GUNICORN_URL}/api/method/login", json={"usr": "Administrator", "pwd": ADMIN_PASSWORD}, timeout=60
	)
	r.raise_for_status()
	return session


def workers() -> list[int]:
	out = subprocess.run(["pgrep", "-P", GUNICORN_PID], capture_output=True, text=True).stdout
	return [int(pid) for pid in out.split()]


def bench(*args) -> str:
	result = subprocess.run(
		["bench", "--site", SITE, *args], cwd=BENCH, capture_output=True, text=True, timeout=300
	)
	assert result.returncode == 0, result.stderr[-2000:]
	return result.stdout


def in_xero(conn: dict, numbers: list[str]) -> list[dict]:
	"""What Xero holds under these invoice numbers, asked with the connection's own access token."""
	token = bench(
		"execute", "xero_sales_orders.services.xero_tokens.get_access_token", "--args", repr([conn["name"]])
	)
	r = requests.get(
		f"{SANDBOX_URL}/api.xro/2.0/Invoices",
		params={"InvoiceNumbers": ",".join(numbers), "page": 1},
		headers={
			"Authorization": f"Bearer {token.strip().strip(chr(34))}",
			"xero-tenant-id": conn["tenant_id"],
			"Accept": "application/json",
		},
		timeout=30,
	)
	r.raise_for_status()
	return r.json()["Invoices"]


def test_workers_killed_mid_push_leave_nothing_failed_doubled_or_lost(admin, sandbox_connection):
	conn = sandbox_connection["organisations"][1]  # many calls: the second organisation's minute budget
	org = [["connection", "=", conn["name"]], ["tenant_id", "=", conn["tenant_id"]]]
	customer = first(admin, "Xero Contact", [*org, ["contact_status", "=", "ACTIVE"]])
	item = first(admin, "Xero Item", [*org, ["is_sold", "=", 1]])
	orders = [
		admin.create_order([{"item": item, "qty": 5}], customer=customer, currency=conn["currency"])
		for _ in range(20)
	]
	fault = {"kind": "slow", "delay": 2, "path": "/api.xro/2.0/Invoices", "method": "PUT"}
	requests.post(f"{SANDBOX_URL}/_sandbox/faults", json=fault, timeout=10).raise_for_status()
	session = gunicorn_session()
	done = threading.Event()

	def killer():
		for wait in (3, 8):
			if done.wait(wait):
				return
			for pid in workers():
				os.kill(pid, 9)  # gunicorn's master starts a fresh worker

	def invoice(order):
		try:
			r = session.post(
				f"{GUNICORN_URL}/api/method/xero_sales_orders.api.orders.create_invoice",
				json={"sales_order": order["name"], "lines": [{"item": order["items"][0]["name"], "qty": 2}]},
				timeout=120,
			)
			return r.status_code
		except requests.ConnectionError:
			return "killed"

	thread = threading.Thread(target=killer)
	thread.start()
	try:
		with ThreadPoolExecutor(4) as pool:
			answers = list(pool.map(invoice, orders))
	finally:
		done.set()
		thread.join()
		requests.delete(f"{SANDBOX_URL}/_sandbox/faults", timeout=10)
	assert "killed" in answers, "no worker died mid-request; the test proved nothing"
	names = [order["name"] for order in orders]
	time.sleep(2.5)  # let the sandbox finish what the dead workers sent
	# Minutes pass: the dead workers' claims lapse and the retry's backoff is over.
	bench(
		"execute",
		"frappe.db.sql",
		"--args",
		repr(
			[
				"update `tabXero Invoice` set push_claimed_until = '2000-01-01', last_attempt_at = now()"
				" - interval 10 minute where sales_order in %s",
				[names],
			]
		),
	)
	bench("execute", "xero_sales_orders.services.invoice_push.retry_pending")
	invoices = []
	for name in names:
		r = admin.method("xero_sales_orders.api.orders.invoices", sales_order=name)
		invoices += r.json()["message"]
	assert {i["push_state"] for i in invoices} == {"Pushed"}, [
		(i["name"], i["push_state"], i["last_error"]) for i in invoices if i["push_state"] != "Pushed"
	]
	held = in_xero(conn, [i["invoice_number"] for i in invoices])
	assert sorted(x["InvoiceNumber"] for x in held) == sorted(i["invoice_number"] for i in invoices)
	assert {x["InvoiceID"] for x in held} == {i["xero_invoice_id"] for i in invoices}
