"""End-to-end tests against a running bench: `python3 tools/xso_dev.py test` starts one and sets XSO_URL."""

import json
import os
import uuid

import pytest
import requests

BASE_URL = os.environ.get("XSO_URL")

if not BASE_URL:
	pytest.skip("XSO_URL is not set: no running bench to test against", allow_module_level=True)

ADMIN_PASSWORD = os.environ.get("XSO_ADMIN_PASSWORD", "admin")
ORDER = "Xero Sales Order"


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

	def create_contact(self, name="E2E Customer Ltd"):
		"""A local Xero Contact (what a sync stores), for tests that need no Xero organisation."""
		r = self.post(self.resource("Xero Contact"), {"contact_id": str(uuid.uuid4()), "contact_name": name})
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
