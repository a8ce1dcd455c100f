"""Tracking options, currencies and branding themes of each Xero organisation, synced as whole lists.

Xero has no If-Modified-Since for ``/TrackingCategories``, ``/Currencies`` or ``/BrandingThemes``: each is one
call that answers the organisation's whole list (tracking with ``includeArchived=true``, so that archiving an
option reaches the local copy). What Xero no longer lists (a deleted option, a deleted theme) stays here,
marked DELETED, so that the orders and invoices linking it keep their link and nothing new can pick it. A sync
picks Xero's default branding theme for an organisation that has none chosen yet, and tells the connection's
timeline when the organisation's chosen theme was deleted in Xero (its invoices then go out with the contact's
theme, if any, or with Xero's default).
"""

import frappe
from frappe import _

from xero_sales_orders.core.branding import default_theme_id
from xero_sales_orders.core.errors import PaymentTermsError
from xero_sales_orders.core.payment_terms import DAYS_AFTER_BILL_DATE, check_terms
from xero_sales_orders.core.tracking import flatten_categories
from xero_sales_orders.exceptions import throw
from xero_sales_orders.services.xero_endpoints import CONNECTION

LISTED_KINDS = ("tracking_options", "currencies", "branding_themes")
DELETED = "DELETED"
TENANT = "Xero Connection Tenant"


def fetch(client, kind: str) -> list[dict]:
	"""One Xero call: the organisation's whole list of this kind, as the records the master's fields read."""
	if kind == "tracking_options":
		return flatten_categories(client.tracking_categories(include_archived=True))
	if kind == "currencies":
		return client.currencies()
	return client.branding_themes()


def after_listed_sync(kind: str, doctype: str, key: str, connection: str, tenant, rows, records) -> dict:
	"""What a whole list tells beyond its rows: the local records it no longer holds are DELETED; for
	branding themes, the organisation's default is picked when none is chosen and a deleted choice is told.
	Returns what the sync summary adds (``deleted``, ``organisation_theme``, ``organisation_theme_deleted``)."""
	listed = [row[key] for row in rows]
	filters = {"connection": connection, "tenant_id": tenant.tenant_id, "status": ["!=", DELETED]}
	if listed:
		filters[key] = ["not in", listed]
	gone = frappe.get_all(doctype, filters, pluck="name")
	if gone:
		values = {"status": DELETED, **({"is_active": 0} if kind == "tracking_options" else {})}
		frappe.db.set_value(doctype, {"name": ["in", gone]}, values, update_modified=False)
	summary = {"deleted": len(gone)} if gone else {}
	if kind == "branding_themes":
		summary.update(_organisation_theme(connection, tenant, records, gone))
	return summary


def _organisation_theme(connection: str, tenant, records, gone: list[str]) -> dict:
	chosen = frappe.db.get_value(TENANT, tenant.name, "branding_theme")
	if chosen and chosen in gone:
		name = frappe.db.get_value("Xero Branding Theme", chosen, "theme_name") or chosen
		frappe.get_doc(CONNECTION, connection).add_comment(
			"Info",
			_(
				"Branding theme {0} of {1} was deleted in Xero: its invoices go out with the contact's own "
				"theme, else with Xero's default, until another theme is picked for it"
			).format(frappe.bold(name), frappe.bold(tenant.tenant_name or tenant.tenant_id)),
		)
		return {"organisation_theme_deleted": chosen}
	if not chosen:
		default = default_theme_id(records)
		if default:
			frappe.db.set_value(TENANT, tenant.name, "branding_theme", default, update_modified=False)
			tenant.branding_theme = default
			return {"organisation_theme": default}
	return {}


def theme_statuses(names) -> dict[str, str]:
	"""The local status (ACTIVE, DELETED) of each of these branding themes that is known here."""
	names = [n for n in dict.fromkeys(names) if n]
	if not names:
		return {}
	return dict(
		frappe.get_all("Xero Branding Theme", {"name": ["in", names]}, ["name", "status"], as_list=True)
	)


def enabled_currencies(connection: str | None, tenant_id: str | None) -> list[str]:
	"""The currencies the organisation has enabled in Xero, as last synced (empty when never synced)."""
	if not connection or not tenant_id:
		return []
	return frappe.get_all(
		"Xero Currency",
		{"connection": connection, "tenant_id": tenant_id, "status": ["!=", DELETED]},
		pluck="currency_code",
		order_by="currency_code asc",
	)


def organisation_row(connection: str | None, tenant_id: str | None):
	"""The organisation's settings row on its connection (base currency, defaults), or None."""
	if not connection or not tenant_id:
		return None
	return frappe.db.get_value(
		TENANT,
		{"parent": connection, "parenttype": CONNECTION, "tenant_id": tenant_id},
		["name", "tenant_name", "base_currency", "branding_theme", "due_days", "due_date_type"],
		as_dict=True,
	)


def validate_tenant_defaults(connection) -> None:
	"""An organisation's branding theme must be one of its own synced themes that Xero still has (when it
	changes), and its default due-date terms must be terms Xero takes."""
	before = connection.get_doc_before_save()
	old = {t.name: t.branding_theme for t in (before.tenants if before else [])}
	for tenant in connection.tenants:
		label = tenant.tenant_name or tenant.tenant_id
		try:
			check_terms(
				30 if tenant.due_days in (None, "") else tenant.due_days,
				tenant.due_date_type or DAYS_AFTER_BILL_DATE,
			)
		except PaymentTermsError as e:
			throw(_("{0}: {1}").format(label, e), frappe.ValidationError, title=_("Due date terms"))
		if not tenant.branding_theme or tenant.branding_theme == old.get(tenant.name):
			continue
		theme = frappe.db.get_value(
			"Xero Branding Theme",
			tenant.branding_theme,
			["connection", "tenant_id", "status", "theme_name"],
			as_dict=True,
		)
		if not theme or (theme.connection, theme.tenant_id) != (connection.name, tenant.tenant_id):
			throw(
				_(
					"{0}: branding theme {1} is not one of this organisation's themes in Xero; sync and pick one"
				).format(label, tenant.branding_theme),
				frappe.ValidationError,
				title=_("Branding theme"),
			)
		if theme.status == DELETED:
			throw(
				_("{0}: branding theme {1} was deleted in Xero").format(label, theme.theme_name),
				frappe.ValidationError,
				title=_("Branding theme"),
			)
