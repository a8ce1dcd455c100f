"""The sandbox HTTP server: Xero's paths on one origin, plus test controls under ``/_sandbox/``."""

import hashlib
import html
import socket
import threading
import time
import uuid
from collections import Counter
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import accounting
from .accounting import Answer, ApiRequest
from .clock import SandboxClock
from .faults import Fault, FaultError, Faults
from .identity import Identity, OAuthProblem
from .invoices import record_payment, render_invoice, render_payment
from .limits import RateLimits
from .org_settings import delete_theme, set_tracking_status
from .seed import make_tenants
from .tenant import Tenant
from .webhooks import WebhookError, WebhookSender
from .xerojson import dumps, loads, to_number

API_PREFIX = "/api.xro/2.0"
IDEMPOTENCY_TTL = 360  # seconds of sandbox clock: Xero keeps a key for about 6 minutes
IDEMPOTENCY_KEY_MAX = 128

DEFAULTS = {
	"client_id": "XSO-SANDBOX-CLIENT",
	"client_secret": "xso-sandbox-secret",
	"webhook_key": "xso-sandbox-webhook-key",
}


class _Dropped(Exception):
	"""Close the connection without an answer."""


class SandboxServer:
	"""A local stand-in for Xero (identity + accounting API + webhooks). ``start()`` runs it in a thread."""

	def __init__(
		self,
		port: int = 0,
		host: str = "127.0.0.1",
		*,
		client_id: str = DEFAULTS["client_id"],
		client_secret: str = DEFAULTS["client_secret"],
		webhook_key: str = DEFAULTS["webhook_key"],
		webhook_url: str | None = None,
		tenants: int = 2,
		seed_invoices: int = 40,
		seed_contacts: int = 20,
		seed_items: int = 15,
		rate_limits: bool = True,
		day_limit: int = 5000,
		token_ttl: int = 1800,
		seed: int = 1,
		provider_name: str = "Xero Sales Orders (sandbox)",
		verbose: bool = False,
	):
		self.host, self.port = host, port
		self.client_id, self.client_secret, self.webhook_key = client_id, client_secret, webhook_key
		self.provider_name = provider_name
		self.verbose = verbose
		self._seed_options = {
			"count": tenants,
			"seed": seed,
			"contacts": seed_contacts,
			"items": seed_items,
			"invoices": seed_invoices,
		}
		self.clock = SandboxClock()
		self.lock = threading.RLock()  # guards tenants, grants and the idempotency cache
		self.identity = Identity(self.clock, client_id, client_secret, token_ttl)
		self.limits = RateLimits(self.clock, enabled=rate_limits, per_day=day_limit)
		self.faults = Faults(seed)
		self.tenants: dict[str, Tenant] = make_tenants(now=self.clock.now(), **self._seed_options)
		self._idempotency: dict[tuple[str, str], dict] = {}
		self._reset_calls()
		self._httpd: ThreadingHTTPServer | None = None
		self._thread: threading.Thread | None = None
		self.webhooks = WebhookSender(webhook_key, webhook_url, "", self.clock.now)

	# --- lifecycle -------------------------------------------------------------------------------------

	def start(self) -> "SandboxServer":
		httpd = _HTTPServer((self.host, self.port), _Handler)
		httpd.sandbox = self
		self._httpd = httpd
		self.port = httpd.server_address[1]
		self.webhooks.api_url = self.url
		self._thread = threading.Thread(
			target=httpd.serve_forever, args=(0.05,), name="xero-sandbox", daemon=True
		)
		self._thread.start()
		return self

	def stop(self) -> None:
		if self._httpd is not None:
			self._httpd.shutdown()
			self._httpd.server_close()
			self._httpd = None

	def __enter__(self) -> "SandboxServer":
		return self.start() if self._httpd is None else self

	def __exit__(self, *exc) -> None:
		self.stop()

	@property
	def url(self) -> str:
		return f"http://{self.host}:{self.port}"

	def tenant(self, index: int = 0) -> Tenant:
		"""The index-th seeded tenant (0 is the NZ demo company)."""
		return list(self.tenants.values())[index]

	def reset(self, keep_grants: bool = False) -> None:
		with self.lock:
			self.clock.reset()
			self.tenants = make_tenants(now=self.clock.now(), **self._seed_options)
			if not keep_grants:
				self.identity.reset()
			self._idempotency.clear()
			self.faults.clear()
			self.limits.reset()
			self._reset_calls()

	# --- bookkeeping -----------------------------------------------------------------------------------

	def _reset_calls(self) -> None:
		self._calls_lock = threading.Lock()
		self._calls = {
			"total": 0,
			"by_endpoint": Counter(),
			"by_tenant": Counter(),
			"token": Counter(),
			"faults": Counter(),
		}
		self._call_log = []  # (seconds since the reset, tenant id, endpoint) of every tenant call
		self._calls_since = time.monotonic()
		self.limits.reset_counts()

	def _count(self, section: str | None, key: str | None = None) -> None:
		with self._calls_lock:
			if section is None:
				self._calls["total"] += 1
			else:
				self._calls[section][key] += 1

	def _log_call(self, tenant_id: str, endpoint: str) -> None:
		with self._calls_lock:
			self._call_log.append((round(time.monotonic() - self._calls_since, 3), tenant_id, endpoint))

	def call_log(self) -> list:
		"""Every call made for a tenant since the last reset, in order: [seconds, tenant id, endpoint]."""
		with self._calls_lock:
			return [list(entry) for entry in self._call_log]

	def calls(self) -> dict:
		with self._calls_lock:
			return {
				"total": self._calls["total"],
				"by_endpoint": dict(self._calls["by_endpoint"]),
				"by_tenant": dict(self._calls["by_tenant"]),
				"token": dict(self._calls["token"]),
				"rejected": {
					k: self.limits.rejected.get(k, 0) for k in ("minute", "day", "concurrent", "appminute")
				},
				"limit_breaches": self.limits.limit_breaches,
				"faults": dict(self._calls["faults"]),
			}

	def today_for(self, tenant: Tenant):
		try:
			return self.clock.now().astimezone(ZoneInfo(tenant.timezone)).date()
		except ZoneInfoNotFoundError:  # no tz database: UTC is close enough for a sandbox
			return self.clock.now().date()


class _HTTPServer(ThreadingHTTPServer):
	daemon_threads = True
	block_on_close = False
	request_queue_size = 128
	allow_reuse_address = True
	sandbox: SandboxServer


def _endpoint_name(method: str, path: str) -> str:
	"""``GET /api.xro/2.0/Invoices/{id}``: ids folded so counts group by endpoint."""
	parts = path.rstrip("/").split("/")
	if path.lower().startswith(API_PREFIX.lower() + "/") and len(parts) > 4:
		parts[4] = "{id}"
	elif len(parts) > 2 and parts[1].lower() == "connections":
		parts[2] = "{id}"
	return f"{method} {'/'.join(parts)}"


def _problem(status: int, title: str, detail: str, **extra) -> Answer:
	return Answer(status, {"Title": title, "Status": status, "Detail": detail, **extra})


class _Handler(BaseHTTPRequestHandler):
	protocol_version = "HTTP/1.1"
	server_version = "XeroSandbox/1.0"
	server: _HTTPServer

	def setup(self):
		super().setup()
		# Headers and body go out in separate writes; without this Nagle + delayed ACK add ~40 ms a call.
		self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

	def log_message(self, format, *args):  # noqa: A002 - signature of the base class
		if self.server.sandbox.verbose:
			super().log_message(format, *args)

	def do_GET(self):
		self._dispatch()

	do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

	# --- plumbing --------------------------------------------------------------------------------------

	def _dispatch(self) -> None:
		sandbox = self.server.sandbox
		split = urlsplit(self.path)
		path, query_string = split.path, split.query
		length = int(self.headers.get("Content-Length") or 0)
		body = self.rfile.read(length) if length else b""
		try:
			if path.startswith("/_sandbox/") or path == "/_sandbox":
				answer = _Controls(sandbox).handle(self.command, path, body)
			else:
				answer = self._serve_xero(sandbox, path, query_string, body)
		except _Dropped:
			self.close_connection = True
			try:
				self.connection.shutdown(socket.SHUT_RDWR)
			except OSError:
				pass
			return
		self._write(answer)

	def _write(self, answer: Answer) -> None:
		raw = answer.payload if isinstance(answer.payload, bytes) else b""
		content_type = answer.headers.pop("Content-Type", "application/json; charset=utf-8")
		if answer.payload is not None and not isinstance(answer.payload, bytes):
			raw = dumps(answer.payload)
		try:
			self.send_response(answer.status)
			if raw or answer.status not in (204, 302):
				self.send_header("Content-Type", content_type)
			self.send_header("Content-Length", str(len(raw)))
			for name, value in answer.headers.items():
				self.send_header(name, value)
			self.end_headers()
			if raw and self.command != "HEAD":
				self.wfile.write(raw)
			self.wfile.flush()
		except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeouts, drops)
			self.close_connection = True

	def _serve_xero(self, sandbox: SandboxServer, path: str, query_string: str, body: bytes) -> Answer:
		method = self.command
		sandbox._count(None)
		sandbox._count("by_endpoint", _endpoint_name(method, path))
		fault = sandbox.faults.pick(method, path)
		if fault is not None:
			sandbox._count("faults", fault.kind)
			early = self._early_fault(fault)
			if early is not None:
				return early
		lowered = path.lower().rstrip("/")
		if lowered == API_PREFIX.lower() or lowered.startswith(API_PREFIX.lower() + "/"):
			return self._serve_api(sandbox, path, query_string, body, fault)
		return self._around(fault, lambda: self._serve_identity(sandbox, lowered, path, query_string, body))

	def _early_fault(self, fault: Fault) -> Answer | None:
		if fault.kind == "drop":
			raise _Dropped
		if fault.kind == "500":
			return _problem(500, "An error occurred", "An error occurred in Xero (injected by the sandbox).")
		if fault.kind == "503":
			return _problem(503, "Service Unavailable", "The Xero API is temporarily unavailable (injected).")
		if fault.kind == "429":
			return Answer(
				429,
				{
					"Title": "Too Many Requests",
					"Status": 429,
					"Detail": f"Rate limit exceeded: {fault.problem}",
				},
				{"Retry-After": str(fault.retry_after), "X-Rate-Limit-Problem": fault.problem},
			)
		return None

	@staticmethod
	def _around(fault: Fault | None, work) -> Answer:
		"""Runs ``work`` with a slow answer before it, or a lost answer (timeout) after the write is stored."""
		if fault is not None and fault.kind == "slow":
			time.sleep(fault.delay)
		answer = work()
		if fault is not None and fault.kind == "timeout_after_store":
			time.sleep(fault.delay)
		return answer

	# --- accounting API --------------------------------------------------------------------------------

	def _serve_api(self, sandbox: SandboxServer, path: str, query_string: str, body: bytes, fault) -> Answer:
		with sandbox.lock:
			grant, detail = sandbox.identity.grant_for(self.headers.get("Authorization"))
		if grant is None:
			return _problem(401, "Unauthorized", detail, Type=None, Instance=str(uuid.uuid4()))
		tenant_id = (self.headers.get("xero-tenant-id") or "").strip().lower()
		tenant = sandbox.tenants.get(tenant_id)
		if tenant is None or tenant_id not in grant.tenant_ids():
			return _problem(
				403,
				"Forbidden",
				"AuthenticationUnsuccessful",
				Type="AuthenticationUnsuccessful",
				Instance=str(uuid.uuid4()),
			)
		sandbox._count("by_tenant", tenant.tenant_id)
		sandbox._log_call(tenant.tenant_id, _endpoint_name(self.command, path))
		admission = sandbox.limits.admit(tenant.tenant_id)
		if not admission.allowed:
			headers = dict(admission.headers)
			headers.update(
				{"Retry-After": str(admission.retry_after), "X-Rate-Limit-Problem": admission.problem}
			)
			return Answer(
				429,
				{
					"Title": "Too Many Requests",
					"Status": 429,
					"Detail": f"Rate limit exceeded: {admission.problem}",
				},
				headers,
			)
		try:
			answer = self._around(fault, lambda: self._api_answer(sandbox, tenant, path, query_string, body))
		finally:
			sandbox.limits.release(tenant.tenant_id)
		answer.headers.update(admission.headers)
		return answer

	def _api_answer(
		self, sandbox: SandboxServer, tenant: Tenant, path: str, query_string: str, body: bytes
	) -> Answer:
		query = {
			name.lower(): values[-1]
			for name, values in parse_qs(query_string, keep_blank_values=True).items()
		}
		segments = [s for s in path[len(API_PREFIX) :].split("/") if s]
		method = self.command
		key = self.headers.get("Idempotency-Key") if method in ("PUT", "POST") else None
		now = sandbox.clock.now()
		now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # Xero keeps milliseconds
		with sandbox.lock:
			request = ApiRequest(
				method=method,
				segments=segments,
				query=query,
				headers=self.headers,
				body=body,
				tenant=tenant,
				now=now,
				today=sandbox.today_for(tenant),
				provider_name=sandbox.provider_name,
			)
			if not key:
				return accounting.handle(request)
			if len(key) > IDEMPOTENCY_KEY_MAX:
				return _validation(f"Idempotency-Key must be at most {IDEMPOTENCY_KEY_MAX} characters")
			fingerprint = hashlib.sha256(
				f"{method} {path.lower()}?{query_string}\n".encode() + body
			).hexdigest()
			now = sandbox.clock.time()
			cache = sandbox._idempotency
			for stale in [k for k, v in cache.items() if v["expires_at"] <= now]:
				del cache[stale]
			cached = cache.get((tenant.tenant_id, key))
			if cached is not None:
				if cached["fingerprint"] != fingerprint:
					return _validation("The Idempotency-Key has already been used for a different request")
				return Answer(cached["status"], cached["raw"])
			answer = accounting.handle(request)
			raw = dumps(answer.payload) if answer.payload is not None else b""
			cache[(tenant.tenant_id, key)] = {
				"fingerprint": fingerprint,
				"status": answer.status,
				"raw": raw,
				"expires_at": now + IDEMPOTENCY_TTL,
			}
			return Answer(answer.status, raw, answer.headers)

	# --- identity --------------------------------------------------------------------------------------

	def _serve_identity(
		self, sandbox: SandboxServer, lowered: str, path: str, query_string: str, body: bytes
	) -> Answer:
		method = self.command
		identity = sandbox.identity
		if lowered == "/identity/connect/authorize" and method == "GET":
			params = {k: v[-1] for k, v in parse_qs(query_string, keep_blank_values=True).items()}
			try:
				with sandbox.lock:
					location = identity.authorize(params, list(sandbox.tenants.values()))
			except OAuthProblem as e:
				page = f"<html><body><h1>Xero sandbox: cannot authorise</h1><p>{html.escape(str(e))}</p></body></html>"
				return Answer(400, page.encode(), {"Content-Type": "text/html; charset=utf-8"})
			return Answer(302, None, {"Location": location})
		if lowered in ("/connect/token", "/connect/revocation") and method == "POST":
			form = {
				k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()
			}
			try:
				with sandbox.lock:
					if lowered == "/connect/token":
						sandbox._count("token", form.get("grant_type") or "?")
						return Answer(200, identity.token(self.headers, form), {"Cache-Control": "no-store"})
					identity.revoke(self.headers, form)
					return Answer(200, None)
			except OAuthProblem as e:
				return Answer(e.status, {"error": e.error})
		if lowered == "/connections" or lowered.startswith("/connections/"):
			return self._connections(sandbox, lowered, method, query_string)
		return _problem(404, "NotFound", f"No such sandbox path: {method} {path}")

	def _connections(self, sandbox: SandboxServer, lowered: str, method: str, query_string: str) -> Answer:
		with sandbox.lock:
			grant, detail = sandbox.identity.grant_for(self.headers.get("Authorization"))
			if grant is None:
				return _problem(401, "Unauthorized", detail)
			headers = sandbox.limits.admit_app_call()
			if lowered == "/connections" and method == "GET":
				auth_event = parse_qs(query_string).get("authEventId", [None])[-1]
				rows = [c for c in grant.connections.values() if auth_event in (None, c["authEventId"])]
				return Answer(200, rows, headers)
			if method == "DELETE" and lowered.count("/") == 2:
				connection_id = lowered.rsplit("/", 1)[1]
				if grant.connections.pop(connection_id, None) is None:
					return Answer(404, None, headers)
				return Answer(204, None, headers)
		return _problem(405, "MethodNotAllowed", f"{method} is not allowed on connections")


def _validation(message: str) -> Answer:
	return Answer(400, {"ErrorNumber": 10, "Type": "ValidationException", "Message": message, "Elements": []})


class _Controls:
	"""``/_sandbox/...``: JSON test controls (never under Xero's paths)."""

	def __init__(self, sandbox: SandboxServer):
		self.sandbox = sandbox

	def handle(self, method: str, path: str, body: bytes) -> Answer:
		try:
			data = loads(body) if body.strip() else {}
		except ValueError:
			return Answer(400, {"error": "the body must be JSON"})
		parts = [p for p in path.split("/") if p][1:]
		route = (method, "/".join(parts[:1]))
		try:
			if route == ("POST", "reset"):
				self.sandbox.reset(keep_grants=bool(data.get("keep_grants")))
				return Answer(200, {"reset": True, "tenants": self._tenants()})
			if parts[:1] == ["faults"]:
				return self._faults(method, data)
			if route == ("POST", "clock"):
				offset = self.sandbox.clock.advance(float(data.get("advance", 0)))
				return Answer(200, {"offset": offset, "now": self.sandbox.clock.now().isoformat()})
			if route == ("GET", "clock"):
				clock = self.sandbox.clock
				return Answer(200, {"offset": clock.offset, "now": clock.now().isoformat()})
			if route == ("GET", "calls") and parts[1:] == ["log"]:
				return Answer(200, {"calls": self.sandbox.call_log()})
			if route == ("GET", "calls"):
				return Answer(200, self.sandbox.calls())
			if route == ("DELETE", "calls"):
				self.sandbox._reset_calls()
				return Answer(200, self.sandbox.calls())
			if route == ("GET", "tenants"):
				return Answer(200, {"tenants": self._tenants()})
			if route == ("POST", "tokens") and parts[1:] == ["expire"]:
				with self.sandbox.lock:
					return Answer(200, {"expired": self.sandbox.identity.expire_access_tokens()})
			if route == ("POST", "invoices") and len(parts) == 3 and parts[2] == "pay":
				return self._pay(parts[1], data)
			if route == ("POST", "tracking") and len(parts) == 2:
				return self._org_setting(
					parts[1], lambda t: set_tracking_status(t, parts[1], data.get("status"))
				)
			if route == ("DELETE", "branding-themes") and len(parts) == 2:
				return self._org_setting(parts[1], lambda t: delete_theme(t, parts[1]))
			if route == ("POST", "webhooks") and parts[1:] == ["send"]:
				return self._send_webhook(data)
			if route == ("POST", "webhooks") and parts[1:] == ["itr"]:
				return Answer(200, self.sandbox.webhooks.intent_to_receive(data.get("url")))
		except (FaultError, WebhookError, ValueError, TypeError) as e:
			return Answer(400, {"error": str(e)})
		return Answer(404, {"error": f"no sandbox control {method} {path}"})

	def _org_setting(self, item_id: str, change) -> Answer:
		"""A change an accountant makes in Xero's settings (archive a tracking option, delete a theme)."""
		wanted = item_id.lower()
		with self.sandbox.lock:
			for tenant in self.sandbox.tenants.values():
				options = {
					o["TrackingOptionID"] for c in tenant.tracking_categories.values() for o in c["Options"]
				}
				if (
					wanted in tenant.tracking_categories
					or wanted in tenant.branding_themes
					or wanted in options
				):
					return Answer(200, {"tenant_id": tenant.tenant_id, "changed": change(tenant)})
		return Answer(404, {"error": f"no tracking category, option or branding theme {item_id}"})

	def _tenants(self) -> list[dict]:
		with self.sandbox.lock:
			return [t.counts() for t in self.sandbox.tenants.values()]

	def _faults(self, method: str, data) -> Answer:
		if method == "DELETE":
			self.sandbox.faults.clear()
		elif method == "POST":
			for spec in data if isinstance(data, list) else [data]:
				self.sandbox.faults.add(Fault.from_json(spec))
		elif method != "GET":
			return Answer(405, {"error": "GET, POST or DELETE"})
		return Answer(200, {"faults": self.sandbox.faults.list()})

	def _pay(self, invoice_id: str, data: dict) -> Answer:
		sandbox = self.sandbox
		with sandbox.lock:
			tenant = next((t for t in sandbox.tenants.values() if t.find_invoice(invoice_id)), None)
			if tenant is None:
				return Answer(404, {"error": f"no invoice {invoice_id}"})
			invoice = tenant.find_invoice(invoice_id)
			amount = (
				to_number(data["amount"]) if data.get("amount") not in (None, "") else invoice["AmountDue"]
			)
			payment, problems = record_payment(
				tenant,
				invoice,
				Decimal(amount),
				now=sandbox.clock.now(),
				paid_on=sandbox.today_for(tenant),
				reference=str(data.get("reference") or ""),
			)
			if problems:
				return Answer(400, {"error": " ".join(problems)})
			return Answer(
				200,
				{
					"tenant_id": tenant.tenant_id,
					"payment": render_payment(tenant, payment),
					"invoice": render_invoice(tenant, invoice, lines=True),
				},
			)

	def _send_webhook(self, data: dict) -> Answer:
		sandbox = self.sandbox
		specs = data.get("events") or []
		if not isinstance(specs, list):
			raise WebhookError("events must be a list")

		def credit_note_data(tenant_id: str, credit_note_id: str) -> dict | None:
			with sandbox.lock:
				note = sandbox.tenants[tenant_id.lower()].find_credit_note(str(credit_note_id))
				return {"Type": note["Type"], "Status": note["Status"]} if note else None

		events = [
			sandbox.webhooks.event(spec, lambda t: t.lower() in sandbox.tenants, credit_note_data)
			for spec in specs
		]
		body = sandbox.webhooks.build_body(events)
		return Answer(
			200, sandbox.webhooks.deliver(body, data.get("url"), good_signature=not data.get("bad_signature"))
		)
