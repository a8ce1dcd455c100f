from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from xero_sales_orders.xero.errors import describe_error_body, element_errors, resource_label
from xero_sales_orders.xero.parsing import dumps, format_if_modified_since, loads, parse_xero_date

UTC = timezone.utc


@pytest.mark.parametrize(
	"text, expected",
	[
		("/Date(1539993600000+0000)/", datetime(2018, 10, 20, tzinfo=UTC)),
		("/Date(1552326816230)/", datetime(2019, 3, 11, 17, 53, 36, 230000, tzinfo=UTC)),
		# The milliseconds are UTC already; the offset is informational.
		("/Date(1539993600000+1300)/", datetime(2018, 10, 20, tzinfo=UTC)),
		("/Date(-86400000)/", datetime(1969, 12, 31, tzinfo=UTC)),
		("2018-10-20T00:00:00", datetime(2018, 10, 20, tzinfo=UTC)),
		("2018-11-02T16:31:30Z", datetime(2018, 11, 2, 16, 31, 30, tzinfo=UTC)),
		("2020-02-06T12:17:43.202-08:00", datetime(2020, 2, 6, 20, 17, 43, 202000, tzinfo=UTC)),
		("2019-07-09T23:40:30.1833130", datetime(2019, 7, 9, 23, 40, 30, 183313, tzinfo=UTC)),
		("2026-01-31", datetime(2026, 1, 31, tzinfo=UTC)),
	],
)
def test_parse_xero_date_gives_aware_utc(text, expected):
	parsed = parse_xero_date(text)
	assert parsed == expected
	assert parsed.utcoffset() == timedelta(0)


def test_parse_xero_date_empty_and_garbage():
	assert parse_xero_date(None) is None
	assert parse_xero_date("") is None
	with pytest.raises(ValueError):
		parse_xero_date("/Date(abc)/")


def test_loads_keeps_money_exact():
	body = loads(b'{"Total": 0.1, "UnitAmount": 12.3456, "Quantity": 3}')
	assert body["Total"] == Decimal("0.1") and isinstance(body["Total"], Decimal)
	assert body["UnitAmount"] == Decimal("12.3456")
	assert body["Quantity"] == 3


def test_dumps_writes_decimals_as_numbers_and_dates_as_iso():
	text = dumps({"UnitAmount": Decimal("12.3456"), "Quantity": Decimal("2.00"), "Date": date(2026, 3, 1)})
	assert text == '{"UnitAmount":12.3456,"Quantity":2,"Date":"2026-03-01"}'
	assert loads(text)["UnitAmount"] == Decimal("12.3456")
	with pytest.raises(ValueError):
		dumps({"x": Decimal("0.12345678901234567890")})


def test_if_modified_since_is_utc_to_the_second():
	auckland = timezone(timedelta(hours=13))
	assert (
		format_if_modified_since(datetime(2026, 1, 2, 13, 0, 5, 999999, tzinfo=auckland))
		== "2026-01-02T00:00:05Z"
	)
	assert format_if_modified_since(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"


VALIDATION_BODY = {
	"ErrorNumber": 10,
	"Type": "ValidationException",
	"Message": "A validation exception occurred",
	"Elements": [
		{
			"InvoiceNumber": "XSO-1",
			"ValidationErrors": [{"Message": "Account code '999' is not a valid code for this document."}],
		},
		{"Reference": "SO-7", "ValidationErrors": [{"Message": "Contact not found"}]},
	],
}


def test_validation_body_becomes_readable_sentences():
	message, errors = describe_error_body(VALIDATION_BODY, resource_label("/Invoices"))
	assert errors == [
		"Invoice XSO-1: Account code '999' is not a valid code for this document.",
		"Invoice SO-7: Contact not found",
	]
	assert message == (
		"Invoice XSO-1: Account code '999' is not a valid code for this document. Invoice SO-7: Contact not found."
	)


def test_element_without_identifier_and_line_errors():
	element = {
		"InvoiceID": "00000000-0000-0000-0000-000000000000",
		"ValidationErrors": [{"Message": "Email address must be valid."}],
		"LineItems": [{"ValidationErrors": []}, {"ValidationErrors": [{"Message": "Quantity is required"}]}],
	}
	assert element_errors(element) == [
		"Invoice: Email address must be valid.",
		"Invoice: line 2: Quantity is required",
	]
	assert element_errors({"InvoiceNumber": "XSO-2", "ValidationErrors": []}) == []


@pytest.mark.parametrize(
	"body, message",
	[
		(
			{"Title": "Unauthorized", "Status": 401, "Detail": "TokenExpired: token expired"},
			"TokenExpired: token expired",
		),
		(
			{"ErrorNumber": 17, "Type": "NoDataProcessedException", "Message": "No data has been processed"},
			"No data has been processed",
		),
		({"error": "invalid_grant"}, "invalid_grant"),
		("Service Unavailable", "Service Unavailable"),
	],
)
def test_other_error_bodies(body, message):
	assert describe_error_body(body) == (message, [])


def test_resource_label():
	assert resource_label("/Invoices/abc/OnlineInvoice") == "Invoice"
	assert resource_label("Contacts?page=1") == "Contact"
