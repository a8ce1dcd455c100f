import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.test_xero_support import TokenSupplier, start_sandbox
from xero_sales_orders.xero.client import (
	XeroAuthError,
	XeroClient,
	XeroNotFoundError,
	XeroRateLimitError,
	XeroUnavailableError,
	XeroValidationError,
	element_errors,
)
from xero_sales_orders.xero.parsing import parse_xero_date
from xero_sales_orders.xero.ratelimit import RateLimiter

INVOICES = "/api.xro/2.0/Invoices"
ORGANISATION = "/api.xro/2.0/Organisation"


@pytest.fixture(scope="module")
def xero_sandbox():
	running = start_sandbox(tenants=2)
	yield running
	running.stop()


@pytest.fixture(scope="module")
def big_sandbox():
	"""Seeded for call counting; its tests only read, so it is never reset."""
	running = start_sandbox(tenants=1, seed_contacts=5000, seed_items=1000, seed_invoices=120)
	yield running
	running.stop()


class Sleeps(list):
	"""An injected sleep: records the waits instead of waiting."""

	def __call__(self, seconds):
		self.append(seconds)


def client_factory(sandbox, conformance, reset=True):
	"""Clients of a connected sandbox whose traffic this test checks against Xero's OpenAPI spec."""
	if reset:
		sandbox.reset()
	conformance.watch(sandbox.url)
	tokens = sandbox.connect()
	tenant_id = sandbox.tenant_ids(tokens)[0]
	sandbox.clear_calls()
	clients = []

	def make(**options):
		options.setdefault("sleep", Sleeps())
		options.setdefault("access_token", TokenSupplier(sandbox, tokens))
		client = XeroClient(sandbox.endpoints, options.pop("tenant", tenant_id), **options)
		clients.append(client)
		return client

	return make, clients


@pytest.fixture
def make_client(xero_sandbox, xero_conformance):
	make, clients = client_factory(xero_sandbox, xero_conformance)
	yield make
	for client in clients:
		client.close()


@pytest.fixture
def make_big_client(big_sandbox, xero_conformance):
	make, clients = client_factory(big_sandbox, xero_conformance, reset=False)
	yield make
	for client in clients:
		client.close()


def draft_invoice(client, **fields) -> dict:
	contact = client.get("/Contacts", {"page": 1, "pageSize": 1})["Contacts"][0]
	invoice = {
		"Type": "ACCREC",
		"Contact": {"ContactID": contact["ContactID"]},
		"Date": "2026-03-02",
		"DueDate": "2026-03-30",
		"LineAmountTypes": "Exclusive",
		"LineItems": [
			{
				"Description": "Widget",
				"Quantity": Decimal("3"),
				"UnitAmount": Decimal("12.3456"),
				"AccountCode": "200",
			}
		],
		"Reference": f"SO-{uuid.uuid4().hex[:8]}",
	}
	invoice.update(fields)
	return invoice


@pytest.mark.xero_unchecked  # checking 5,000 contacts against the spec takes seconds; small pages are checked
def test_5000_contacts_cost_exactly_5_calls(big_sandbox, make_big_client):
	client = make_big_client()
	contacts = list(client.contacts(include_archived=True))
	assert len({c["ContactID"] for c in contacts}) == 5000
	assert big_sandbox.calls()["by_endpoint"] == {"GET /api.xro/2.0/Contacts": 5}
	active = list(client.contacts())
	assert active and all(c["ContactStatus"] != "ARCHIVED" for c in active)


def test_1000_items_cost_one_call_and_prices_are_decimal(big_sandbox, make_big_client):
	items = make_big_client().items()
	assert len(items) == 1000
	assert all(isinstance(i["SalesDetails"]["UnitPrice"], Decimal) for i in items if i.get("SalesDetails"))
	assert big_sandbox.calls()["by_endpoint"] == {"GET /api.xro/2.0/Items": 1}


def test_reference_data_costs_one_call_each(xero_sandbox, make_client):
	client = make_client()
	organisation = client.organisation()
	rates = client.tax_rates()
	accounts = client.accounts()
	assert organisation["Name"] and organisation["BaseCurrency"] == "NZD"
	assert any(isinstance(rate["EffectiveRate"], Decimal) for rate in rates)
	assert any(account["Code"] == "200" for account in accounts)
	assert xero_sandbox.calls()["by_endpoint"] == {
		"GET /api.xro/2.0/Organisation": 1,
		"GET /api.xro/2.0/TaxRates": 1,
		"GET /api.xro/2.0/Accounts": 1,
	}


def test_invoices_come_paged_with_their_lines(big_sandbox, make_big_client):
	invoices = list(make_big_client().invoices())
	assert len(invoices) == 120
	assert all(invoice["LineItems"] for invoice in invoices)
	assert parse_xero_date(invoices[0]["UpdatedDateUTC"]).tzinfo is not None
	assert big_sandbox.endpoint_calls(f"GET {INVOICES}") == 1


def test_one_page_of_invoices_ordered_and_modified_since(big_sandbox, make_big_client):
	client = make_big_client()
	big_sandbox.clear_calls()
	first, pagination = client.invoice_page(1, order="UpdatedDateUTC ASC", page_size=50)
	assert (pagination["page"], pagination["pageCount"], pagination["itemCount"]) == (1, 3, 120)
	assert len(first) == 50 and all(invoice["LineItems"] for invoice in first)
	updated = [parse_xero_date(invoice["UpdatedDateUTC"]) for invoice in first]
	assert updated == sorted(updated)
	# From the last one's second on: it comes again, what came before it does not.
	since = updated[-1].replace(microsecond=0)
	rest, pagination = client.invoice_page(1, order="UpdatedDateUTC ASC", modified_since=since, page_size=50)
	assert rest[0]["InvoiceID"] == first[-1]["InvoiceID"]
	assert pagination["itemCount"] == 120 - 49 - sum(1 for u in updated[:-1] if u >= since)
	assert big_sandbox.endpoint_calls(f"GET {INVOICES}") == 2


def test_ids_and_numbers_are_chunked_by_50(big_sandbox, make_big_client):
	client = make_big_client()
	everything = list(client.invoices())
	ids = [invoice["InvoiceID"] for invoice in everything]
	numbers = [invoice["InvoiceNumber"] for invoice in everything[:60]]
	big_sandbox.clear_calls()
	by_id = list(client.invoices(ids=ids + ids[:5]))  # duplicates are asked for once
	assert sorted(invoice["InvoiceID"] for invoice in by_id) == sorted(ids)
	assert all(invoice["LineItems"] for invoice in by_id)
	assert big_sandbox.endpoint_calls(f"GET {INVOICES}") == 3
	big_sandbox.clear_calls()
	assert sorted(i["InvoiceNumber"] for i in client.invoices(numbers=numbers)) == sorted(numbers)
	assert big_sandbox.endpoint_calls(f"GET {INVOICES}") == 2
	assert list(client.invoices(ids=[])) == []  # an empty filter means nothing, never everything
	assert big_sandbox.endpoint_calls(f"GET {INVOICES}") == 2


def test_statuses_and_where_filter(make_client):
	client = make_client()
	drafts = list(client.invoices(statuses=["DRAFT"]))
	assert drafts and {invoice["Status"] for invoice in drafts} == {"DRAFT"}
	one = drafts[0]
	found = list(client.invoices(where=f'Reference=="{one["Reference"]}"')) if one.get("Reference") else [one]
	assert one["InvoiceID"] in {invoice["InvoiceID"] for invoice in found}


def test_create_invoices_returns_each_element_with_its_errors(xero_sandbox, make_client):
	client = make_client()
	good = draft_invoice(client)
	bad = draft_invoice(client, InvoiceNumber="XSO-1")
	bad["LineItems"][0]["AccountCode"] = "999"
	created = client.create_invoices([good, bad], idempotency_key="batch-1")
	assert created[0]["StatusAttributeString"] == "OK" and created[0]["InvoiceID"]
	assert created[0]["LineItems"][0]["UnitAmount"] == Decimal("12.3456")  # unitdp=4
	assert created[0]["LineItems"][0]["LineAmount"] == Decimal("37.04")
	assert element_errors(created[1]) == [
		"Invoice XSO-1: Account code '999' is not a valid code for this document."
	]
	# The same key again is replayed by Xero, not created twice.
	assert (
		client.create_invoices([good, bad], idempotency_key="batch-1")[0]["InvoiceID"]
		== created[0]["InvoiceID"]
	)
	assert len(list(client.invoices(where=f'Reference=="{good["Reference"]}"'))) == 1


def test_a_refused_write_raises_a_readable_validation_error(make_client):
	client = make_client()
	bad = draft_invoice(client, InvoiceNumber="XSO-1")
	bad["LineItems"][0]["AccountCode"] = "999"
	with pytest.raises(XeroValidationError) as refused:
		client.put("/Invoices", {"Invoices": [bad]})
	assert refused.value.status == 400
	assert refused.value.message == "Invoice XSO-1: Account code '999' is not a valid code for this document."
	assert refused.value.validation_errors == [refused.value.message]


def test_update_invoice_and_online_invoice_url(make_client):
	client = make_client()
	created = client.create_invoices([draft_invoice(client, Status="AUTHORISED")])[0]
	updated = client.update_invoice(created["InvoiceID"], {"Reference": "Changed"})
	assert updated["Reference"] == "Changed" and updated["InvoiceID"] == created["InvoiceID"]
	assert client.online_invoice_url(created["InvoiceID"]).startswith("https://in.xero.com/")
	with pytest.raises(XeroNotFoundError):
		client.get(f"/Invoices/{uuid.uuid4()}")


def test_modified_since_only_returns_later_changes(xero_sandbox, make_client):
	client = make_client()
	latest = max(parse_xero_date(c["UpdatedDateUTC"]) for c in client.contacts())
	xero_sandbox.advance(10)
	client.put("/Contacts", {"Contacts": [{"Name": "Brand New Customer Ltd"}]})
	xero_sandbox.clear_calls()
	changed = list(client.contacts(modified_since=latest + timedelta(seconds=5)))
	assert [c["Name"] for c in changed] == ["Brand New Customer Ltd"]
	assert xero_sandbox.endpoint_calls("GET /api.xro/2.0/Contacts") == 1


@pytest.mark.parametrize("kind", ["500", "503", "drop"])
def test_transient_failures_are_retried_with_backoff(xero_sandbox, make_client, kind):
	client = make_client(sleep=Sleeps(), backoff_base=1.0)
	xero_sandbox.fault(kind=kind, path=ORGANISATION, count=2)
	assert client.organisation()["Name"]
	assert xero_sandbox.endpoint_calls(f"GET {ORGANISATION}") == 3
	first, second = client._sleep
	assert 0.5 <= first <= 1.0 and 1.0 <= second <= 2.0  # exponential, with jitter


@pytest.mark.parametrize("kind, status", [("500", 500), ("503", 503), ("drop", None)])
def test_exhausted_retries_raise_unavailable(xero_sandbox, make_client, kind, status):
	client = make_client(max_retries=2)
	xero_sandbox.fault(kind=kind, path=ORGANISATION, count=10)
	with pytest.raises(XeroUnavailableError) as failed:
		client.organisation()
	assert failed.value.status == status
	assert xero_sandbox.endpoint_calls(f"GET {ORGANISATION}") == 3


@pytest.mark.parametrize("kind, status", [("503", 503), ("drop", None)])
def test_a_call_budget_ends_the_retries_it_has_no_time_for(xero_sandbox, make_client, kind, status):
	"""A call inside a user's request gives up once its next wait would pass its budget: the retry of a 1 s
	backoff does not fit 0.5 s, so Xero is asked once and the error is the last one."""
	client = make_client(max_retries=5, backoff_base=1.0, call_budget=0.5)
	xero_sandbox.fault(kind=kind, path=ORGANISATION, count=10)
	with pytest.raises(XeroUnavailableError) as failed:
		client.organisation()
	assert failed.value.status == status
	assert xero_sandbox.endpoint_calls(f"GET {ORGANISATION}") == 1
	assert client._sleep == []


def test_a_call_budget_bounds_the_wait_for_xeros_limits(xero_sandbox, make_client):
	"""With the organisation's minute used up, the limiter would wait up to its 30 s; a call with a 1.5 s
	budget waits no longer than that, and a 429 asking for more than the budget is not waited out."""
	client = make_client(rate_limiter=RateLimiter(max_wait=30), call_budget=1.5)
	use_up_the_minute(client)
	started = time.monotonic()
	with pytest.raises(XeroRateLimitError) as limited:
		client.organisation()
	assert limited.value.problem == "minute" and limited.value.status is None  # the limiter's, not Xero's
	assert time.monotonic() - started < 3
	assert xero_sandbox.endpoint_calls(f"GET {ORGANISATION}") == 60

	patient = make_client(call_budget=1.5)
	xero_sandbox.fault(kind="429", path=ORGANISATION, count=1, problem="minute", retry_after=7)
	with pytest.raises(XeroRateLimitError) as refused:
		patient.organisation()
	assert refused.value.retry_after == 7 and patient._sleep == []


def test_a_minute_429_waits_retry_after_then_retries(xero_sandbox, make_client):
	client = make_client()
	xero_sandbox.fault(kind="429", path=ORGANISATION, count=1, problem="minute", retry_after=7)
	assert client.organisation()["Name"]
	assert len(client._sleep) == 1 and 7 <= client._sleep[0] <= 8


def test_a_day_429_is_raised_with_its_retry_after_not_retried(xero_sandbox, make_client):
	client = make_client()
	xero_sandbox.fault(kind="429", path=ORGANISATION, count=1, problem="day", retry_after=5400)
	with pytest.raises(XeroRateLimitError) as limited:
		client.organisation()
	assert (limited.value.problem, limited.value.retry_after, limited.value.status) == ("day", 5400, 429)
	assert "5400 s" in limited.value.message
	assert client._sleep == [] and xero_sandbox.endpoint_calls(f"GET {ORGANISATION}") == 1


def use_up_the_minute(client, calls=60, threads=5):
	"""60 calls from 5 threads: within the concurrency limit, and a fifth of the wall time."""
	assert _call_from_threads(client, [calls // threads] * threads) == []


def test_the_real_minute_limit_is_waited_out_on_the_sandbox_clock(xero_sandbox, make_client):
	waited = []

	def sleep_on_sandbox_clock(seconds):
		waited.append(seconds)
		xero_sandbox.advance(seconds)

	client = make_client(sleep=sleep_on_sandbox_clock)
	use_up_the_minute(client)
	client.organisation()
	calls = xero_sandbox.calls()
	assert calls["rejected"]["minute"] == 1 and calls["limit_breaches"] == 0
	assert len(waited) == 1 and 1 <= waited[0] <= 61


def test_the_limiter_stops_the_61st_call_before_xero_sees_it(xero_sandbox, make_client):
	client = make_client(rate_limiter=RateLimiter(max_wait=0))
	use_up_the_minute(client)
	with pytest.raises(XeroRateLimitError) as limited:
		client.organisation()
	assert limited.value.problem == "minute" and limited.value.status is None
	calls = xero_sandbox.calls()
	assert calls["by_endpoint"] == {f"GET {ORGANISATION}": 60} and calls["rejected"]["minute"] == 0


def test_a_real_day_limit_pauses_the_tenant_in_the_limiter(xero_conformance):
	small = start_sandbox(tenants=1, day_limit=3)
	xero_conformance.watch(small.url)
	try:
		tokens = small.connect()
		tenant = small.tenant_ids(tokens)[0]
		limiter = RateLimiter()
		with XeroClient(
			small.endpoints, tenant, TokenSupplier(small, tokens), rate_limiter=limiter, sleep=Sleeps()
		) as client:
			for _ in range(3):
				client.organisation()
			with pytest.raises(XeroRateLimitError) as limited:
				client.organisation()
			assert limited.value.problem == "day" and limited.value.retry_after > 80000
			with pytest.raises(XeroRateLimitError) as local:
				client.organisation()  # refused by the limiter: Xero is not asked again
			assert local.value.problem == "day" and local.value.status is None
		assert small.calls()["rejected"]["day"] == 1
	finally:
		small.stop()


def _organisation_from_threads(client, count=10):
	return _call_from_threads(client, [1] * count)


def _call_from_threads(client, calls_per_thread):
	errors = []

	def call(times):
		try:
			for _ in range(times):
				client.organisation()
		except Exception as exc:  # collected and asserted on by the caller
			errors.append(exc)

	threads = [threading.Thread(target=call, args=(times,)) for times in calls_per_thread]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join()
	return errors


def test_concurrent_calls_with_the_limiter_never_hit_the_concurrency_limit(xero_sandbox, make_client):
	xero_sandbox.fault(kind="slow", path=ORGANISATION, rate=1.0, delay=0.15)
	client = make_client(rate_limiter=RateLimiter(max_wait=5))
	assert _organisation_from_threads(client) == []
	assert xero_sandbox.calls()["rejected"]["concurrent"] == 0


def test_concurrent_429s_without_a_limiter_are_retried(xero_sandbox, make_client):
	xero_sandbox.fault(kind="slow", path=ORGANISATION, rate=1.0, delay=0.15)
	client = make_client(sleep=lambda seconds: time.sleep(0.05), max_retries=10)
	assert _organisation_from_threads(client) == []
	assert xero_sandbox.calls()["rejected"]["concurrent"] > 0


def test_a_lost_answer_to_a_write_does_not_create_twice(xero_sandbox, make_client):
	client = make_client(timeout=(2, 0.3))
	invoice = draft_invoice(client)
	before = xero_sandbox.tenants()[0]["invoices"]
	xero_sandbox.fault(kind="timeout_after_store", path=INVOICES, method="PUT", count=1, delay=1.0)
	created = client.create_invoices([invoice])
	assert created[0]["StatusAttributeString"] == "OK"
	assert xero_sandbox.endpoint_calls(f"PUT {INVOICES}") == 2  # the retry carried the same Idempotency-Key
	assert xero_sandbox.tenants()[0]["invoices"] == before + 1
	assert [i["InvoiceID"] for i in client.invoices(where=f'Reference=="{invoice["Reference"]}"')] == [
		created[0]["InvoiceID"]
	]


def test_an_expired_token_is_refreshed_once_and_the_call_retried(xero_sandbox, make_client):
	client = make_client()
	xero_sandbox.control("POST", "tokens/expire")
	assert client.organisation()["Name"]
	assert client._access_token.forced == 1
	calls = xero_sandbox.calls()
	assert calls["token"] == {"refresh_token": 1} and calls["by_endpoint"][f"GET {ORGANISATION}"] == 2


def test_a_token_that_stays_refused_raises_auth_error(xero_sandbox, make_client):
	asked = []
	client = make_client(access_token=lambda force_refresh: asked.append(force_refresh) or "not-a-token")
	with pytest.raises(XeroAuthError) as refused:
		client.organisation()
	assert refused.value.status == 401
	assert asked == [False, True]
	assert xero_sandbox.endpoint_calls(f"GET {ORGANISATION}") == 2


def test_a_wrong_tenant_is_an_auth_error(make_client):
	with pytest.raises(XeroAuthError) as refused:
		make_client(tenant=str(uuid.uuid4())).organisation()
	assert refused.value.status == 403


def test_rate_figures_are_reported_from_every_answer(make_client):
	seen = []
	client = make_client(on_rate_figures=seen.append)
	client.organisation()
	client.organisation()
	assert seen[-1]["minute"] == 58 and seen[-1]["day"] == 4998 and "app_minute" in seen[-1]


def test_idempotency_keys_are_bounded(make_client):
	with pytest.raises(ValueError):
		make_client().put("/Invoices", {"Invoices": []}, idempotency_key="k" * 129)
