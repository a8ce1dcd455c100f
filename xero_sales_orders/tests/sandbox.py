"""A Xero sandbox for Frappe integration tests: a real server on a free port, and connections to it."""

import random
import threading

import frappe
import requests

from xero_sales_orders.demo import SANDBOX_CLIENT_ID as CLIENT_ID
from xero_sales_orders.demo import SANDBOX_CLIENT_SECRET as CLIENT_SECRET
from xero_sales_orders.demo import SANDBOX_WEBHOOK_KEY as WEBHOOK_KEY
from xero_sales_orders.demo import consent_in_sandbox as consent
from xero_sales_orders.sandbox import SandboxServer
from xero_sales_orders.services import connection as connections


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
	if frappe.db.exists(connections.CONNECTION, name):
		frappe.delete_doc(connections.CONNECTION, name, force=True, ignore_permissions=True)
	frappe.get_doc(
		{
			"doctype": connections.CONNECTION,
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


def sandbox_calls(sandbox: SandboxServer) -> dict:
	return requests.get(f"{sandbox.url}/_sandbox/calls", timeout=10).json()


def reset_calls(sandbox: SandboxServer) -> None:
	requests.delete(f"{sandbox.url}/_sandbox/calls", timeout=10)


def expire_access_token(name: str) -> None:
	frappe.db.set_value(connections.CONNECTION, name, "token_expires_at", "2000-01-01 00:00:00")
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
			tokens.append(connections.get_access_token(name))
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
