"""Xero's identity service: consent, codes, tokens with rotation and grace, revocation, connections."""

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlencode

from .clock import SandboxClock
from .tenant import Tenant
from .xerojson import connection_timestamp

CODE_TTL = 300  # seconds an authorization code stays usable
REFRESH_GRACE = 1800  # the previous refresh token keeps working this long after a rotation
REFRESH_IDLE_TTL = 60 * 86400  # a refresh token unused for 60 days dies


class OAuthProblem(Exception):
	"""An OAuth error answer: HTTP 400 ``{"error": code}`` (401 for a bad client)."""

	def __init__(self, error: str, description: str = "", status: int = 400):
		super().__init__(description or error)
		self.error, self.description, self.status = error, description, status


@dataclass
class Grant:
	grant_id: str
	client_id: str
	scope: str
	auth_event_id: str
	connections: dict[str, dict] = field(default_factory=dict)  # by connection id
	revoked: bool = False

	def tenant_ids(self) -> set[str]:
		return {c["tenantId"] for c in self.connections.values()}


@dataclass
class _Code:
	grant_id: str
	client_id: str
	redirect_uri: str
	expires_at: float
	code_challenge: str | None
	used: bool = False


@dataclass
class _Refresh:
	grant_id: str
	client_id: str
	last_used: float
	successor: str | None = None
	rotated_at: float | None = None


@dataclass
class AccessToken:
	grant_id: str
	expires_at: float


class Identity:
	def __init__(self, clock: SandboxClock, client_id: str, client_secret: str, token_ttl: int):
		self.clock = clock
		self.client_id, self.client_secret, self.token_ttl = client_id, client_secret, token_ttl
		self.reset()

	def reset(self) -> None:
		self.grants: dict[str, Grant] = {}
		self._codes: dict[str, _Code] = {}
		self._refresh: dict[str, _Refresh] = {}
		self._access: dict[str, AccessToken] = {}

	# --- consent ---------------------------------------------------------------------------------------

	def authorize(self, params: dict, tenants: list[Tenant]) -> str:
		"""Consents at once to every tenant; returns the redirect URL (raises OAuthProblem when refused)."""
		if params.get("client_id") != self.client_id:
			raise OAuthProblem("unauthorized_client", "Unknown client_id")
		redirect_uri = params.get("redirect_uri")
		if not redirect_uri or not redirect_uri.startswith(("http://", "https://")):
			raise OAuthProblem("invalid_request", "redirect_uri is required and must be an http(s) URL")
		if params.get("response_type") != "code":
			raise OAuthProblem("unsupported_response_type", "response_type must be code")
		scope = " ".join((params.get("scope") or "").split())
		if not scope:
			raise OAuthProblem("invalid_scope", "scope is required")
		challenge = params.get("code_challenge")
		if challenge and params.get("code_challenge_method", "plain") != "S256":
			raise OAuthProblem("invalid_request", "code_challenge_method must be S256")
		now = self.clock.now()
		grant = Grant(str(uuid.uuid4()), self.client_id, scope, str(uuid.uuid4()))
		for tenant in tenants:
			connection_id = str(uuid.uuid4())
			grant.connections[connection_id] = {
				"id": connection_id,
				"authEventId": grant.auth_event_id,
				"tenantId": tenant.tenant_id,
				"tenantType": "ORGANISATION",
				"tenantName": tenant.name,
				"createdDateUtc": connection_timestamp(now),
				"updatedDateUtc": connection_timestamp(now),
			}
		self.grants[grant.grant_id] = grant
		code = secrets.token_urlsafe(32)
		self._codes[code] = _Code(
			grant.grant_id, self.client_id, redirect_uri, self.clock.time() + CODE_TTL, challenge
		)
		query = {"code": code, "scope": scope}
		if params.get("state") is not None:
			query["state"] = params["state"]
		separator = "&" if "?" in redirect_uri else "?"
		return f"{redirect_uri}{separator}{urlencode(query)}"

	# --- tokens ----------------------------------------------------------------------------------------

	def client_from(self, headers, form: dict) -> str:
		"""Checks client credentials (HTTP Basic or form fields) and returns the client id."""
		client_id, secret = form.get("client_id"), form.get("client_secret")
		authorization = headers.get("Authorization") or ""
		if authorization.lower().startswith("basic "):
			try:
				client_id, _, secret = base64.b64decode(authorization[6:]).decode("utf-8").partition(":")
			except (ValueError, UnicodeDecodeError):
				raise OAuthProblem("invalid_client", "Malformed Basic credentials") from None
		if client_id != self.client_id or not hmac.compare_digest(secret or "", self.client_secret):
			raise OAuthProblem("invalid_client", "Unknown client or wrong secret")
		return client_id

	def token(self, headers, form: dict) -> dict:
		client_id = self.client_from(headers, form)
		grant_type = form.get("grant_type")
		if grant_type == "authorization_code":
			return self._exchange_code(client_id, form)
		if grant_type == "refresh_token":
			return self._refresh_tokens(client_id, form.get("refresh_token") or "")
		raise OAuthProblem("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")

	def _exchange_code(self, client_id: str, form: dict) -> dict:
		code = self._codes.get(form.get("code") or "")
		if code is None or code.used or code.expires_at < self.clock.time():
			raise OAuthProblem("invalid_grant", "The code is unknown, expired or already used")
		code.used = True  # single use, even when the rest of the request is wrong
		if code.client_id != client_id or code.redirect_uri != form.get("redirect_uri"):
			raise OAuthProblem("invalid_grant", "The code was issued to another client or redirect_uri")
		if code.code_challenge:
			verifier = form.get("code_verifier") or ""
			digest = (
				base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
			)
			if digest != code.code_challenge:
				raise OAuthProblem("invalid_grant", "code_verifier does not match the code_challenge")
		grant = self.grants[code.grant_id]
		if grant.revoked:
			raise OAuthProblem("invalid_grant", "The grant was revoked")
		refresh = self._new_refresh(grant) if "offline_access" in grant.scope.split() else None
		return self._token_response(grant, refresh)

	def _refresh_tokens(self, client_id: str, token: str) -> dict:
		now = self.clock.time()
		record = self._refresh.get(token)
		if record is None or record.client_id != client_id:
			raise OAuthProblem("invalid_grant")
		grant = self.grants[record.grant_id]
		if grant.revoked or now - record.last_used > REFRESH_IDLE_TTL:
			raise OAuthProblem("invalid_grant")
		if record.successor is None:
			record.successor, record.rotated_at = self._new_refresh(grant), now
			return self._token_response(grant, record.successor)
		if now - record.rotated_at > REFRESH_GRACE:
			raise OAuthProblem("invalid_grant")
		# Within the grace window the old token answers with the live token of its chain, so two
		# workers that raced on one refresh token end up holding the same, valid, refresh token.
		live = record.successor
		while self._refresh[live].successor is not None:
			live = self._refresh[live].successor
		self._refresh[live].last_used = now
		return self._token_response(grant, live)

	def _new_refresh(self, grant: Grant) -> str:
		token = secrets.token_urlsafe(40)
		self._refresh[token] = _Refresh(grant.grant_id, grant.client_id, self.clock.time())
		return token

	def _token_response(self, grant: Grant, refresh_token: str | None) -> dict:
		access = secrets.token_urlsafe(48)
		self._access[access] = AccessToken(grant.grant_id, self.clock.time() + self.token_ttl)
		answer = {
			"access_token": access,
			"expires_in": self.token_ttl,
			"token_type": "Bearer",
			"scope": grant.scope,
		}
		if refresh_token:
			answer["refresh_token"] = refresh_token
		if "openid" in grant.scope.split():
			answer["id_token"] = self._id_token(grant)
		return answer

	def _id_token(self, grant: Grant) -> str:
		"""An HS256 JWT keyed with the client secret (Xero signs RS256; clients here only decode it)."""
		now = int(self.clock.time())

		def part(data: dict) -> str:
			raw = json.dumps(data, separators=(",", ":")).encode()
			return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

		claims = {
			"iss": "https://identity.xero.com",
			"aud": self.client_id,
			"iat": now,
			"nbf": now,
			"exp": now + 300,
			"auth_time": now,
			"sub": "sandbox-user",
			"xero_userid": str(uuid.uuid5(uuid.NAMESPACE_URL, "xso-sandbox-user")),
			"global_session_id": grant.grant_id,
			"sid": grant.auth_event_id,
			"email": "demo.user@example.com",
			"given_name": "Demo",
			"family_name": "User",
			"name": "Demo User",
			"preferred_username": "demo.user@example.com",
		}
		signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}"
		signature = hmac.new(self.client_secret.encode(), signing_input.encode(), hashlib.sha256).digest()
		return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

	def revoke(self, headers, form: dict) -> None:
		self.client_from(headers, form)
		token = form.get("token") or ""
		grant_id = None
		if token in self._refresh:
			grant_id = self._refresh[token].grant_id
		elif token in self._access:
			grant_id = self._access[token].grant_id
		if grant_id:  # unknown tokens are accepted silently (RFC 7009)
			grant = self.grants[grant_id]
			grant.revoked = True
			grant.connections.clear()

	def expire_access_tokens(self) -> int:
		now = self.clock.time()
		for token in self._access.values():
			token.expires_at = min(token.expires_at, now - 1)
		return len(self._access)

	# --- bearer checks ---------------------------------------------------------------------------------

	def grant_for(self, authorization: str | None) -> tuple[Grant | None, str | None]:
		"""(grant, None) for a live bearer token, else (None, the 401 Detail Xero would give)."""
		if not authorization or not authorization.lower().startswith("bearer "):
			return None, "AuthenticationUnsuccessful"
		token = self._access.get(authorization[7:].strip())
		if token is None:
			return None, "AuthenticationUnsuccessful"
		if token.expires_at <= self.clock.time():
			expired = datetime.fromtimestamp(token.expires_at, timezone.utc)
			return None, f"TokenExpired: token expired at {expired.strftime('%m/%d/%Y %H:%M:%S')}"
		grant = self.grants[token.grant_id]
		if grant.revoked:
			return None, "AuthenticationUnsuccessful"
		return grant, None
