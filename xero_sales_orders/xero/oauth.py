"""Xero's OAuth 2.0 authorization-code flow and connections, over requests + requests-oauthlib (1.3.1 and 2.x)."""

import ipaddress
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

import requests
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from .parsing import loads

DEFAULT_TIMEOUT = (5, 30)  # (connect, read) seconds: no call may hang a worker


@dataclass(frozen=True)
class Endpoints:
	"""Where Xero lives; a sandbox sets all three to its own origin."""

	login_url: str = "https://login.xero.com"
	identity_url: str = "https://identity.xero.com"
	api_url: str = "https://api.xero.com"

	@property
	def authorize_url(self) -> str:
		return self.login_url.rstrip("/") + "/identity/connect/authorize"

	@property
	def token_url(self) -> str:
		return self.identity_url.rstrip("/") + "/connect/token"

	@property
	def revocation_url(self) -> str:
		return self.identity_url.rstrip("/") + "/connect/revocation"

	@property
	def connections_url(self) -> str:
		return self.api_url.rstrip("/") + "/connections"

	@property
	def accounting_url(self) -> str:
		return self.api_url.rstrip("/") + "/api.xro/2.0"


@dataclass(frozen=True)
class TokenSet:
	access_token: str
	refresh_token: str
	expires_at: float  # epoch seconds
	scope: str  # space-separated
	id_token: str | None = None

	@classmethod
	def from_response(cls, response: dict, now: float | None = None) -> "TokenSet":
		"""From a token endpoint answer (raw JSON or oauthlib's token dict, whose scope is a list)."""
		now = time.time() if now is None else now
		if response.get("expires_in") is not None:
			expires_at = now + float(response["expires_in"])
		else:
			expires_at = float(response.get("expires_at") or now)
		scope = response.get("scope") or ""
		if not isinstance(scope, str):
			scope = " ".join(scope)
		return cls(
			access_token=response["access_token"],
			refresh_token=response.get("refresh_token") or "",
			expires_at=expires_at,
			scope=scope,
			id_token=response.get("id_token"),
		)

	def expires_within(self, seconds: float, now: float | None = None) -> bool:
		now = time.time() if now is None else now
		return self.expires_at - now <= seconds

	def to_dict(self) -> dict:
		return asdict(self)


class OAuthError(Exception):
	"""A refused or failed OAuth/identity call.

	`error` is the OAuth error code (`invalid_grant`, `invalid_client`, ...; `network_error` when no answer came,
	`http_<status>` when Xero gave none), `status` the HTTP status (None without an answer), `description` Xero's text.
	"""

	def __init__(self, error: str, description: str = "", status: int | None = None):
		super().__init__(f"{error}: {description}" if description else error)
		self.error = error
		self.description = description
		self.status = status

	@classmethod
	def from_response(cls, response: requests.Response) -> "OAuthError":
		try:
			body = loads(response.content)
		except ValueError:
			body = None
		body = body if isinstance(body, dict) else {}
		error = body.get("error") or _ERROR_BY_STATUS.get(
			response.status_code, f"http_{response.status_code}"
		)
		description = (
			body.get("error_description") or body.get("Detail") or body.get("Title") or response.text[:300]
		)
		return cls(str(error), str(description or ""), response.status_code)


_ERROR_BY_STATUS = {401: "unauthorized", 403: "forbidden", 404: "not_found"}


def authorization_url(endpoints: Endpoints, client_id: str, redirect_uri: str, scopes, state: str) -> str:
	"""The consent URL to send the user to. `scopes` is a list or a space-separated string."""
	scope_list = scopes.split() if isinstance(scopes, str) else list(scopes)
	with _oauthlib_environment(endpoints.authorize_url):
		session = OAuth2Session(client_id, redirect_uri=redirect_uri, scope=scope_list, state=state)
		url, _state = session.authorization_url(endpoints.authorize_url)
	return url


def exchange_code(
	endpoints: Endpoints,
	client_id: str,
	client_secret: str,
	code: str,
	redirect_uri: str,
	timeout=DEFAULT_TIMEOUT,
) -> TokenSet:
	"""Swap the single-use authorization code for a token set."""
	session = OAuth2Session(client_id, redirect_uri=redirect_uri)
	session.register_compliance_hook("access_token_response", _raise_for_token_error)
	with _oauthlib_environment(endpoints.token_url), _as_oauth_errors():
		token = session.fetch_token(
			endpoints.token_url,
			code=code,
			auth=HTTPBasicAuth(client_id, client_secret),
			timeout=timeout,
		)
	return TokenSet.from_response(token)


def refresh_tokens(
	endpoints: Endpoints, client_id: str, client_secret: str, refresh_token: str, timeout=DEFAULT_TIMEOUT
) -> TokenSet:
	"""A new token set; the returned refresh token replaces the old one. A dead token → OAuthError invalid_grant."""
	session = OAuth2Session(client_id, token={"access_token": "", "token_type": "Bearer"})
	session.register_compliance_hook("refresh_token_response", _raise_for_token_error)
	with _oauthlib_environment(endpoints.token_url), _as_oauth_errors():
		token = session.refresh_token(
			endpoints.token_url,
			refresh_token=refresh_token,
			auth=HTTPBasicAuth(client_id, client_secret),
			timeout=timeout,
		)
	return TokenSet.from_response(token)


def revoke_token(
	endpoints: Endpoints, client_id: str, client_secret: str, refresh_token: str, timeout=DEFAULT_TIMEOUT
) -> None:
	"""Revoke the grant: every tenant it connected is disconnected, and its access tokens stop working."""
	_check_transport(endpoints.revocation_url)
	with _as_oauth_errors():
		response = requests.post(
			endpoints.revocation_url,
			data={"token": refresh_token},
			auth=HTTPBasicAuth(client_id, client_secret),
			timeout=timeout,
		)
	if response.status_code != 200:
		raise OAuthError.from_response(response)


def list_connections(
	endpoints: Endpoints, access_token: str, auth_event_id: str | None = None, timeout=DEFAULT_TIMEOUT
) -> list[dict]:
	"""Tenants this token reaches: `id` (the connection, for delete_connection), `tenantId`, `tenantName`, ..."""
	params = {"authEventId": auth_event_id} if auth_event_id else None
	response = _identity_request(
		"GET", endpoints.connections_url, access_token, params=params, timeout=timeout
	)
	return loads(response.content)


def delete_connection(
	endpoints: Endpoints, access_token: str, connection_id: str, timeout=DEFAULT_TIMEOUT
) -> None:
	"""Disconnect one tenant. `connection_id` is the connection's `id`, not its tenantId; call before revoking."""
	url = f"{endpoints.connections_url}/{connection_id}"
	_identity_request("DELETE", url, access_token, timeout=timeout)


def _identity_request(method, url, access_token, params=None, timeout=DEFAULT_TIMEOUT) -> requests.Response:
	_check_transport(url)
	headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
	with _as_oauth_errors():
		response = requests.request(method, url, headers=headers, params=params, timeout=timeout)
	if response.status_code >= 400:
		raise OAuthError.from_response(response)
	return response


def _raise_for_token_error(response: requests.Response) -> requests.Response:
	# oauthlib would guess the error from the body alone; we keep the real HTTP status.
	if response.status_code != 200:
		raise OAuthError.from_response(response)
	return response


@contextmanager
def _as_oauth_errors():
	try:
		yield
	except OAuth2Error as exc:
		raise OAuthError(exc.error or "invalid_request", exc.description or "", exc.status_code) from exc
	except requests.RequestException as exc:
		raise OAuthError("network_error", str(exc)) from exc


def is_loopback_http(url: str) -> bool:
	parts = urlsplit(url)
	if parts.scheme != "http" or not parts.hostname:
		return False
	if parts.hostname == "localhost":
		return True
	try:
		return ipaddress.ip_address(parts.hostname).is_loopback
	except ValueError:
		return False


def _check_transport(url: str) -> None:
	if not (url.lower().startswith("https://") or is_loopback_http(url)):
		raise OAuthError("insecure_transport", f"{url} is neither https nor plain http on loopback")


_environ_lock = threading.Lock()
_environ_users: dict[str, int] = {}
_environ_saved: dict[str, str | None] = {}


@contextmanager
def _oauthlib_environment(url: str):
	"""oauthlib reads its switches from os.environ: set them only around our own calls.

	RELAX_TOKEN_SCOPE because Xero's scopes are cumulative and may exceed what we asked for; INSECURE_TRANSPORT
	only for a loopback http sandbox. Reference-counted so concurrent threads neither clobber nor leak them; any
	other http URL was refused above, so the brief window cannot let a real plain-http call through.
	"""
	_check_transport(url)
	names = ["OAUTHLIB_RELAX_TOKEN_SCOPE"] + (
		["OAUTHLIB_INSECURE_TRANSPORT"] if is_loopback_http(url) else []
	)
	with _environ_lock:
		for name in names:
			if not _environ_users.get(name):
				_environ_saved[name] = os.environ.get(name)
				os.environ[name] = "1"
			_environ_users[name] = _environ_users.get(name, 0) + 1
	try:
		yield
	finally:
		with _environ_lock:
			for name in names:
				_environ_users[name] -= 1
				if not _environ_users[name]:
					saved = _environ_saved.pop(name)
					if saved is None:
						os.environ.pop(name, None)
					else:
						os.environ[name] = saved
