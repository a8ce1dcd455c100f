"""Errors of the Xero client and the readable messages built from Xero's error bodies."""

_IDENTIFYING_FIELDS = ("InvoiceNumber", "Reference", "CreditNoteNumber", "Code", "Name", "ContactNumber")
_ID_FIELDS = ("InvoiceID", "ContactID", "ItemID", "PaymentID", "AccountID", "CreditNoteID")


class XeroAPIError(Exception):
	"""A call Xero refused or that could not be completed.

	`status` is the HTTP status (None when no answer came back or the refusal was local), `message` a sentence a
	user can read, `validation_errors` Xero's validation messages, `body` the parsed answer when there was one.
	"""

	def __init__(self, message: str, status: int | None = None, validation_errors=None, body=None):
		super().__init__(message)
		self.message = message
		self.status = status
		self.validation_errors = list(validation_errors or [])
		self.body = body


class XeroValidationError(XeroAPIError):
	"""400: Xero refused the data; `validation_errors` says why, element by element."""


class XeroAuthError(XeroAPIError):
	"""401 even after a forced token refresh, or 403 (wrong tenant or missing scope)."""


class XeroNotFoundError(XeroAPIError):
	"""404: no such resource (or, with very long ID lists, a query string Xero could not take)."""


class XeroRateLimitError(XeroAPIError):
	"""Over a Xero limit. `problem` is `minute`, `day`, `concurrent` (or Xero's word); `retry_after` in seconds.

	A `day` problem is never retried: the caller should come back after `retry_after`.
	"""

	def __init__(
		self, message: str, status: int | None = 429, problem: str | None = None, retry_after=None, body=None
	):
		super().__init__(message, status=status, body=body)
		self.problem = problem
		self.retry_after = retry_after


class XeroUnavailableError(XeroAPIError):
	"""Retries exhausted on 5xx answers, dropped connections or timeouts: try again later."""


def resource_label(path: str) -> str:
	"""`/Invoices/abc` → `Invoice`: the word that prefixes an element's validation messages."""
	first = path.strip("/").split("/", 1)[0].split("?", 1)[0]
	return first[:-1] if first.endswith("s") else first


def element_errors(element: dict, resource: str = "Invoice") -> list[str]:
	"""Readable validation messages of one element of a batch answer, e.g.
	"Invoice XSO-1: Account code '999' is not a valid code for this document."
	"""
	messages = [_message_text(error) for error in element.get("ValidationErrors") or []]
	for number, line in enumerate(element.get("LineItems") or [], start=1):
		messages += [f"line {number}: {_message_text(error)}" for error in line.get("ValidationErrors") or []]
	label = _element_label(element, resource)
	return [f"{label}: {text}" for text in messages if text]


def describe_error_body(body, resource: str = "") -> tuple[str, list[str]]:
	"""(message, validation_errors) from any error body Xero sends: validation exceptions, API problems
	(`Title`/`Detail`), plain `Message`s and OAuth errors (`error`/`error_description`).
	"""
	if not isinstance(body, dict):
		text = str(body or "").strip()
		return (text[:500], [])
	validation_errors = []
	for element in body.get("Elements") or []:
		validation_errors += element_errors(element, resource or "Element")
	if validation_errors:
		return (join_sentences(validation_errors), validation_errors)
	for field in ("Detail", "Message", "error_description", "Title", "error"):
		if body.get(field):
			return (str(body[field]), [])
	return ("", [])


def join_sentences(parts: list[str]) -> str:
	return " ".join(part if part.endswith((".", "!", "?")) else part + "." for part in parts)


def _message_text(error) -> str:
	return str(error.get("Message", "")).strip() if isinstance(error, dict) else str(error).strip()


def _element_label(element: dict, resource: str) -> str:
	for field in _IDENTIFYING_FIELDS + _ID_FIELDS:
		value = element.get(field)
		if value and value != "00000000-0000-0000-0000-000000000000":
			return f"{resource} {value}"
	return resource
