"""The consent flow: Connect to Xero (the authorize URL with a single-use state bound to the user's session),
Xero's callback (the token set and the organisations stored), and Disconnect (organisations removed from the Xero
app, the token set revoked and forgotten)."""

import json
import secrets

import frappe
from frappe import _
from frappe.utils import get_url
from frappe.utils.password import get_decrypted_password, remove_encrypted_password

from xero_sales_orders.exceptions import OAuthStateError, throw
from xero_sales_orders.services.db import autonomous_transaction
from xero_sales_orders.services.organisation_profile import profile_values
from xero_sales_orders.services.xero_clients import shared_rate_limiter
from xero_sales_orders.services.xero_endpoints import CONNECTION, endpoints
from xero_sales_orders.services.xero_tokens import get_access_token, store_tokens
from xero_sales_orders.xero import oauth
from xero_sales_orders.xero.client import XeroClient

STATE_TTL_SECONDS = 600
CALLBACK_METHOD = "xero_sales_orders.api.connection.callback"


def redirect_uri() -> str:
	return f"{get_url()}/api/method/{CALLBACK_METHOD}"


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
	exactly one gets the record. Frappe's cache API (v15) has no atomic read-and-delete (``get_value`` then
	``delete_value`` would let both callbacks read it), so its Redis client is used directly, on a key made
	by ``frappe.cache.make_key``."""
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
			if org:  # the seller block of order confirmations: legal name, address, tax number
				row.update(profile_values(org))
		if conn.tenants and not any(t.is_default for t in conn.tenants):
			conn.tenants[0].is_default = 1
		conn.status = "Connected"
		conn.last_error = None
		conn.auth_event_id = (tenants[0].get("authEventId") if tenants else None) or conn.auth_event_id
		conn.flags.ignore_permissions = True
		conn.save()
		store_tokens(conn.name, tokens)  # after the save, which writes every column of the row it loaded
	return name


def _organisation(conn, tenant_id: str, access_token: str) -> dict:
	"""Base currency and short code of a newly consented organisation (one call; best effort). Within the
	organisation's shared rate limits like every other call: uncounted, it made a 100,000-invoice import
	preview right after a consent and sync send Xero a 61st call in a minute (a 429 and a call more)."""
	client = XeroClient(
		endpoints(conn),
		tenant_id,
		lambda force: access_token,
		max_retries=1,
		rate_limiter=shared_rate_limiter(),
	)
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
		for field in ("access_token", "refresh_token"):  # the client secret stays
			remove_encrypted_password(CONNECTION, name, field)
		conn.set("tenants", [])
		conn.status = "Not Connected"
		conn.token_expires_at = conn.refresh_token_issued_at = None
		conn.access_token = conn.refresh_token = None
		conn.last_error = _("Disconnected; Xero said: {0}").format("; ".join(problems)) if problems else None
		conn.flags.ignore_permissions = True
		conn.save()
