"""Helpers for the Xero client tests that talk to the sandbox over a real socket (this module has no tests)."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from xero_sales_orders.xero.oauth import (
	Endpoints,
	TokenSet,
	authorization_url,
	exchange_code,
	list_connections,
	refresh_tokens,
)

REDIRECT_URI = "http://127.0.0.1:8000/xero/callback"
SCOPES = (
	"openid profile email offline_access accounting.invoices accounting.contacts accounting.settings.read"
)


def start_sandbox(**options) -> "Sandbox":
	try:
		from xero_sandbox import SandboxServer
	except ImportError as exc:
		pytest.skip(f"!!! XERO SANDBOX NOT AVAILABLE ({exc}): the sandbox traffic tests did not run")
	return Sandbox(SandboxServer(port=0, **options).start())


class Sandbox:
	"""A running sandbox plus its `/_sandbox/` controls and an OAuth consent done the way a browser would."""

	def __init__(self, server):
		self.server = server
		self.url = server.url
		self.endpoints = Endpoints(login_url=self.url, identity_url=self.url, api_url=self.url)
		self.client_id = server.client_id
		self.client_secret = server.client_secret
		self.http = requests.Session()

	def stop(self):
		self.http.close()
		self.server.stop()

	def control(self, method: str, path: str, payload=None) -> dict:
		response = self.http.request(method, f"{self.url}/_sandbox/{path}", json=payload, timeout=10)
		response.raise_for_status()
		return response.json()

	def reset(self):
		self.control("POST", "reset")

	def calls(self) -> dict:
		return self.control("GET", "calls")

	def clear_calls(self):
		self.control("DELETE", "calls")

	def endpoint_calls(self, endpoint: str) -> int:
		return self.calls()["by_endpoint"].get(endpoint, 0)

	def fault(self, **fault):
		self.control("POST", "faults", fault)

	def advance(self, seconds: float):
		self.control("POST", "clock", {"advance": seconds})

	def tenants(self) -> list[dict]:
		return self.control("GET", "tenants")["tenants"]

	def consent(self, state: str = "state-1") -> str:
		"""Follow the authorize URL as the browser would; returns the code from the redirect."""
		url = authorization_url(self.endpoints, self.client_id, REDIRECT_URI, SCOPES, state)
		response = self.http.get(url, allow_redirects=False, timeout=10)
		assert response.status_code == 302, response.text
		location = response.headers["Location"]
		assert location.startswith(REDIRECT_URI + "?")
		query = parse_qs(urlsplit(location).query)
		assert query["state"] == [state]
		return query["code"][0]

	def connect(self) -> TokenSet:
		return exchange_code(self.endpoints, self.client_id, self.client_secret, self.consent(), REDIRECT_URI)

	def tenant_ids(self, tokens: TokenSet) -> list[str]:
		return [
			connection["tenantId"] for connection in list_connections(self.endpoints, tokens.access_token)
		]


class TokenSupplier:
	"""What the app hands the client: the stored access token, refreshed when forced or about to expire."""

	def __init__(self, sandbox: Sandbox, tokens: TokenSet):
		self.sandbox = sandbox
		self.tokens = tokens
		self.forced = 0

	def __call__(self, force_refresh: bool) -> str:
		if force_refresh:
			self.forced += 1
		if force_refresh or self.tokens.expires_within(60):
			sandbox = self.sandbox
			self.tokens = refresh_tokens(
				sandbox.endpoints, sandbox.client_id, sandbox.client_secret, self.tokens.refresh_token
			)
		return self.tokens.access_token
