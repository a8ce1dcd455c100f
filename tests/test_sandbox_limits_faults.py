"""Xero sandbox rate limits (minute, day, concurrent) and injected faults, all observable over HTTP."""

import threading
import time

import pytest
import requests

from tests.conftest_xero import login


@pytest.fixture
def xero(sandbox):
	return login(sandbox)


def test_minute_limit_429_then_reset_by_the_clock(xero):
	remaining = []
	for _ in range(60):
		answer = xero.get("/Organisation")
		assert answer.status_code == 200
		remaining.append(int(answer.headers["X-MinLimit-Remaining"]))
		assert answer.headers["X-DayLimit-Remaining"] and answer.headers["X-AppMinLimit-Remaining"]
	assert remaining[0] == 59 and remaining[-1] == 0
	limited = xero.get("/Organisation")
	assert limited.status_code == 429
	assert limited.headers["X-Rate-Limit-Problem"] == "minute"
	assert 1 <= int(limited.headers["Retry-After"]) <= 60
	assert (
		xero.get("/Organisation", tenant_id=xero.connections[1]["tenantId"]).status_code == 200
	)  # per tenant

	xero.control("POST", "clock", {"advance": 61})
	assert xero.get("/Organisation").status_code == 200
	calls = xero.control("GET", "calls").json()
	assert calls["rejected"]["minute"] == 1 and calls["limit_breaches"] == 0
	assert calls["by_endpoint"]["GET /api.xro/2.0/Organisation"] == 63
	assert calls["by_tenant"][xero.tenant_id] == 62


def test_six_concurrent_calls_give_one_concurrent_429(xero):
	xero.control("POST", "faults", {"kind": "slow", "delay": 1.0, "path": "/api.xro/2.0/Organisation"})
	statuses, problems = [], []

	def call():
		answer = requests.get(
			f"{xero.server.url}/api.xro/2.0/Organisation", headers=xero.headers(), timeout=10
		)
		statuses.append(answer.status_code)
		problems.append(answer.headers.get("X-Rate-Limit-Problem"))

	threads = [threading.Thread(target=call) for _ in range(6)]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join()
	assert sorted(statuses) == [200] * 5 + [429]
	assert "concurrent" in problems
	assert xero.control("GET", "calls").json()["rejected"]["concurrent"] == 1


def test_day_limit_and_its_long_retry_after(sandbox_factory):
	xero = login(sandbox_factory(day_limit=5, token_ttl=2 * 86400))
	for _ in range(5):
		assert xero.get("/Organisation").status_code == 200
	limited = xero.get("/Organisation")
	assert limited.headers["X-Rate-Limit-Problem"] == "day"
	assert int(limited.headers["Retry-After"]) > 80000
	xero.control("POST", "clock", {"advance": 86401})
	assert xero.get("/Organisation").headers["X-DayLimit-Remaining"] == "4"


def test_without_rate_limits_breaches_are_counted_not_refused(sandbox_factory):
	xero = login(sandbox_factory(rate_limits=False))
	assert all(xero.get("/Currencies").status_code == 200 for _ in range(62))
	calls = xero.control("GET", "calls").json()
	assert calls["limit_breaches"] == 2 and calls["rejected"]["minute"] == 0


def test_injected_500_503_and_429(xero):
	xero.control("POST", "faults", {"kind": "500", "count": 1, "path": "/api.xro/2.0/Invoices"})
	assert xero.get("/Organisation").status_code == 200  # another path is not affected
	assert xero.get("/Invoices").status_code == 500
	assert xero.get("/Invoices").status_code == 200  # count used up

	xero.control("POST", "faults", {"kind": "503", "method": "PUT"})
	assert xero.get("/Contacts").status_code == 200
	assert xero.put("/Contacts", {"Contacts": [{"Name": "Never Stored"}]}).status_code == 503
	assert xero.control("DELETE", "faults").json() == {"faults": []}

	xero.control("POST", "faults", {"kind": "429", "count": 1, "problem": "minute", "retry_after": 7})
	limited = xero.get("/Items")
	assert (limited.status_code, limited.headers["Retry-After"], limited.headers["X-Rate-Limit-Problem"]) == (
		429,
		"7",
		"minute",
	)
	assert xero.control("GET", "calls").json()["faults"] == {"500": 1, "503": 1, "429": 1}


def test_fault_rate_is_a_probability(xero):
	xero.control("POST", "faults", {"kind": "503", "rate": 0.5, "path": "/api.xro/2.0/Currencies"})
	statuses = [xero.get("/Currencies").status_code for _ in range(30)]
	assert 3 < statuses.count(503) < 27 and statuses.count(200) == 30 - statuses.count(503)


def test_slow_and_dropped_answers(xero):
	xero.control("POST", "faults", {"kind": "slow", "delay": 0.4, "count": 1})
	started = time.monotonic()
	assert xero.get("/Organisation").status_code == 200
	assert time.monotonic() - started >= 0.4

	xero.control("POST", "faults", {"kind": "drop", "count": 1})
	with pytest.raises(requests.ConnectionError):
		xero.get("/Organisation")
	assert xero.get("/Organisation").status_code == 200


def test_timeout_after_store_keeps_the_write(xero):
	contact = xero.get("/Contacts").json()["Contacts"][0]["ContactID"]
	body = {
		"Invoices": [
			{
				"Type": "ACCREC",
				"Contact": {"ContactID": contact},
				"Reference": "lost-answer",
				"LineItems": [{"Description": "x", "Quantity": 1, "UnitAmount": 9.5, "AccountCode": "200"}],
			}
		]
	}
	xero.control("POST", "faults", {"kind": "timeout_after_store", "delay": 1.0, "count": 1, "method": "PUT"})
	key = {"Idempotency-Key": "lost-answer-1"}
	with pytest.raises(requests.Timeout):
		xero.put("/Invoices", body, headers=key, timeout=0.3)
	stored = xero.get("/Invoices", params={"where": 'Reference=="lost-answer"'}).json()["Invoices"]
	assert len(stored) == 1
	retried = xero.put("/Invoices", body, headers=key)  # the retry replays instead of duplicating
	assert retried.json()["Invoices"][0]["InvoiceID"] == stored[0]["InvoiceID"]
	assert len(xero.get("/Invoices", params={"where": 'Reference=="lost-answer"'}).json()["Invoices"]) == 1


def test_reset_and_tenants_controls(xero):
	xero.put("/Contacts", {"Contacts": [{"Name": "Gone After Reset"}]})
	tenants = xero.control("GET", "tenants").json()["tenants"]
	assert [t["tenantName"] for t in tenants] == ["Demo Company (NZ)", "Demo Company (AU)"]
	assert tenants[0]["contacts"] == 21 and tenants[0]["invoices"] == 40
	xero.control("POST", "faults", {"kind": "500"})
	after = xero.control("POST", "reset", {"keep_grants": True}).json()["tenants"]
	assert (
		after[0]["contacts"] == 20 and after[0]["tenantId"] == tenants[0]["tenantId"]
	)  # same seed, same ids
	assert xero.get("/Organisation").status_code == 200  # faults cleared, grant kept
	xero.control("POST", "reset")
	assert xero.get("/Organisation").status_code == 401  # grants forgotten


def test_call_log_records_each_tenant_call_in_order_with_its_time(xero):
	other = xero.connections[1]["tenantId"]
	xero.control("DELETE", "calls")
	assert xero.get("/Organisation").status_code == 200
	assert xero.get("/Contacts", tenant_id=other).status_code == 200
	log = xero.control("GET", "calls/log").json()["calls"]
	assert [(tenant, endpoint) for _, tenant, endpoint in log] == [
		(xero.tenant_id, "GET /api.xro/2.0/Organisation"),
		(other, "GET /api.xro/2.0/Contacts"),
	]
	assert 0 <= log[0][0] <= log[1][0] < 10
	xero.control("DELETE", "calls")
	assert xero.control("GET", "calls/log").json()["calls"] == []
