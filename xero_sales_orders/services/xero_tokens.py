"""Token rotation: a valid access token for a connection, refreshed safely when Xero rotates the refresh token.

One consent (one token set) serves every organisation it covers. Refresh tokens rotate, so a refresh takes a row
lock on the connection in its own transaction: a worker that waited finds the token the other one stored and uses
it instead of spending the old refresh token (which Xero would refuse after its grace window, or worse, which would
overwrite the newer token). A consent Xero no longer honours is marked Needs Reconnect and the System Managers are
told; the daily keep-alive refreshes every consent long before Xero's 60-day idle expiry.
"""

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import frappe
from frappe import _
from frappe.utils import get_datetime, get_system_timezone, now_datetime
from frappe.utils.password import get_decrypted_password, set_encrypted_password

from xero_sales_orders.exceptions import (
	NeedsReconnectError,
	NotConnectedError,
	XeroUnreachableError,
	throw,
)
from xero_sales_orders.services.db import autonomous_transaction
from xero_sales_orders.services.notifications import notify_system_managers
from xero_sales_orders.services.xero_endpoints import CONNECTION, endpoints
from xero_sales_orders.xero import oauth

# Refresh this long before the access token expires, so that a call never starts with a token about to die.
REFRESH_MARGIN_SECONDS = 120


def _epoch_to_system_time(epoch: float) -> datetime:
	"""The connection's health fields are shown to people, so they are kept in the site's time zone."""
	return datetime.fromtimestamp(epoch, ZoneInfo(get_system_timezone())).replace(tzinfo=None)


def _system_time_to_epoch(value) -> float:
	if not value:
		return 0.0
	return get_datetime(value).replace(tzinfo=ZoneInfo(get_system_timezone())).timestamp()


def store_tokens(name: str, tokens: oauth.TokenSet) -> None:
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
	ensure_usable(name, row.status)
	if (
		not force_refresh
		and _system_time_to_epoch(row.token_expires_at) - time.time() > REFRESH_MARGIN_SECONDS
	):
		token = _stored_access_token(name)
		if token:
			return token
	return refresh(name, force=force_refresh, rejected_token=rejected_token)


def ensure_usable(name: str, status: str) -> None:
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
		ensure_usable(name, row.status)
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
		store_tokens(name, tokens)
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
	notify_system_managers(message, CONNECTION, name)


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
