"""End-to-end tests against a running bench: `python3 tools/xso_dev.py test` starts one and sets XSO_URL."""

import json
import os
import time
import uuid

import pytest
import requests

BASE_URL = os.environ.get("XSO_URL")

if not BASE_URL:
	pytest.skip("XSO_URL is not set: no running bench to test against", allow_module_level=True)

ADMIN_PASSWORD = os.environ.get("XSO_ADMIN_PASSWORD", "admin")
ORDER = "Xero Sales Order"
# Tools the test command found missing on this machine and could not install (tools/xso_dev.py).
MISSING_TOOLS = set(filter(None, os.environ.get("XSO_MISSING_TOOLS", "").split(",")))


def needs_tool(tool: str, why: str) -> None:
	"""Skips the calling test (or fixture) when the test command reported TOOL missing: exactly the tests
	that need it skip, and the summary counts them by this message."""
	if tool in MISSING_TOOLS:
		pytest.skip(f"{tool} is not installed: {why}")


class Client:
	"""A logged-in REST client; returns responses so tests can assert status codes and messages."""

	def __init__(self, user="Administrator", password=ADMIN_PASSWORD):
		self.session = requests.Session()
		self.session.headers["Accept"] = "application/json"
		r = self.session.post(f"{BASE_URL}/api/method/login", json={"usr": user, "pwd": password}, timeout=30)
		r.raise_for_status()

	def get(self, path, **kwargs):
		return self.session.get(f"{BASE_URL}{path}", timeout=60, **kwargs)

	def post(self, path, payload=None, **kwargs):
		return self.session.post(f"{BASE_URL}{path}", json=payload, timeout=60, **kwargs)

	def put(self, path, payload=None, **kwargs):
		return self.session.put(f"{BASE_URL}{path}", json=payload, timeout=60, **kwargs)

	def method(self, name, **payload):
		return self.post(f"/api/method/{name}", payload)

	def resource(self, doctype, name=""):
		return f"/api/resource/{doctype}" + (f"/{name}" if name else "")

	def sync(self, connection, **payload):
		"""Syncs the connection as an integrator would: an answer of Xero's minute limit (429, which earlier
		tests' calls in the same minute can bring) is waited out for its Retry-After and asked again."""
		for _attempt in range(3):
			r = self.method("xero_sales_orders.api.connection.sync", connection=connection, **payload)
			if r.status_code != 429:
				break
			assert r.headers.get("Retry-After", "").isdigit(), r.headers
			time.sleep(int(r.headers["Retry-After"]) + 1)
		return r

	def create_contact(self, name="E2E Customer Ltd"):
		"""A local Xero Contact (what a sync stores), for tests that need no Xero organisation."""
		r = self.post(
			self.resource("Xero Contact"),
			{"contact_id": str(uuid.uuid4()), "contact_name": name, "contact_status": "ACTIVE"},
		)
		assert r.status_code == 200, r.text
		return r.json()["data"]["name"]

	def create_order(self, items, submit=True, **fields):
		if "customer" not in fields:
			if not getattr(self, "_contact", None):
				self._contact = self.create_contact()
			fields["customer"] = self._contact
		doc = {
			"po_number": f"E2E-{uuid.uuid4().hex[:8]}",
			"currency": "NZD",
			"items": items,
			**fields,
		}
		r = self.post(self.resource(ORDER), doc)
		assert r.status_code == 200, r.text
		order = r.json()["data"]
		if submit:
			r = self.put(self.resource(ORDER, order["name"]), {"docstatus": 1})
			assert r.status_code == 200, r.text
			order = r.json()["data"]
		return order

	def order(self, name):
		r = self.get(self.resource(ORDER, name))
		assert r.status_code == 200, r.text
		return r.json()["data"]


def server_message(response) -> str:
	"""The user-facing message of a Frappe error answer."""
	body = response.json()
	messages = body.get("_server_messages")
	if messages:
		return " ".join(json.loads(m).get("message", "") for m in json.loads(messages))
	return body.get("exception") or body.get("message") or ""


@pytest.fixture(scope="session")
def admin():
	return Client()


@pytest.fixture(scope="session")
def make_user(admin):
	def make(email, roles, password="Xso-e2e-Pass-2026!"):
		if admin.get(admin.resource("User", email)).status_code != 200:
			r = admin.post(
				admin.resource("User"),
				{
					"email": email,
					"first_name": email.split("@")[0],
					"send_welcome_email": 0,
					"new_password": password,
					"roles": [{"role": role} for role in roles],
				},
			)
			assert r.status_code == 200, r.text
		return Client(email, password)

	# Frappe makes the first user of a site a System Manager; make that user deliberately.
	make("xso-e2e-admin@example.com", ["System Manager"])
	return make


SANDBOX_URL = os.environ.get("XSO_SANDBOX_URL")
SANDBOX_CLIENT = ("XSO-SANDBOX-CLIENT", "xso-sandbox-secret")
WEBHOOK_KEY = "xso-sandbox-webhook-key"
E2E_CONNECTION = "E2E Sandbox"


@pytest.fixture(scope="session")
def sandbox_connection(admin):
	"""A Xero Connection consented over HTTP exactly as an admin's browser does it, then synced."""
	if not SANDBOX_URL:
		pytest.fail("XSO_SANDBOX_URL is not set: the test command starts a sandbox for this tier")
	from urllib.parse import urlparse

	urls = {"login_url": SANDBOX_URL, "identity_url": SANDBOX_URL, "api_url": SANDBOX_URL}
	if admin.get(admin.resource("Xero Connection", E2E_CONNECTION)).status_code != 200:
		r = admin.post(
			admin.resource("Xero Connection"),
			{
				"connection_name": E2E_CONNECTION,
				"client_id": SANDBOX_CLIENT[0],
				"client_secret": SANDBOX_CLIENT[1],
				"webhook_key": WEBHOOK_KEY,
				**urls,
			},
		)
	else:  # left by an earlier run (--e2e-only), whose sandbox had another port
		r = admin.put(admin.resource("Xero Connection", E2E_CONNECTION), urls)
	assert r.status_code == 200, r.text
	r = admin.method("xero_sales_orders.api.connection.authorize", connection=E2E_CONNECTION)
	assert r.status_code == 200, r.text
	to_xero = requests.get(r.json()["message"]["url"], allow_redirects=False, timeout=30)
	assert to_xero.status_code == 302, to_xero.text
	back = urlparse(to_xero.headers["Location"])
	r = admin.get(f"{back.path}?{back.query}", allow_redirects=False)
	assert r.status_code in (302, 303), r.text
	assert r.headers["Location"].endswith("/app/xero-connection/E2E%20Sandbox")
	r = admin.sync(E2E_CONNECTION)
	assert r.status_code == 200, r.text
	conn = admin.get(admin.resource("Xero Connection", E2E_CONNECTION)).json()["data"]
	assert conn["status"] == "Connected"
	tenant = conn["tenants"][0]
	r = admin.put(
		admin.resource("Xero Connection", E2E_CONNECTION),
		{"tenants": [{**t, "invoice_status": "AUTHORISED"} for t in conn["tenants"]]},
	)
	assert r.status_code == 200, r.text
	return {
		"name": E2E_CONNECTION,
		"tenant_id": tenant["tenant_id"],
		"currency": tenant["base_currency"],
		# Tests that spend many Xero calls use the second organisation, so that the others keep their
		# minute budget (the app's limiter shares it across every worker).
		"organisations": [
			{"name": E2E_CONNECTION, "tenant_id": t["tenant_id"], "currency": t["base_currency"]}
			for t in conn["tenants"]
		],
	}


def first(admin, doctype, filters):
	r = admin.get(
		admin.resource(doctype),
		params={"filters": json.dumps(filters), "limit_page_length": 1, "fields": '["name"]'},
	)
	assert r.status_code == 200, r.text
	return r.json()["data"][0]["name"]


def order_in_xero_organisation(admin, conn: dict, qty) -> dict:
	"""A submitted order of one line for a synced customer and item of the connection's organisation."""
	org = [["connection", "=", conn["name"]], ["tenant_id", "=", conn["tenant_id"]]]
	customer = first(admin, "Xero Contact", [*org, ["contact_status", "=", "ACTIVE"]])
	item = first(admin, "Xero Item", [*org, ["is_sold", "=", 1]])
	order = admin.create_order([{"item": item, "qty": qty}], customer=customer, currency=conn["currency"])
	assert order["connection"] == conn["name"] and order["items"][0]["description"]
	return order


def invoice_pushed(admin, order: dict, qty) -> dict:
	r = admin.method(
		"xero_sales_orders.api.orders.create_invoice",
		sales_order=order["name"],
		lines=[{"item": order["items"][0]["name"], "qty": qty}],
	)
	assert r.status_code == 200, r.text
	invoice = r.json()["message"]
	assert invoice["push_state"] == "Pushed", invoice["last_error"]
	return invoice


def wait_for_invoice_status(admin, name: str, wanted: str, seconds: float = 60) -> str:
	deadline = time.time() + seconds
	while True:
		status = admin.get(admin.resource("Xero Invoice", name)).json()["data"]["status"]
		if status == wanted or time.time() > deadline:
			return status
		time.sleep(0.5)


def pay_in_xero(xero_invoice_id: str) -> None:
	requests.post(
		f"{SANDBOX_URL}/_sandbox/invoices/{xero_invoice_id}/pay", json={}, timeout=10
	).raise_for_status()


def pay_in_xero_and_notify(conn: dict, xero_invoice_id: str) -> None:
	"""The customer pays in Xero, and Xero tells the site with a signed INVOICE UPDATE webhook."""
	pay_in_xero(xero_invoice_id)
	sent = requests.post(
		f"{SANDBOX_URL}/_sandbox/webhooks/send",
		json={
			"url": f"{BASE_URL}/api/method/xero_sales_orders.api.webhook.receive",
			"events": [
				{
					"tenant_id": conn["tenant_id"],
					"category": "INVOICE",
					"type": "UPDATE",
					"resource_id": xero_invoice_id,
				}
			],
		},
		timeout=30,
	).json()
	assert sent["status"] == 200, sent


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
	"""A browser test that fails leaves a screenshot of the page as it was: test-results/FAILED-<test>.png."""
	outcome = yield
	report = outcome.get_result()
	page = item.funcargs.get("page") if report.when == "call" and report.failed else None
	if page is not None:
		folder = os.path.join(os.path.dirname(__file__), "..", "..", "test-results")
		os.makedirs(folder, exist_ok=True)
		try:
			page.screenshot(path=os.path.join(folder, f"FAILED-{item.name}.png"), full_page=True)
		except Exception as e:  # a crashed browser must not hide the test's own failure
			print(f"no failure screenshot: {e}")
