"""A Xero sandbox for Frappe integration tests, demos and site-side benchmarks: a real server on a free port,
and connections to it that consent as an admin's browser would."""

import random
import threading
from urllib.parse import parse_qs, urlparse

import frappe
import requests

from xero_sales_orders.services import xero_consent, xero_endpoints, xero_tokens
from xero_sales_orders.services.master_sync import sync_connection
from xero_sandbox import DEFAULTS, SandboxServer

# The sandbox's own fixed credentials, which the demo's and the tests' connections use.
CLIENT_ID = DEFAULTS["client_id"]
CLIENT_SECRET = DEFAULTS["client_secret"]
WEBHOOK_KEY = DEFAULTS["webhook_key"]


def consent(name: str, follow: bool = True) -> dict:
	"""Does what the admin's browser does against the sandbox, which consents at once: opens the authorize
	URL, reads the code and state from the redirect and (with ``follow``) completes the consent."""
	answer = requests.get(xero_consent.start_authorization(name), allow_redirects=False, timeout=30)
	if answer.status_code not in (302, 303):
		raise RuntimeError(f"the sandbox did not redirect: {answer.status_code} {answer.text[:200]}")
	params = {k: v[0] for k, v in parse_qs(urlparse(answer.headers["Location"]).query).items()}
	if follow:
		xero_consent.complete_authorization(params.get("code"), params.get("state"))
	return params


def start_sandbox(**options) -> SandboxServer:
	options.setdefault("client_id", CLIENT_ID)
	options.setdefault("client_secret", CLIENT_SECRET)
	options.setdefault("webhook_key", WEBHOOK_KEY)
	# Organisations get ids of their own per sandbox, as two real Xero organisations would.
	options.setdefault("seed", random.randrange(1, 1_000_000))
	return SandboxServer(port=0, **options).start()


def make_connection(sandbox: SandboxServer, name: str) -> str:
	"""A Xero Connection pointing at the sandbox, committed so that token refreshes (which run in their
	own transaction) can see it."""
	if frappe.db.exists(xero_endpoints.CONNECTION, name):
		frappe.delete_doc(xero_endpoints.CONNECTION, name, force=True, ignore_permissions=True)
	frappe.get_doc(
		{
			"doctype": xero_endpoints.CONNECTION,
			"connection_name": name,
			"client_id": CLIENT_ID,
			"client_secret": CLIENT_SECRET,
			"webhook_key": WEBHOOK_KEY,
			"login_url": sandbox.url,
			"identity_url": sandbox.url,
			"api_url": sandbox.url,
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	return name


def connect(sandbox: SandboxServer, name: str) -> str:
	make_connection(sandbox, name)
	consent(name)
	# The consent was stored in its own transaction; end ours so that the next read sees it.
	frappe.db.commit()
	return name


def synced_organisation(
	sandbox: SandboxServer, name: str, invoice_status: str = "AUTHORISED"
) -> frappe._dict:
	"""Connects ``name`` to the sandbox, syncs its masters and has its first organisation raise invoices as
	``invoice_status``. Returns that organisation: tenant id, base currency, its active customers and the sold
	items that have an account (``items_with_tax``: those with a tax type too)."""
	connect(sandbox, name)
	sync_connection(name)
	tenant = frappe.get_doc(xero_endpoints.CONNECTION, name).tenants[0]
	frappe.db.set_value("Xero Connection Tenant", tenant.name, "invoice_status", invoice_status)
	frappe.db.commit()
	org = {"connection": name, "tenant_id": tenant.tenant_id}
	sold = {**org, "is_sold": 1, "account_code": ["is", "set"]}
	return frappe._dict(
		name=name,
		tenant_id=tenant.tenant_id,
		currency=tenant.base_currency,
		customers=frappe.get_all("Xero Contact", {**org, "contact_status": "ACTIVE"}, pluck="name"),
		sold_items=frappe.get_all("Xero Item", sold, pluck="name"),
		items_with_tax=frappe.get_all("Xero Item", {**sold, "tax_type": ["is", "set"]}, pluck="name"),
	)


def sandbox_calls(sandbox: SandboxServer) -> dict:
	return requests.get(f"{sandbox.url}/_sandbox/calls", timeout=10).json()


def reset_calls(sandbox: SandboxServer) -> None:
	requests.delete(f"{sandbox.url}/_sandbox/calls", timeout=10)


def expire_access_token(name: str) -> None:
	frappe.db.set_value(xero_endpoints.CONNECTION, name, "token_expires_at", "2000-01-01 00:00:00")
	frappe.db.commit()


def access_tokens_from_workers(name: str, workers: int, timeout: float = 60) -> tuple[list, list]:
	"""``workers`` threads, each with its own site connection, ask for the access token at the same moment.
	Returns the tokens they got and the errors they met."""
	site, tokens, errors = frappe.local.site, [], []
	barrier = threading.Barrier(workers)

	def worker():
		frappe.init(site=site)
		frappe.connect()
		try:
			barrier.wait()
			tokens.append(xero_tokens.get_access_token(name))
		except Exception as e:
			errors.append(e)
		finally:
			frappe.destroy()

	threads = [threading.Thread(target=worker) for _ in range(workers)]
	for t in threads:
		t.start()
	for t in threads:
		t.join(timeout)
	return tokens, errors
