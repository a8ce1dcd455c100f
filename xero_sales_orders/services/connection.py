"""Xero Connections inside Frappe: the consent flow, rotation-safe token refresh, and clients.

One consent (one token set) serves every organisation it covers. Refresh tokens rotate, so a refresh
takes a row lock on the connection in its own transaction: a worker that waited finds the token the
other one stored and uses it instead of spending the old refresh token (which Xero would refuse
after its grace window, or worse, which would overwrite the newer token).
"""

import json
import secrets
import time
from datetime import datetime, timezone
from functools import lru_cache
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import frappe
from frappe import _
from frappe.utils import get_datetime, get_system_timezone, get_url, now_datetime
from frappe.utils.password import get_decrypted_password, set_encrypted_password

from xero_sales_orders.exceptions import XeroUnreachableError, throw
from xero_sales_orders.services.db import autonomous_transaction
from xero_sales_orders.xero import oauth
from xero_sales_orders.xero.client import XeroClient
from xero_sales_orders.xero.ratelimit import RateLimiter

CONNECTION = "Xero Connection"
# Refresh this long before the access token expires, so that a call never starts with a token about to die.
REFRESH_MARGIN_SECONDS = 120
STATE_TTL_SECONDS = 600
CALLBACK_METHOD = "xero_sales_orders.api.connection.callback"


class NeedsReconnectError(frappe.ValidationError):
	"""The consent is gone (refresh token expired, rotated away or revoked): an admin must reconnect."""

	http_status_code = 409


class NotConnectedError(frappe.ValidationError):
	http_status_code = 409


class OAuthStateError(frappe.ValidationError):
	"""Unknown, expired, replayed or foreign OAuth state."""

	http_status_code = 400


def redirect_uri() -> str:
	return f"{get_url()}/api/method/{CALLBACK_METHOD}"


def endpoints(conn) -> oauth.Endpoints:
	return oauth.Endpoints(
		login_url=conn.login_url.rstrip("/"),
		identity_url=conn.identity_url.rstrip("/"),
		api_url=conn.api_url.rstrip("/"),
	)


def uses_plain_http(conn) -> bool:
	return any(urlparse(url).scheme == "http" for url in (conn.login_url, conn.identity_url, conn.api_url))


def utc_now_naive() -> datetime:
	return datetime.now(timezone.utc).replace(tzinfo=None)


def _epoch_to_system_time(epoch: float) -> datetime:
	"""The connection's health fields are shown to people, so they are kept in the site's time zone."""
	return datetime.fromtimestamp(epoch, ZoneInfo(get_system_timezone())).replace(tzinfo=None)


def _system_time_to_epoch(value) -> float:
	if not value:
		return 0.0
	return get_datetime(value).replace(tzinfo=ZoneInfo(get_system_timezone())).timestamp()


# ---------------------------------------------------------------- consent


def _state_key(state: str) -> str:
	return f"xso:oauth-state:{state}"


def start_authorization(connection: str) -> str:
	"""The Xero authorize URL for ``connection`` with a fresh single-use state bound to this user's session.

	The state's record is plain JSON under a key of its own (not Frappe's pickled cache values), so that the
	callback can read and delete it in one step with commands every Redis has (see ``_claim_state``).
	"""
	conn = frappe.get_doc(CONNECTION, connection)
	state = secrets.token_urlsafe(32)
	record = {"connection": conn.name, "user": frappe.session.user, "sid": frappe.session.sid}
	frappe.cache.set(
		frappe.cache.make_key(_state_key(state)), json.dumps(record).encode(), ex=STATE_TTL_SECONDS
	)
	return oauth.authorization_url(
		endpoints(conn), conn.client_id, redirect_uri(), (conn.scopes or "").split(), state
	)


def _claim_state(state: str | None) -> dict:
	"""Returns the state's record once; a second claim, an unknown state or another user's state fails."""
	if not state or not isinstance(state, str) or len(state) > 200:
		throw(_("The Xero answer carries no valid state; start again with Connect to Xero"), OAuthStateError)
	record = _take_state_record(state)
	if not record:
		throw(
			_(
				"This Xero sign-in link is unknown, expired or was already used; start again with Connect to Xero"
			),
			OAuthStateError,
		)
	if record.get("user") != frappe.session.user:
		throw(
			_("This Xero sign-in was started by another user; start again with Connect to Xero"),
			OAuthStateError,
		)
	return record


def _take_state_record(state: str) -> dict | None:
	"""Reads and deletes the state's record atomically: GET and DEL in one MULTI/EXEC transaction, which every
	Redis version runs without interleaving (GETDEL needs Redis 6.2). Of two callbacks with the same state,
	exactly one gets the record."""
	pipe = frappe.cache.pipeline(transaction=True)
	key = frappe.cache.make_key(_state_key(state))
	pipe.get(key)
	pipe.delete(key)
	raw, _deleted = pipe.execute()
	if not raw:
		return None
	try:
		record = json.loads(raw)
	except ValueError:
		return None
	return record if isinstance(record, dict) else None


def complete_authorization(code=None, state=None, error=None, error_description=None) -> str:
	"""Finishes the consent: stores the token set and the organisations. Returns the connection's name."""
	record = _claim_state(state)
	name = record["connection"]
	if error or not code:
		message = _("Xero did not grant access: {0}").format(
			error_description or error or _("no code returned")
		)
		_record_error(name, message, status=None)
		throw(message, frappe.ValidationError)
	conn = frappe.get_doc(CONNECTION, name)
	try:
		tokens = oauth.exchange_code(
			endpoints(conn), conn.client_id, conn.get_password("client_secret"), code, redirect_uri()
		)
		tenants = oauth.list_connections(endpoints(conn), tokens.access_token)
	except oauth.OAuthError as e:
		message = _("Xero refused the sign-in: {0}").format(e.description or e.error)
		# A failed re-consent leaves a working token set (and its keep-alive, sync and reconciliation, which run
		# for Connected consents) as it was: only a connection without one is marked Error.
		_record_error(name, message, status=None if _has_token_set(conn.status) else "Error")
		throw(message, frappe.ValidationError)
	organisations = {t["tenantId"]: _organisation(conn, t["tenantId"], tokens.access_token) for t in tenants}
	with autonomous_transaction():
		conn = frappe.get_doc(CONNECTION, name, for_update=True)
		previous = {t.tenant_id: t for t in conn.tenants}
		conn.set("tenants", [])
		for tenant in tenants:
			org = organisations.get(tenant["tenantId"]) or {}
			kept = previous.get(tenant["tenantId"])
			row = conn.append("tenants", kept.as_dict(no_default_fields=True) if kept else {})
			row.update(
				{
					"tenant_id": tenant["tenantId"],
					"tenant_name": tenant.get("tenantName") or org.get("Name"),
					"tenant_type": tenant.get("tenantType"),
					"xero_connection_id": tenant.get("id"),
					"base_currency": org.get("BaseCurrency"),
					"short_code": org.get("ShortCode"),
				}
			)
		if conn.tenants and not any(t.is_default for t in conn.tenants):
			conn.tenants[0].is_default = 1
		conn.status = "Connected"
		conn.last_error = None
		conn.auth_event_id = (tenants[0].get("authEventId") if tenants else None) or conn.auth_event_id
		conn.flags.ignore_permissions = True
		conn.save()
		_store_tokens(conn.name, tokens)  # after the save, which writes every column of the row it loaded
	return name


def _organisation(conn, tenant_id: str, access_token: str) -> dict:
	"""Base currency and short code of a newly consented organisation (one call; best effort)."""
	client = XeroClient(endpoints(conn), tenant_id, lambda force: access_token, max_retries=1)
	try:
		return client.organisation()
	except Exception:
		return {}
	finally:
		client.close()


def _has_token_set(status: str | None) -> bool:
	"""Whether a connection in this status holds a token set of an earlier consent (dead or alive)."""
	return status in ("Connected", "Needs Reconnect")


def _record_error(name: str, message: str, status: str | None) -> None:
	with autonomous_transaction():
		values = {"last_error": message}
		if status:
			values["status"] = status
		frappe.db.set_value(CONNECTION, name, values, update_modified=False)


# ---------------------------------------------------------------- tokens


def _store_tokens(name: str, tokens: oauth.TokenSet) -> None:
	"""Writes a token set in the current (autonomous) transaction."""
	set_encrypted_password(CONNECTION, name, tokens.access_token, "access_token")
	set_encrypted_password(CONNECTION, name, tokens.refresh_token, "refresh_token")
	now = now_datetime()
	frappe.db.set_value(
		CONNECTION,
		name,
		{
			"access_token": "*" * 8,
			"refresh_token": "*" * 8,
			"token_expires_at": _epoch_to_system_time(tokens.expires_at),
			"refresh_token_issued_at": now,
			"last_refresh": now,
			"granted_scopes": tokens.scope,
			"status": "Connected",
			"last_error": None,
		},
		update_modified=False,
	)


def _stored_access_token(name: str) -> str | None:
	return get_decrypted_password(CONNECTION, name, "access_token", raise_exception=False)


def get_access_token(name: str, force_refresh: bool = False, rejected_token: str | None = None) -> str:
	"""A valid access token for the connection, refreshing it first when it is near expiry."""
	row = frappe.db.get_value(CONNECTION, name, ["status", "token_expires_at"], as_dict=True)
	if not row:
		throw(_("Xero Connection {0} not found").format(name), frappe.DoesNotExistError)
	_ensure_usable(name, row.status)
	if (
		not force_refresh
		and _system_time_to_epoch(row.token_expires_at) - time.time() > REFRESH_MARGIN_SECONDS
	):
		token = _stored_access_token(name)
		if token:
			return token
	return refresh(name, force=force_refresh, rejected_token=rejected_token)


def _ensure_usable(name: str, status: str) -> None:
	if status == "Needs Reconnect":
		throw(
			_("Xero Connection {0} needs reconnecting: an administrator must click Connect to Xero").format(
				name
			),
			NeedsReconnectError,
		)
	if status == "Not Connected":
		throw(_("Xero Connection {0} is not connected to Xero yet").format(name), NotConnectedError)


def refresh(name: str, force: bool = False, rejected_token: str | None = None) -> str:
	"""Refreshes the token set under a row lock, unless a worker that held the lock already did.

	``force`` refreshes even a token that looks valid (after a 401), but not if the token stored now
	differs from ``rejected_token``: then another worker already replaced it.
	"""
	with autonomous_transaction():
		# The locking read comes first, so every later read in this transaction sees what the
		# previous holder of the lock committed.
		row = frappe.db.sql(
			"select status, token_expires_at from `tabXero Connection` where name = %s for update",
			name,
			as_dict=True,
		)
		if not row:
			throw(_("Xero Connection {0} not found").format(name), frappe.DoesNotExistError)
		row = row[0]
		_ensure_usable(name, row.status)
		current = _stored_access_token(name)
		still_valid = _system_time_to_epoch(row.token_expires_at) - time.time() > REFRESH_MARGIN_SECONDS
		replaced = rejected_token is not None and current != rejected_token
		if current and still_valid and (not force or replaced):
			return current
		conn = frappe.get_doc(CONNECTION, name)
		refresh_token = get_decrypted_password(CONNECTION, name, "refresh_token", raise_exception=False)
		if not refresh_token:
			_mark_needs_reconnect(name, _("no refresh token is stored"))
			raise_needs_reconnect(name)
		try:
			tokens = oauth.refresh_tokens(
				endpoints(conn), conn.client_id, conn.get_password("client_secret"), refresh_token
			)
		except oauth.OAuthError as e:
			if e.error == "invalid_grant":
				_mark_needs_reconnect(name, _("Xero refused the refresh token (invalid_grant)"))
				frappe.db.commit()
				raise_needs_reconnect(name)
			frappe.db.set_value(
				CONNECTION,
				name,
				{"last_error": _("Token refresh failed: {0}").format(e)},
				update_modified=False,
			)
			frappe.db.commit()
			# Xero's identity server down or unreachable is an outage (503), anything else a refusal (417).
			outage = e.status is None or e.status >= 500
			throw(
				_("Xero token refresh failed: {0}").format(e.description or e.error),
				XeroUnreachableError if outage else frappe.ValidationError,
			)
		_store_tokens(name, tokens)
		return tokens.access_token


def raise_needs_reconnect(name: str):
	throw(
		_("Xero Connection {0} needs reconnecting: an administrator must click Connect to Xero").format(name),
		NeedsReconnectError,
	)


def _mark_needs_reconnect(name: str, reason: str) -> None:
	"""Marks the consent dead and tells every System Manager (inside the caller's autonomous transaction)."""
	message = _("Xero Connection {0} needs reconnecting: {1}").format(name, reason)
	frappe.db.set_value(
		CONNECTION, name, {"status": "Needs Reconnect", "last_error": message}, update_modified=False
	)
	for user in system_managers():
		frappe.get_doc(
			{
				"doctype": "Notification Log",
				"subject": message,
				"for_user": user,
				"type": "Alert",
				"document_type": CONNECTION,
				"document_name": name,
			}
		).insert(ignore_permissions=True)


def system_managers() -> list[str]:
	has_role = frappe.qb.DocType("Has Role")
	user = frappe.qb.DocType("User")
	rows = (
		frappe.qb.from_(has_role)
		.join(user)
		.on(user.name == has_role.parent)
		.select(user.name)
		.distinct()
		.where(
			(has_role.role == "System Manager")
			& (has_role.parenttype == "User")
			& (user.enabled == 1)
			& (user.name.notin(["Administrator", "Guest"]))
		)
	).run()
	return [r[0] for r in rows] or ["Administrator"]


def keep_tokens_alive(max_age_days: int = 7) -> list[str]:
	"""Scheduled daily: refreshes every connected consent whose refresh token is older than ``max_age_days``,
	long before Xero's 60-day idle expiry."""
	refreshed = []
	cutoff = time.time() - max_age_days * 86400
	for row in frappe.get_all(CONNECTION, {"status": "Connected"}, ["name", "refresh_token_issued_at"]):
		if _system_time_to_epoch(row.refresh_token_issued_at) > cutoff:
			continue
		try:
			refresh(row.name, force=True)
			refreshed.append(row.name)
		except frappe.ValidationError:
			frappe.log_error(title=f"Xero token keep-alive failed for {row.name}")
	return refreshed


# ---------------------------------------------------------------- disconnect


def disconnect(name: str) -> None:
	"""Removes every organisation of the consent from the Xero app, revokes the token set and forgets it.

	DELETE /connections/{id} needs a live access token, so it runs before the revocation.
	"""
	conn = frappe.get_doc(CONNECTION, name)
	problems = []
	if conn.status == "Connected":
		try:
			access = get_access_token(name)
			for tenant in conn.tenants:
				if tenant.xero_connection_id:
					oauth.delete_connection(endpoints(conn), access, tenant.xero_connection_id)
			refresh_token = get_decrypted_password(CONNECTION, name, "refresh_token", raise_exception=False)
			if refresh_token:
				oauth.revoke_token(
					endpoints(conn), conn.client_id, conn.get_password("client_secret"), refresh_token
				)
		except (oauth.OAuthError, frappe.ValidationError, OSError) as e:
			problems.append(str(e))
	with autonomous_transaction():
		conn = frappe.get_doc(CONNECTION, name, for_update=True)
		for field in ("access_token", "refresh_token"):
			frappe.db.delete("__Auth", {"doctype": CONNECTION, "name": name, "fieldname": field})
		conn.set("tenants", [])
		conn.status = "Not Connected"
		conn.token_expires_at = conn.refresh_token_issued_at = None
		conn.access_token = conn.refresh_token = None
		conn.last_error = _("Disconnected; Xero said: {0}").format("; ".join(problems)) if problems else None
		conn.flags.ignore_permissions = True
		conn.save()


# ---------------------------------------------------------------- clients


@lru_cache(maxsize=1)
def _redis_for(url: str):
	import redis

	return redis.Redis.from_url(url)


def shared_rate_limiter() -> RateLimiter:
	"""Per-tenant limits shared by every web worker and background worker through the bench's Redis."""
	url = frappe.conf.redis_cache
	return RateLimiter(redis=_redis_for(url) if url else None, key_prefix=f"xso:{frappe.local.site}:rl")


def default_tenant(conn) -> str:
	for tenant in conn.tenants:
		if tenant.is_default:
			return tenant.tenant_id
	if conn.tenants:
		return conn.tenants[0].tenant_id
	throw(_("Xero Connection {0} has no organisation; connect it first").format(conn.name), NotConnectedError)


def client_for(name: str, tenant_id: str | None = None, **options) -> XeroClient:
	conn = frappe.get_doc(CONNECTION, name)
	_ensure_usable(name, conn.status)
	tenant_id = tenant_id or default_tenant(conn)
	if tenant_id not in {t.tenant_id for t in conn.tenants}:
		throw(
			_("Organisation {0} is not part of Xero Connection {1}").format(tenant_id, name),
			frappe.ValidationError,
		)
	last_token = {}

	def access_token(force_refresh: bool) -> str:
		token = get_access_token(
			name, force_refresh, rejected_token=last_token.get("value") if force_refresh else None
		)
		last_token["value"] = token
		return token

	def remember_figures(figures: dict) -> None:
		frappe.cache.set_value(
			f"xso:rate-figures:{name}",
			{**figures, "at": now_datetime().isoformat(sep=" ", timespec="seconds")},
		)

	return XeroClient(
		endpoints(conn),
		tenant_id,
		access_token,
		rate_limiter=shared_rate_limiter(),
		on_rate_figures=remember_figures,
		**options,
	)


def health(name: str) -> dict:
	conn = frappe.get_doc(CONNECTION, name)
	figures = frappe.cache.get_value(f"xso:rate-figures:{name}") or {}
	return {
		"status": conn.status,
		"token_expires_at": conn.token_expires_at,
		"refresh_token_issued_at": conn.refresh_token_issued_at,
		"last_refresh": conn.last_refresh,
		"last_sync": conn.last_sync,
		"last_error": conn.last_error,
		"rate_figures": figures,
		"webhooks": webhook_health(name),
		"organisations": [
			{"tenant_id": t.tenant_id, "name": t.tenant_name, "is_default": t.is_default}
			for t in conn.tenants
		],
	}


def webhook_health(name: str) -> dict:
	"""When Xero last reached us for this connection, and what is waiting or failed."""
	counts = dict(
		frappe.get_all(
			"Xero Webhook Event",
			filters={"connection": name},
			fields=["status", "count(*) as n"],
			group_by="status",
			as_list=True,
		)
	)
	return {
		"last_received": frappe.db.get_value("Xero Webhook Event", {"connection": name}, "max(creation)"),
		"queued": counts.get("Queued", 0),
		"failed": counts.get("Failed", 0),
		"processed": counts.get("Processed", 0),
	}
