"""Xero sandbox identity: consent, single-use codes, refresh rotation with grace, revocation, connections."""

import requests

from tests.conftest_xero import REDIRECT_URI, authorize, basic_auth, exchange, login


def refresh(server, refresh_token: str, client_auth: str = "basic") -> requests.Response:
	data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
	headers = {}
	if client_auth == "basic":
		headers = basic_auth(server)
	else:
		data.update(client_id=server.client_id, client_secret=server.client_secret)
	return requests.post(f"{server.url}/connect/token", data=data, headers=headers, timeout=10)


def organisation(server, access_token: str, tenant_id: str) -> requests.Response:
	return requests.get(
		f"{server.url}/api.xro/2.0/Organisation",
		headers={
			"Authorization": f"Bearer {access_token}",
			"xero-tenant-id": tenant_id,
			"Accept": "application/json",
		},
		timeout=10,
	)


def advance(server, seconds: float) -> None:
	assert requests.post(f"{server.url}/_sandbox/clock", json={"advance": seconds}, timeout=10).ok


def test_oauth_flow_rotation_grace_and_revocation(sandbox):
	code = authorize(sandbox)
	first = exchange(sandbox, code)
	assert first.status_code == 200, first.text
	tokens = first.json()
	assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 1800
	assert "offline_access" in tokens["scope"].split()
	assert tokens["refresh_token"] and tokens["id_token"].count(".") == 2

	replayed = exchange(sandbox, code)
	assert (replayed.status_code, replayed.json()) == (400, {"error": "invalid_grant"})

	bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
	connections = requests.get(f"{sandbox.url}/connections", headers=bearer, timeout=10).json()
	assert [c["tenantName"] for c in connections] == ["Demo Company (NZ)", "Demo Company (AU)"]
	assert len({c["authEventId"] for c in connections}) == 1
	tenant_ids = [c["tenantId"] for c in connections]
	assert (
		organisation(sandbox, tokens["access_token"], tenant_ids[1]).json()["Organisations"][0][
			"BaseCurrency"
		]
		== "AUD"
	)

	rotated = refresh(sandbox, tokens["refresh_token"])
	assert rotated.status_code == 200, rotated.text
	second = rotated.json()
	assert second["refresh_token"] != tokens["refresh_token"]
	assert second["access_token"] != tokens["access_token"]

	# The old refresh token still works within the 30-minute grace (a lost response can be retried)
	# and answers with the same live refresh token, so racing workers converge.
	advance(sandbox, 29 * 60)
	retried = refresh(sandbox, tokens["refresh_token"], client_auth="body")
	assert retried.status_code == 200, retried.text
	assert retried.json()["refresh_token"] == second["refresh_token"]

	advance(sandbox, 2 * 60)  # 31 minutes after the rotation
	dead = refresh(sandbox, tokens["refresh_token"])
	assert (dead.status_code, dead.json()) == (400, {"error": "invalid_grant"})
	third = refresh(sandbox, second["refresh_token"]).json()
	assert organisation(sandbox, third["access_token"], tenant_ids[0]).status_code == 200

	revoked = requests.post(
		f"{sandbox.url}/connect/revocation",
		data={"token": third["refresh_token"]},
		headers=basic_auth(sandbox),
		timeout=10,
	)
	assert revoked.status_code == 200
	for tenant_id in tenant_ids:  # revocation disconnects every tenant of the grant
		assert organisation(sandbox, third["access_token"], tenant_id).status_code == 401
	assert refresh(sandbox, third["refresh_token"]).json() == {"error": "invalid_grant"}
	calls = requests.get(f"{sandbox.url}/_sandbox/calls", timeout=10).json()
	assert calls["token"] == {"authorization_code": 2, "refresh_token": 5}


def test_authorize_refuses_bad_parameters(sandbox):
	base = {
		"response_type": "code",
		"client_id": sandbox.client_id,
		"redirect_uri": REDIRECT_URI,
		"scope": "openid",
	}
	for broken in (
		{"client_id": "someone-else"},
		{"redirect_uri": ""},
		{"response_type": "token"},
		{"scope": ""},
	):
		answer = requests.get(
			f"{sandbox.url}/identity/connect/authorize",
			params={**base, **broken},
			allow_redirects=False,
			timeout=10,
		)
		assert answer.status_code == 400, broken
		assert "text/html" in answer.headers["Content-Type"]


def test_code_is_bound_to_client_and_redirect_uri_and_scope_decides_refresh(sandbox):
	code = authorize(sandbox, scope="openid accounting.invoices")
	wrong_uri = requests.post(
		f"{sandbox.url}/connect/token",
		data={"grant_type": "authorization_code", "code": code, "redirect_uri": "http://localhost:9/other"},
		headers=basic_auth(sandbox),
		timeout=10,
	)
	assert wrong_uri.json() == {"error": "invalid_grant"}
	assert exchange(sandbox, code).json() == {"error": "invalid_grant"}  # a refused code is spent too

	tokens = exchange(sandbox, authorize(sandbox, scope="openid accounting.invoices")).json()
	assert "refresh_token" not in tokens  # no offline_access, no refresh token

	bad_secret = requests.post(
		f"{sandbox.url}/connect/token",
		data={
			"grant_type": "refresh_token",
			"refresh_token": "x",
			"client_id": sandbox.client_id,
			"client_secret": "no",
		},
		timeout=10,
	)
	assert bad_secret.json() == {"error": "invalid_client"}


def test_api_answers_401_for_expired_or_unknown_tokens_and_403_for_foreign_tenants(sandbox, xero_conformance):
	session = login(sandbox)
	assert session.get("/Organisation").status_code == 200
	other_tenant = session.connections[1]["tenantId"]

	with xero_conformance.expect_invalid_request():
		missing_tenant = session.http.get(
			f"{sandbox.url}/api.xro/2.0/Organisation",
			headers={"Authorization": f"Bearer {session.tokens['access_token']}"},
			timeout=10,
		)
	assert missing_tenant.status_code == 403
	assert missing_tenant.json()["Type"] == "AuthenticationUnsuccessful"
	assert session.get("/Organisation", tenant_id="00000000-0000-0000-0000-000000000000").status_code == 403

	# Disconnecting one tenant (by connection id, spelled as Xero's spec spells it) keeps the other.
	connection_id = session.connections[1]["id"]
	deleted = session.http.delete(
		f"{sandbox.url}/Connections/{connection_id}", headers=session.headers(), timeout=10
	)
	assert deleted.status_code == 204
	assert session.get("/Organisation", tenant_id=other_tenant).status_code == 403
	assert session.get("/Organisation").status_code == 200
	remaining = session.http.get(f"{sandbox.url}/connections", headers=session.headers(), timeout=10).json()
	assert [c["tenantId"] for c in remaining] == [session.tenant_id]

	assert session.control("POST", "tokens/expire").json()["expired"] >= 1
	expired = session.get("/Organisation")
	assert expired.status_code == 401
	assert expired.json()["Title"] == "Unauthorized"
	assert expired.json()["Detail"].startswith("TokenExpired: token expired at ")

	session.tokens["access_token"] = "not-a-token"
	assert session.get("/Organisation").status_code == 401


def test_access_tokens_expire_on_the_sandbox_clock(sandbox_factory):
	server = sandbox_factory(token_ttl=60)
	session = login(server)
	assert session.get("/Organisation").status_code == 200
	advance(server, 61)
	assert session.get("/Organisation").json()["Detail"].startswith("TokenExpired")
	fresh = refresh(server, session.tokens["refresh_token"]).json()
	assert fresh["expires_in"] == 60
	session.tokens = fresh
	assert session.get("/Organisation").status_code == 200
