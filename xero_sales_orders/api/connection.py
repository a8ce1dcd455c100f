"""Whitelisted Xero Connection actions: each needs write on the Xero Connection (System Managers only), its
health read; the OAuth callback is reachable by the browser Xero redirects, and refuses any state that this
user's session did not start."""

from urllib.parse import quote

import frappe
from frappe import _

from xero_sales_orders.api.xero_answers import xero_answers
from xero_sales_orders.exceptions import throw
from xero_sales_orders.permissions import require_permission
from xero_sales_orders.services import (
	connection_health,
	master_sync,
	xero_consent,
	xero_endpoints,
	xero_tokens,
)


def _check(connection, action: str, ptype: str = "write"):
	# The doctype's right first, so that nobody without it learns which connections exist.
	require_permission(xero_endpoints.CONNECTION, ptype, action=action)
	if not isinstance(connection, str) or not frappe.db.exists(xero_endpoints.CONNECTION, connection):
		throw(_("Xero Connection {0} not found").format(connection), frappe.DoesNotExistError)
	require_permission(xero_endpoints.CONNECTION, ptype, connection, action)


@frappe.whitelist(methods=["POST"])
def authorize(connection):
	"""Returns ``{"url": ...}``: Xero's authorize page with a fresh single-use state."""
	_check(connection, _("connect to Xero"))
	return {"url": xero_consent.start_authorization(connection)}


@frappe.whitelist(allow_guest=True, methods=["GET"])
def callback(code=None, state=None, error=None, error_description=None, **kwargs):
	"""Where Xero sends the browser back; finishes the consent and opens the connection form."""
	try:
		name = xero_consent.complete_authorization(code, state, error, error_description)
	except frappe.ValidationError as e:
		frappe.db.rollback()
		frappe.respond_as_web_page(
			_("Xero connection failed"),
			frappe.utils.escape_html(str(e)),
			http_status_code=getattr(e, "http_status_code", 400),
			indicator_color="red",
		)
		return
	frappe.db.commit()
	frappe.local.response["type"] = "redirect"
	frappe.local.response["location"] = f"/app/xero-connection/{quote(name)}"


@frappe.whitelist(methods=["POST"])
def refresh(connection):
	"""Refreshes the token set now (under the connection's row lock) and returns the connection's health."""
	_check(connection, _("refresh Xero tokens"))
	with xero_answers():
		xero_tokens.refresh(connection, force=True)
	return connection_health.health(connection)


@frappe.whitelist(methods=["POST"])
def disconnect(connection):
	"""Removes the organisations from the Xero app, revokes the tokens and forgets them."""
	_check(connection, _("disconnect from Xero"))
	with xero_answers():
		xero_consent.disconnect(connection)
	return connection_health.health(connection)


@frappe.whitelist(methods=["POST"])
def sync(connection, full=0):
	"""Pulls contacts, items, tax rates and accounts (incrementally unless ``full``); returns the counts."""
	_check(connection, _("sync from Xero"))
	with xero_answers():
		return master_sync.sync_connection(connection, full=frappe.utils.cint(full))


@frappe.whitelist()
def health(connection):
	_check(connection, _("see the Xero connection"), "read")
	return connection_health.health(connection)
