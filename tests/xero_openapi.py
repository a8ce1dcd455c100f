"""Validates Xero traffic (requests sent to the sandbox and its answers) against Xero's official OpenAPI spec.

The spec lives beside the checkout: ``<checkout>/../shared/xero/openapi``. Sandbox URLs are rewritten
onto the spec's servers (``https://api.xero.com/api.xro/2.0`` for accounting, ``https://api.xero.com`` for
identity, which spells ``/Connections``). Known, documented deviations of real Xero from its own spec are
tolerated explicitly and narrowly (see KNOWN_DEVIATIONS); everything else is a failure.
"""

import contextlib
import functools
import json
import re
import threading
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import (
	RequestsOpenAPIRequest,
	RequestsOpenAPIWebhookRequest,
)
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_schema_validator import OAS30Validator
from werkzeug.datastructures import Headers

try:
	from openapi_core import Config
except ImportError:  # pragma: no cover - older openapi-core
	from openapi_core.configurations import Config

SPEC_DIR = (Path(__file__).resolve().parents[1] / ".." / "shared" / "xero" / "openapi").resolve()
XERO_ORIGIN = "https://api.xero.com"
API_PREFIX = "/api.xro/2.0"

KNOWN_DEVIATIONS = """
1. Identity ``createdDateUtc``/``updatedDateUtc`` and webhook ``eventDateUtc`` are declared ``date-time`` but
   Xero sends them without a zone offset (facts §10; e.g. ``2019-07-09T23:40:30.1833130``). The sandbox
   sends them as Xero does; the checker accepts exactly that form (read as UTC) and nothing looser.
2. ``/Invoices/{InvoiceID}`` is declared ``uuid`` but Xero also accepts an InvoiceNumber there (facts §4).
3. Answers the spec does not declare for an operation (400 on GETs, 401, 403, 404, 405, 429, 5xx) are
   checked against the shapes Xero sends (facts §2): 400 → the spec's ``Error`` schema; others → a problem
   ``{"Title", "Status", "Detail"}`` whose Status equals the HTTP status; 429 also needs ``Retry-After``
   and ``X-Rate-Limit-Problem``.
4. The token endpoint is not in the identity spec; its 200 answers are checked against the spec's
   ``AccessToken`` schema and its errors must be ``{"error": "<code>"}``. The authorize redirect and
   revocation have no schema and are not checked.
"""

_NO_ZONE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class SpecMissing(AssertionError):
	pass


def spec_path(name: str) -> Path:
	path = SPEC_DIR / name
	if not path.is_file():
		raise SpecMissing(
			f"Xero's OpenAPI spec {path} is missing: the conformance check needs <checkout>/../shared/xero/openapi/"
		)
	return path


@functools.cache
def load_spec(name: str) -> OpenAPI:
	# The official YAML is not strictly valid OpenAPI (facts §10), so spec validation is off.
	return OpenAPI.from_file_path(str(spec_path(name)), config=Config(spec_validator_cls=None))


@functools.cache
def _schema_validator(spec_name: str, schema_name: str) -> OAS30Validator:
	"""A validator for one component schema, its $refs resolved within the whole spec document."""
	document = load_spec(spec_name).spec.read_value()
	return OAS30Validator({**document, "$ref": f"#/components/schemas/{schema_name}"})


@dataclass
class Exchange:
	request: requests.PreparedRequest
	response: requests.Response
	invalid_request_expected: bool = False


class _FakeResponse:
	"""An openapi-core response with a (known-deviation-adjusted) body."""

	def __init__(self, status: int, data: bytes, headers, content_type: str):
		self.status_code, self.data, self.content_type = status, data, content_type
		self.headers = Headers(dict(headers))


class XeroConformance:
	"""Records sandbox exchanges and checks them; ``problems`` lists every deviation found."""

	def __init__(self):
		self.origins: list[str] = []
		self.exchanges: list[Exchange] = []
		self.checked = 0
		self._lock = threading.Lock()
		self._expect_invalid = threading.local()

	def watch(self, origin: str) -> None:
		self.origins.append(origin.rstrip("/"))

	@contextlib.contextmanager
	def expect_invalid_request(self):
		"""Exchanges inside deliberately send a non-conforming request (e.g. no xero-tenant-id): their
		requests are not validated, the answers still are."""
		self._expect_invalid.on = True
		try:
			yield
		finally:
			self._expect_invalid.on = False

	def record(self, response: requests.Response) -> None:
		url = response.request.url or ""
		if any(url.startswith(origin + "/") for origin in self.origins):
			with self._lock:
				self.exchanges.append(
					Exchange(response.request, response, getattr(self._expect_invalid, "on", False))
				)

	def problems(self) -> list[str]:
		found = []
		with self._lock:
			pending, self.exchanges = self.exchanges, []
		for exchange in pending:
			found.extend(
				self.check(exchange.response, validate_request=not exchange.invalid_request_expected)
			)
		return found

	def assert_all_valid(self) -> None:
		found = self.problems()
		assert not found, "Xero OpenAPI deviations:\n" + "\n".join(found)

	# --- checks ----------------------------------------------------------------------------------------

	def check(self, response: requests.Response, validate_request: bool = True) -> list[str]:
		"""Deviations of one exchange from Xero's spec (an empty list when it conforms)."""
		request = response.request
		path = urlsplit(request.url).path
		lowered = path.lower()
		label = f"{request.method} {path} -> {response.status_code}"
		if lowered.startswith("/_sandbox"):
			return []
		self.checked += 1
		with warnings.catch_warnings():
			# openapi-core has no checker for OAuth2 security schemes and says so on every call.
			warnings.filterwarnings("ignore", message="Unsupported scheme type")
			return [f"{label}: {p}" for p in self._check_one(request, response, path, validate_request)]

	def _check_one(self, request, response, path: str, validate_request: bool) -> list[str]:
		lowered = path.lower()
		try:
			if lowered.startswith(API_PREFIX.lower() + "/"):
				return self._check_spec("xero_accounting.yaml", request, response, path, validate_request)
			if lowered == "/connections" or lowered.startswith("/connections/"):
				spec_url_path = "/Connections" + path[len("/connections") :]
				return self._check_spec(
					"xero-identity.yaml", request, response, spec_url_path, validate_request
				)
			if lowered == "/connect/token":
				return self._check_token(response)
		except SpecMissing:
			raise
		except Exception as e:  # a checker crash is a failure too, never a silent pass
			return [f"checker error {type(e).__name__}: {e}"]
		return []

	def _check_spec(
		self, spec_name: str, request, response, spec_url_path: str, validate_request: bool
	) -> list[str]:
		openapi = load_spec(spec_name)
		problems = []
		spec_url_path = self._tolerate_invoice_number(spec_url_path)
		prepared = request.copy()
		split = urlsplit(request.url)
		prepared.url = urlunsplit(("https", "api.xero.com", spec_url_path, split.query, ""))
		openapi_request = RequestsOpenAPIRequest(prepared)
		if validate_request:
			problems += [f"request: {_explain(e)}" for e in openapi.iter_request_errors(openapi_request)]
		body = self._tolerate_no_zone_dates(response)
		openapi_response = _FakeResponse(
			response.status_code, body, response.headers, response.headers.get("Content-Type", "")
		)
		errors = list(openapi.iter_response_errors(openapi_request, openapi_response))
		if any(isinstance(e, ResponseNotFound) for e in errors):
			return problems + self._undeclared_answer(response)
		return problems + [f"response: {_explain(e)}" for e in errors]

	@staticmethod
	def _tolerate_invoice_number(path: str) -> str:
		match = re.match(r"^(/api\.xro/2\.0/Invoices/)([^/]+)(.*)$", path, re.IGNORECASE)
		if match and not _UUID.match(match.group(2)):
			return f"{match.group(1)}{uuid.UUID(int=0)}{match.group(3)}"
		return path

	@staticmethod
	def _tolerate_no_zone_dates(response: requests.Response) -> bytes:
		raw = response.content
		path = urlsplit(response.request.url).path.lower()
		if not path.startswith("/connections") or response.status_code != 200:
			return raw
		rows = json.loads(raw)
		for row in rows if isinstance(rows, list) else []:
			for key in ("createdDateUtc", "updatedDateUtc"):
				if isinstance(row.get(key), str) and _NO_ZONE.match(row[key]):
					row[key] = row[key] + "Z"
		return json.dumps(rows).encode()

	def _undeclared_answer(self, response: requests.Response) -> list[str]:
		status = response.status_code
		try:
			body = response.json()
		except ValueError:
			return [f"an undeclared {status} answer must carry Xero's JSON error body"]
		if status == 400:
			errors = [e.message for e in _schema_validator("xero_accounting.yaml", "Error").iter_errors(body)]
			if not isinstance(body, dict) or not body.get("Type") or not body.get("Message"):
				errors.append("a 400 needs Xero's Error body with Type and Message")
			return errors
		problems = []
		if (
			not isinstance(body, dict)
			or not isinstance(body.get("Title"), str)
			or not isinstance(body.get("Detail"), str)
		):
			problems.append(f"a {status} needs Xero's problem body with Title and Detail, got {body!r}")
		elif body.get("Status") != status:
			problems.append(f"problem Status {body.get('Status')} differs from HTTP {status}")
		if status == 429:
			for header in ("Retry-After", "X-Rate-Limit-Problem"):
				if not response.headers.get(header):
					problems.append(f"a 429 needs the {header} header")
		if status not in (401, 403, 404, 405, 429, 500, 501, 503):
			problems.append(f"HTTP {status} is not an answer Xero gives here")
		return problems

	def _check_token(self, response: requests.Response) -> list[str]:
		body = response.json()
		if response.status_code == 200:
			problems = [
				e.message for e in _schema_validator("xero-identity.yaml", "AccessToken").iter_errors(body)
			]
			for key in ("access_token", "expires_in", "token_type", "scope"):
				if key not in body:
					problems.append(f"the token answer lacks {key}")
			return problems
		if set(body) != {"error"} or not isinstance(body["error"], str):
			return [f"an OAuth error must be {{'error': code}}, got {body!r}"]
		return []

	def check_webhook(self, body: bytes, headers, name: str = "invoices") -> list[str]:
		"""A webhook delivery the sandbox sent, against xero-webhooks.yaml (eventDateUtc: known deviation 1)."""
		payload = json.loads(body)
		for event in payload.get("events", []):
			if isinstance(event.get("eventDateUtc"), str) and _NO_ZONE.match(event["eventDateUtc"]):
				event["eventDateUtc"] += "Z"
		prepared = requests.Request(
			"POST", f"{XERO_ORIGIN}/webhooks", data=json.dumps(payload), headers=dict(headers)
		).prepare()
		openapi = load_spec("xero-webhooks.yaml")
		request = RequestsOpenAPIWebhookRequest(prepared, name)
		problems = [_explain(e) for e in openapi.iter_webhook_request_errors(request)]
		if "x-xero-signature" not in {k.lower() for k in headers}:
			problems.append("the delivery lacks x-xero-signature")
		return problems


def _explain(error: Exception) -> str:
	details = [str(error)]
	for attribute in ("schema_errors", "__cause__"):
		inner = getattr(error, attribute, None)
		if inner:
			for item in inner if isinstance(inner, list | tuple) else [inner]:
				details.append(str(getattr(item, "message", item)))
				for sub in getattr(item, "schema_errors", []) or []:
					details.append(str(getattr(sub, "message", sub)))
	return " | ".join(dict.fromkeys(d for d in details if d))[:1500]
