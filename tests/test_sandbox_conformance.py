"""The OpenAPI conformance checker: a broad tour of the sandbox conforms, and real deviations are caught."""

import json

import pytest
import requests

import tests.xero_openapi as xero_openapi
from tests.conftest_xero import login
from tests.xero_openapi import XeroConformance


def test_a_tour_of_every_endpoint_conforms(sandbox, xero_conformance):
	xero = login(sandbox)
	contact_id = xero.get("/Contacts", params={"page": 1, "pageSize": 3, "summaryOnly": "true"}).json()[
		"Contacts"
	][0]["ContactID"]
	for path in (
		"/Organisation",
		"/Currencies",
		"/TaxRates",
		"/Accounts",
		"/Items",
		"/Payments",
		f"/Contacts/{contact_id}",
	):
		assert xero.get(path).status_code == 200, path
	xero.get(
		"/Invoices",
		params={"page": 1, "pageSize": 10, "unitdp": 4, "where": 'Type=="ACCREC"', "order": "Date DESC"},
	)
	xero.get(
		"/Invoices",
		params={"summaryOnly": "true", "Statuses": "PAID"},
		headers={"If-Modified-Since": "2020-02-06T12:17:43.202-08:00"},
	)
	line = {
		"Description": "Tour",
		"Quantity": 1.5,
		"UnitAmount": 12.3456,
		"AccountCode": "200",
		"TaxType": "OUTPUT2",
	}
	batch = {
		"Invoices": [
			{
				"Type": "ACCREC",
				"Contact": {"ContactID": contact_id},
				"LineItems": [line],
				"Status": "AUTHORISED",
				"DueDate": "2027-01-31",
			},
			{"Type": "ACCREC", "Contact": {"Name": "Brand New Customer"}, "LineItems": [line]},
			{"Type": "ACCREC", "LineItems": [line]},
		]
	}
	created = xero.put(
		"/Invoices",
		batch,
		params={"summarizeErrors": "false", "unitdp": 4},
		headers={"Idempotency-Key": "tour-1"},
	)
	invoice = created.json()["Invoices"][0]
	xero.put(
		"/Invoices",
		batch,
		params={"summarizeErrors": "false", "unitdp": 4},
		headers={"Idempotency-Key": "tour-1"},
	)
	xero.put("/Invoices", batch)  # 400 ValidationException
	xero.get(f"/Invoices/{invoice['InvoiceNumber']}")
	xero.get(f"/Invoices/{invoice['InvoiceID']}/OnlineInvoice")
	xero.put(
		"/Payments",
		{
			"Payments": [
				{"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Account": {"Code": "090"}, "Amount": 5}
			]
		},
	)
	xero.post("/Invoices", {"Invoices": [{"InvoiceID": invoice["InvoiceID"], "Reference": "toured"}]})
	xero.post("/Contacts", {"Contacts": [{"ContactID": contact_id, "EmailAddress": "tour@example.com"}]})
	xero.get("/Invoices/00000000-0000-4000-8000-000000000001")  # 404
	xero.get("/Invoices", params={"where": "Status=="})  # 400 QueryParseException
	xero.control("POST", "faults", {"kind": "503", "count": 1})
	xero.get("/Organisation")
	xero.http.get(f"{sandbox.url}/Connections", headers=xero.headers(), timeout=10)
	assert xero_conformance.checked == 0  # checks run at teardown; prove there is plenty to check
	assert len(xero_conformance.exchanges) >= 20
	assert xero_conformance.problems() == []
	assert xero_conformance.checked >= 20


def fabricated(url: str, status: int, payload, method: str = "GET", headers=None) -> requests.Response:
	response = requests.Response()
	response.status_code = status
	response._content = json.dumps(payload).encode()
	response.headers["Content-Type"] = "application/json"
	default_headers = {"xero-tenant-id": "t"} if headers is None else headers
	response.request = requests.Request(method, url, headers=default_headers).prepare()
	return response


def test_the_checker_catches_deviations():
	checker = XeroConformance()
	base = "http://127.0.0.1:1/api.xro/2.0"
	bad_invoice = {"Invoices": [{"InvoiceID": "not-a-uuid", "Total": "12.00", "Status": "SHIPPED"}]}
	problems = checker.check(fabricated(f"{base}/Invoices", 200, bad_invoice))
	text = "\n".join(problems)
	assert "not-a-uuid" in text and "'12.00' is not of type 'number'" in text and "SHIPPED" in text

	no_tenant = fabricated(f"{base}/Organisation", 200, {"Organisations": []}, headers={})
	assert any("xero-tenant-id" in p for p in checker.check(no_tenant))

	assert checker.check(fabricated(f"{base}/Invoices", 401, {"oops": 1}))
	assert checker.check(
		fabricated(f"{base}/Invoices", 429, {"Title": "Too Many Requests", "Status": 429, "Detail": "x"})
	)
	assert checker.check(fabricated(f"{base}/Invoices", 400, {"ErrorNumber": "ten"}))
	zoned = [{"id": "7cb59f93-2964-421d-bb5e-a0f7a4572a44", "createdDateUtc": "yesterday"}]
	assert checker.check(
		fabricated("http://127.0.0.1:1/connections", 200, zoned, headers={"Authorization": "Bearer x"})
	)
	token = fabricated(
		"http://127.0.0.1:1/connect/token", 200, {"access_token": "a", "expires_in": "1800"}, method="POST"
	)
	assert checker.check(token)
	webhook = {
		"events": [{"resourceId": "nope", "eventType": "DELETE"}],
		"firstEventSequence": 1,
		"lastEventSequence": 1,
		"entropy": "X",
	}
	assert len(checker.check_webhook(json.dumps(webhook).encode(), {"x-xero-signature": "s"})) >= 1


def test_a_missing_spec_fails_loudly(monkeypatch, tmp_path):
	monkeypatch.setattr(xero_openapi, "SPEC_DIR", tmp_path / "no-shared-here")
	xero_openapi.load_spec.cache_clear()
	try:
		with pytest.raises(xero_openapi.SpecMissing, match="shared/xero/openapi"):
			xero_openapi.load_spec("xero_accounting.yaml")
	finally:
		xero_openapi.load_spec.cache_clear()
