"""Frappe errors of the app; each carries the HTTP status REST callers see."""

import math

import frappe
import requests
from frappe import _

from xero_sales_orders.core.errors import (
	CreditExceededError,
	InvoicingError,
	NothingToCreditError,
	NothingToInvoiceError,
	OutstandingExceededError,
	StatusRuleError,
)
from xero_sales_orders.xero.errors import (
	XeroAPIError,
	XeroAuthError,
	XeroRateLimitError,
	XeroUnavailableError,
)
from xero_sales_orders.xero.oauth import OAuthError


class InvalidOrderError(frappe.ValidationError):
	"""An order whose header or lines Xero would refuse (417, Frappe's status for validation)."""


class InvalidInvoiceRequestError(frappe.ValidationError):
	"""Malformed arguments to an API method: unknown line, wrong type, qty <= 0."""

	http_status_code = 400


class OverInvoicingError(frappe.ValidationError):
	"""More than the outstanding quantity was asked for, possibly by a concurrent request."""

	http_status_code = 409


class OverCreditingError(frappe.ValidationError):
	"""More than an invoice line's invoiced and not yet credited quantity was asked to be credited (409)."""

	http_status_code = 409


class NoEmailAddressError(frappe.ValidationError):
	"""The invoice's contact has no email address in Xero, so there is nobody to email it to (409)."""

	http_status_code = 409


class OrderStateError(frappe.ValidationError):
	"""The order's status does not allow the action (invoice a Closed order, cancel with live invoices)."""

	http_status_code = 409


def throw(message: str, exc: type[Exception] = frappe.ValidationError, title: str | None = None):
	"""frappe.throw for expected refusals: the caller gets the message and status, not a traceback."""
	frappe.local.flags.disable_traceback = True
	frappe.throw(message, exc, title=title)


def throw_core_error(error: Exception, title: str | None = None):
	"""The answer to a pure-core refusal (``core.errors``): the same message, with this side's exception and
	status. More than is outstanding is 409 (over-invoicing); nothing to invoice or a status that does not
	allow the action is 409 (the order's state); any other invoicing error is a malformed request (400)."""
	if isinstance(error, OutstandingExceededError):
		throw(str(error), OverInvoicingError, title=_("Over-invoicing refused"))
	if isinstance(error, CreditExceededError):
		throw(str(error), OverCreditingError, title=_("Over-crediting refused"))
	if isinstance(error, NothingToCreditError):
		throw(str(error), OrderStateError, title=title or _("Cannot credit"))
	if isinstance(error, NothingToInvoiceError | StatusRuleError):
		throw(str(error), OrderStateError, title=title or _("Cannot invoice"))
	if isinstance(error, InvoicingError):
		throw(str(error), InvalidInvoiceRequestError, title=_("Invalid invoice request"))
	raise error


# The Xero Connection: its consent and tokens (services/consent.py, services/tokens.py).


class NeedsReconnectError(frappe.ValidationError):
	"""The consent is gone (refresh token expired, rotated away or revoked): an admin must reconnect."""

	http_status_code = 409


class NotConnectedError(frappe.ValidationError):
	"""The connection has no consent yet, or no organisation."""

	http_status_code = 409


class OAuthStateError(frappe.ValidationError):
	"""Unknown, expired, replayed or foreign OAuth state."""

	http_status_code = 400


class InvalidReportFilterError(frappe.ValidationError):
	"""A report or dashboard filter of the wrong type or with an unknown value."""

	http_status_code = 400


class DerivedFieldError(frappe.ValidationError):
	"""A request tried to set a figure the app derives (from the invoices, from Xero or from an action)."""


class HeldByXeroError(frappe.ValidationError):
	"""The invoice is (or may be) in Xero: only Xero's void or delete may retire it."""

	http_status_code = 409


# Xero's conditions, as the caller of a whitelisted method sees them (api/xero_answers.py raises them): each an
# answer with its own status and Xero's reason, never a 500 or an Error Log traceback.


class XeroRateLimitedError(frappe.ValidationError):
	"""Xero's minute, concurrent or day limit for the organisation is reached (429 with Retry-After)."""

	http_status_code = 429


class XeroUnreachableError(frappe.InReadOnlyMode):
	"""Xero did not answer, or answered 5xx, after the client's retries (503: try again later).

	A subclass of Frappe's InReadOnlyMode (503, "temporarily not available"), which Frappe answers without
	recording an Error Log, as it does for every refusal below 500.
	"""

	http_status_code = 503


class XeroReconnectError(frappe.ValidationError):
	"""Xero refused the connection's grant (401 after a refresh, 403, invalid_grant): reconnect (409)."""

	http_status_code = 409


class XeroRefusedError(frappe.ValidationError):
	"""Xero refused the request itself, e.g. a validation error (417, Frappe's status for validation)."""

	http_status_code = 417


# The bulk import of Xero invoices (services/import_*.py): a failed fetch is also the Xero condition behind it.


class ImportSettingsError(frappe.ValidationError):
	"""Batch settings that cannot work: a bad pattern, an empty date range, an unknown status or contact."""

	http_status_code = 400


class ImportFetchError(frappe.ValidationError):
	"""Xero (or the connection) refused while the invoices were fetched; nothing was imported."""

	http_status_code = 502


class ImportRateLimitedError(ImportFetchError, XeroRateLimitedError):
	"""The fetch met Xero's rate limit (429 with Retry-After)."""

	http_status_code = 429


class ImportXeroUnreachableError(ImportFetchError, XeroUnreachableError):
	"""Xero did not answer the fetch after the client's retries (503)."""

	http_status_code = 503


class ImportReconnectError(ImportFetchError, XeroReconnectError):
	"""The connection must be reconnected before anything can be fetched (409)."""

	http_status_code = 409


class ImportRefusedError(ImportFetchError, XeroRefusedError):
	"""Xero refused the fetch itself (417 with Xero's message)."""

	http_status_code = 417


class ImportStateError(frappe.ValidationError):
	"""The batch's status does not allow the action, e.g. a second Import while one runs."""

	http_status_code = 409


class InvalidContactError(frappe.ValidationError):
	"""A new Xero contact with fields Xero would refuse, or a request for an organisation that is not there."""

	http_status_code = 400


class ContactHeldError(frappe.ValidationError):
	"""Xero holds the name or account number of a new contact on a contact the app cannot offer instead (an
	archived one): 409 with Xero's reason."""

	http_status_code = 409


# Orders from Xero quotes (services/quote_orders.py, services/quote_invoicing.py).


class InvalidQuoteRequestError(frappe.ValidationError):
	"""Malformed arguments to a quote method: not a QuoteID, a date or a status Xero has (400)."""

	http_status_code = 400


class QuoteNotFoundError(frappe.DoesNotExistError):
	"""Xero has no quote with that QuoteID in the organisation (404)."""

	http_status_code = 404


class QuoteStateError(frappe.ValidationError):
	"""The quote cannot become an order now: it is not ACCEPTED, or it is an order already (409)."""

	http_status_code = 409


class QuoteConversionError(frappe.ValidationError):
	"""The quote holds what an order cannot (a line, a tax type unknown here, totals that are not the sum of its
	lines): 417 with the reason."""


# Xero's conditions mapped to those answers: used by api/xero_answers.py and by services that record a failure
# before they answer (the import preview).
RETRY_AFTER_FLAG = "xso_retry_after"
# When Xero gives no Retry-After: its minute window, and a short pause for an outage.
DEFAULT_RATE_LIMIT_WAIT = 60
UNAVAILABLE_WAIT = 30


def answer_for(error: Exception) -> tuple[type[Exception], str, int | None] | None:
	"""(exception class, message, Retry-After seconds or None) for a Xero condition; None for anything else."""
	if isinstance(error, XeroRateLimitError):
		wait = DEFAULT_RATE_LIMIT_WAIT if error.retry_after is None else max(1, math.ceil(error.retry_after))
		message = error.message or _("Xero's rate limit for this organisation is reached")
		return XeroRateLimitedError, message, wait
	if isinstance(error, XeroUnavailableError) or (
		isinstance(error, XeroAPIError) and (error.status is None or error.status >= 500)
	):
		return (
			XeroUnreachableError,
			_("Xero is not answering right now ({0}); try again in a few minutes").format(error.message),
			UNAVAILABLE_WAIT,
		)
	if isinstance(error, XeroAuthError):
		return (
			XeroReconnectError,
			_(
				"Xero refused this connection's access ({0}); an administrator must click Connect to Xero"
			).format(error.message),
			None,
		)
	if isinstance(error, XeroAPIError):
		return XeroRefusedError, _("Xero refused the request: {0}").format(error.message), None
	if isinstance(error, OAuthError):
		if error.status is None or error.status >= 500:
			return (
				XeroUnreachableError,
				_(
					"Xero's sign-in service is not answering right now ({0}); try again in a few minutes"
				).format(error.description or error.error),
				UNAVAILABLE_WAIT,
			)
		if error.error in ("invalid_grant", "unauthorized_client", "invalid_client", "unauthorized"):
			return (
				XeroReconnectError,
				_(
					"Xero refused this connection's grant ({0}); an administrator must click Connect to Xero"
				).format(error.description or error.error),
				None,
			)
		return XeroRefusedError, _("Xero refused: {0}").format(error.description or error.error), None
	if isinstance(error, requests.RequestException):
		return (
			XeroUnreachableError,
			_("Xero could not be reached ({0}); try again in a few minutes").format(type(error).__name__),
			UNAVAILABLE_WAIT,
		)
	return None


def raise_xero_answer(error: Exception) -> None:
	"""Raises the app's answer for a Xero condition (and keeps its Retry-After); re-raises anything else."""
	answer = answer_for(error)
	if answer is None:
		raise error
	exc, message, retry_after = answer
	keep_retry_after(retry_after)
	frappe.clear_last_message()
	throw(message, exc, title=_("Xero"))


def keep_retry_after(seconds: int | None) -> None:
	"""The Retry-After of this request's answer (written by api.xero_answers.add_retry_after)."""
	if seconds is not None:
		frappe.local.flags[RETRY_AFTER_FLAG] = int(seconds)
