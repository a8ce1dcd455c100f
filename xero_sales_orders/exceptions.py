"""Frappe errors of the app; each carries the HTTP status REST callers see."""

import frappe


class InvalidOrderError(frappe.ValidationError):
	"""An order whose header or lines Xero would refuse (417, Frappe's status for validation)."""


class InvalidInvoiceRequestError(frappe.ValidationError):
	"""Malformed arguments to an API method: unknown line, wrong type, qty <= 0."""

	http_status_code = 400


class OverInvoicingError(frappe.ValidationError):
	"""More than the outstanding quantity was asked for, possibly by a concurrent request."""

	http_status_code = 409


class OrderStateError(frappe.ValidationError):
	"""The order's status does not allow the action (invoice a Closed order, cancel with live invoices)."""

	http_status_code = 409


def throw(message: str, exc: type[Exception] = frappe.ValidationError, title: str | None = None):
	"""frappe.throw for expected refusals: the caller gets the message and status, not a traceback."""
	frappe.local.flags.disable_traceback = True
	frappe.throw(message, exc, title=title)


class InvalidReportFilterError(frappe.ValidationError):
	"""A report or dashboard filter of the wrong type or with an unknown value."""

	http_status_code = 400


class DerivedFieldError(frappe.ValidationError):
	"""A request tried to set a figure the app derives (from the invoices, from Xero or from an action)."""


class HeldByXeroError(frappe.ValidationError):
	"""The invoice is (or may be) in Xero: only Xero's void or delete may retire it."""

	http_status_code = 409
