"""Fixtures for anything that talks to the Xero sandbox over HTTP, with OpenAPI conformance checking.

- ``sandbox``: a started SandboxServer (default options) on a free port, stopped after the test.
- ``sandbox_factory(**options)``: the same with options (``seed_invoices=2500``, ``rate_limits=False``...).
- ``xero_conformance``: records every request made with ``requests`` (any Session, so requests-oauthlib and
  the Xero client are covered too) to a sandbox of this test, and at teardown checks every exchange
  against Xero's OpenAPI spec: any deviation fails the test. Wrap deliberately bad requests in
  ``with xero_conformance.expect_invalid_request():``. Use ``@pytest.mark.xero_unchecked`` to opt out.
- ``login(sandbox)`` (a plain helper): runs the OAuth flow and returns a SandboxSession.
"""

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.xero_openapi import SPEC_DIR, XeroConformance, spec_path
from xero_sandbox import SandboxServer

REDIRECT_URI = "http://localhost:8000/callback"
SCOPES = (
	"openid profile email offline_access accounting.invoices accounting.contacts accounting.settings.read"
)


@pytest.fixture
def xero_conformance(request, monkeypatch):
	for name in ("xero_accounting.yaml", "xero-identity.yaml", "xero-webhooks.yaml"):
		spec_path(name)  # fails loudly (never skips) when <checkout>/../shared is missing
	checker = XeroConformance()
	original_send = requests.Session.send

	def recording_send(session, prepared, **kwargs):
		response = original_send(session, prepared, **kwargs)
		checker.record(response)
		return response

	monkeypatch.setattr(requests.Session, "send", recording_send)
	yield checker
	if request.node.get_closest_marker("xero_unchecked") is None:
		checker.assert_all_valid()


@pytest.fixture
def sandbox_factory(xero_conformance):
	servers = []

	def start(**options) -> SandboxServer:
		server = SandboxServer(port=0, **options).start()
		servers.append(server)
		xero_conformance.watch(server.url)
		return server

	yield start
	for server in servers:
		server.stop()


@pytest.fixture
def sandbox(sandbox_factory) -> SandboxServer:
	return sandbox_factory()


class SandboxSession:
	"""Calls the sandbox as an app would once connected: bearer token and xero-tenant-id."""

	def __init__(self, server: SandboxServer, tokens: dict, connections: list[dict]):
		self.server, self.tokens, self.connections = server, tokens, connections
		self.http = requests.Session()
		self.tenant_id = connections[0]["tenantId"]

	def headers(self, tenant_id: str | None = None, **extra) -> dict:
		return {
			"Authorization": f"Bearer {self.tokens['access_token']}",
			"xero-tenant-id": tenant_id or self.tenant_id,
			"Accept": "application/json",
			**extra,
		}

	def api(self, method: str, path: str, *, tenant_id=None, headers=None, **kwargs) -> requests.Response:
		return self.http.request(
			method,
			f"{self.server.url}/api.xro/2.0{path}",
			headers=self.headers(tenant_id, **(headers or {})),
			timeout=kwargs.pop("timeout", 30),
			**kwargs,
		)

	def get(self, path, **kwargs):
		return self.api("GET", path, **kwargs)

	def put(self, path, body, **kwargs):
		return self.api("PUT", path, json=body, **kwargs)

	def post(self, path, body, **kwargs):
		return self.api("POST", path, json=body, **kwargs)

	def control(self, method: str, path: str, body=None) -> requests.Response:
		return self.http.request(method, f"{self.server.url}/_sandbox/{path}", json=body, timeout=30)


def basic_auth(server: SandboxServer) -> dict:
	raw = f"{server.client_id}:{server.client_secret}".encode()
	return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def authorize(server: SandboxServer, state: str = "state-123", scope: str = SCOPES) -> str:
	answer = requests.get(
		f"{server.url}/identity/connect/authorize",
		params={
			"response_type": "code",
			"client_id": server.client_id,
			"redirect_uri": REDIRECT_URI,
			"scope": scope,
			"state": state,
		},
		allow_redirects=False,
		timeout=10,
	)
	assert answer.status_code == 302, answer.text
	query = parse_qs(urlsplit(answer.headers["Location"]).query)
	assert query["state"] == [state]
	return query["code"][0]


def exchange(server: SandboxServer, code: str) -> requests.Response:
	return requests.post(
		f"{server.url}/connect/token",
		data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
		headers=basic_auth(server),
		timeout=10,
	)


def login(server: SandboxServer) -> SandboxSession:
	tokens = exchange(server, authorize(server))
	assert tokens.status_code == 200, tokens.text
	tokens = tokens.json()
	connections = requests.get(
		f"{server.url}/connections", headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10
	)
	assert connections.status_code == 200, connections.text
	return SandboxSession(server, tokens, connections.json())


__all__ = ["SPEC_DIR", "sandbox", "sandbox_factory", "xero_conformance"]
