import json
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.test_xero_support import REDIRECT_URI, SCOPES, start_sandbox
from xero_sales_orders.xero.oauth import (
	Endpoints,
	OAuthError,
	TokenSet,
	authorization_url,
	delete_connection,
	exchange_code,
	list_connections,
	refresh_tokens,
	revoke_token,
)

BENCH_PYTHON = Path("/root/frappe-bench/env/bin/python")
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def xero_sandbox():
	running = start_sandbox(tenants=2)
	yield running
	running.stop()


@pytest.fixture(autouse=True)
def fresh(request):
	"""A reset sandbox, and this test's traffic to it checked against Xero's OpenAPI spec."""
	if "xero_sandbox" in request.fixturenames:
		running = request.getfixturevalue("xero_sandbox")
		running.reset()
		request.getfixturevalue("xero_conformance").watch(running.url)


def test_token_set_from_a_token_response():
	tokens = TokenSet.from_response(
		{
			"access_token": "a",
			"refresh_token": "r",
			"expires_in": 1800,
			"scope": ["openid", "offline_access"],
		},
		now=1000.0,
	)
	assert tokens == TokenSet("a", "r", 2800.0, "openid offline_access", None)
	assert not tokens.expires_within(60, now=2700.0)
	assert tokens.expires_within(60, now=2741.0)
	assert TokenSet(**tokens.to_dict()) == tokens


def test_authorization_url_carries_xeros_parameters():
	url = authorization_url(Endpoints(), "CLIENT", "https://erp.example.com/cb", SCOPES.split(), "st-1")
	parts = urlsplit(url)
	assert (
		f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://login.xero.com/identity/connect/authorize"
	)
	query = parse_qs(parts.query)
	assert query == {
		"response_type": ["code"],
		"client_id": ["CLIENT"],
		"redirect_uri": ["https://erp.example.com/cb"],
		"scope": [SCOPES],
		"state": ["st-1"],
	}


def test_plain_http_off_loopback_is_refused_before_any_call():
	endpoints = Endpoints("http://xero.example.com", "http://xero.example.com", "http://xero.example.com")
	with pytest.raises(OAuthError) as refused:
		refresh_tokens(endpoints, "c", "s", "r")
	assert refused.value.error == "insecure_transport"


def test_code_exchange_gives_tokens_and_the_code_is_single_use(xero_sandbox):
	code = xero_sandbox.consent()
	tokens = exchange_code(
		xero_sandbox.endpoints, xero_sandbox.client_id, xero_sandbox.client_secret, code, REDIRECT_URI
	)
	assert tokens.access_token and tokens.refresh_token and tokens.id_token
	assert "offline_access" in tokens.scope.split()
	assert abs(tokens.expires_at - (time.time() + 1800)) < 30
	with pytest.raises(OAuthError) as reused:
		exchange_code(
			xero_sandbox.endpoints, xero_sandbox.client_id, xero_sandbox.client_secret, code, REDIRECT_URI
		)
	assert (reused.value.error, reused.value.status) == ("invalid_grant", 400)
	# oauthlib's switches are only set around our calls, never left behind.
	assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ
	assert "OAUTHLIB_RELAX_TOKEN_SCOPE" not in os.environ


def test_wrong_secret_is_invalid_client(xero_sandbox):
	with pytest.raises(OAuthError) as refused:
		exchange_code(
			xero_sandbox.endpoints, xero_sandbox.client_id, "wrong", xero_sandbox.consent(), REDIRECT_URI
		)
	assert refused.value.error == "invalid_client"
	assert refused.value.status in (400, 401)


def test_refresh_rotates_and_the_old_token_dies_after_the_grace_window(xero_sandbox):
	first = xero_sandbox.connect()
	second = refresh_tokens(
		xero_sandbox.endpoints, xero_sandbox.client_id, xero_sandbox.client_secret, first.refresh_token
	)
	assert second.refresh_token != first.refresh_token
	assert second.access_token != first.access_token
	# A lost refresh answer can be retried with the old token within the grace window.
	retried = refresh_tokens(
		xero_sandbox.endpoints, xero_sandbox.client_id, xero_sandbox.client_secret, first.refresh_token
	)
	assert retried.refresh_token == second.refresh_token
	xero_sandbox.advance(31 * 60)
	with pytest.raises(OAuthError) as dead:
		refresh_tokens(
			xero_sandbox.endpoints, xero_sandbox.client_id, xero_sandbox.client_secret, first.refresh_token
		)
	assert (dead.value.error, dead.value.status) == ("invalid_grant", 400)
	third = refresh_tokens(
		xero_sandbox.endpoints, xero_sandbox.client_id, xero_sandbox.client_secret, second.refresh_token
	)
	assert third.access_token
	assert xero_sandbox.calls()["token"] == {"authorization_code": 1, "refresh_token": 4}


def test_connections_list_and_delete_one(xero_sandbox):
	tokens = xero_sandbox.connect()
	connections = list_connections(xero_sandbox.endpoints, tokens.access_token)
	assert len(connections) == 2
	assert {"id", "tenantId", "tenantType", "tenantName", "authEventId"} <= set(connections[0])
	assert {c["tenantId"] for c in connections} == {t["tenantId"] for t in xero_sandbox.tenants()}
	delete_connection(xero_sandbox.endpoints, tokens.access_token, connections[0]["id"])
	assert [c["id"] for c in list_connections(xero_sandbox.endpoints, tokens.access_token)] == [
		connections[1]["id"]
	]
	with pytest.raises(OAuthError) as missing:
		delete_connection(xero_sandbox.endpoints, tokens.access_token, connections[0]["id"])
	assert missing.value.status == 404


def test_revocation_disconnects_the_grant(xero_sandbox):
	tokens = xero_sandbox.connect()
	revoke_token(
		xero_sandbox.endpoints, xero_sandbox.client_id, xero_sandbox.client_secret, tokens.refresh_token
	)
	with pytest.raises(OAuthError) as dead:
		refresh_tokens(
			xero_sandbox.endpoints, xero_sandbox.client_id, xero_sandbox.client_secret, tokens.refresh_token
		)
	assert dead.value.error == "invalid_grant"
	with pytest.raises(OAuthError) as refused:
		list_connections(xero_sandbox.endpoints, tokens.access_token)
	assert refused.value.status == 401


def test_a_hanging_token_endpoint_times_out(xero_sandbox):
	tokens = xero_sandbox.connect()
	xero_sandbox.fault(kind="slow", path="/connect/token", delay=1.0, count=1)
	started = time.monotonic()
	with pytest.raises(OAuthError) as failed:
		refresh_tokens(
			xero_sandbox.endpoints,
			xero_sandbox.client_id,
			xero_sandbox.client_secret,
			tokens.refresh_token,
			timeout=(2, 0.2),
		)
	assert failed.value.error == "network_error" and failed.value.status is None
	assert time.monotonic() - started < 1.0


FLOW_SCRIPT = """
import json, sys
from urllib.parse import parse_qs, urlsplit
import requests, requests_oauthlib
from xero_sales_orders.xero.oauth import Endpoints, OAuthError, authorization_url, exchange_code, refresh_tokens
url, client_id, secret, redirect, scopes = sys.argv[1:6]
endpoints = Endpoints(url, url, url)
consent = requests.get(authorization_url(endpoints, client_id, redirect, scopes, "s"), allow_redirects=False)
code = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]
tokens = exchange_code(endpoints, client_id, secret, code, redirect)
rotated = refresh_tokens(endpoints, client_id, secret, tokens.refresh_token)
try:
	exchange_code(endpoints, client_id, secret, code, redirect)
	error = None
except OAuthError as e:
	error = [e.error, e.status]
print(json.dumps({"version": requests_oauthlib.__version__, "rotated": rotated.refresh_token != tokens.refresh_token,
	"scope": rotated.scope, "reused_code": error}))
"""


def test_the_flow_works_with_the_benchs_requests_oauthlib_1_3_1(xero_sandbox):
	if not BENCH_PYTHON.exists():
		pytest.skip(f"!!! no Frappe bench Python at {BENCH_PYTHON}: requests-oauthlib 1.3.1 not exercised")
	args = [xero_sandbox.url, xero_sandbox.client_id, xero_sandbox.client_secret, REDIRECT_URI, SCOPES]
	done = subprocess.run(
		[str(BENCH_PYTHON), "-c", FLOW_SCRIPT, *args],
		cwd=REPO,
		env={**os.environ, "PYTHONPATH": str(REPO)},
		capture_output=True,
		text=True,
		timeout=30,
	)
	assert done.returncode == 0, done.stderr
	result = json.loads(done.stdout)
	assert result["version"] == "1.3.1"
	assert result["rotated"] and "offline_access" in result["scope"].split()
	assert result["reused_code"] == ["invalid_grant", 400]
