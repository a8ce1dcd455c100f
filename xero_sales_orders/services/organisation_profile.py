"""The organisation's own details from Xero's ``/Organisation`` (legal name, address, tax number), kept on the
connection's tenant row for the order confirmation's seller block: stored at the consent (which fetches the
organisation anyway) and refreshed by the sync at most once a day (one call)."""

from datetime import timedelta

import frappe
from frappe.utils import now_datetime

from xero_sales_orders.core.master_fields import organisation_fields

TENANT = "Xero Connection Tenant"
MAX_AGE = timedelta(days=1)


def profile_values(organisation: dict) -> dict:
	"""The tenant row's columns for Xero's organisation record."""
	return {**organisation_fields(organisation), "organisation_synced_at": now_datetime()}


def refresh_if_stale(tenant, client) -> bool:
	"""Fetches and stores the organisation when the tenant row's copy is missing or a day old."""
	synced = tenant.get("organisation_synced_at")
	if synced and now_datetime() - synced < MAX_AGE:
		return False
	values = profile_values(client.organisation())
	frappe.db.set_value(TENANT, tenant.name, values, update_modified=False)
	tenant.update(values)
	return True


def seller(connection: str | None, tenant_id: str | None) -> dict:
	"""What the order confirmation prints of the organisation an order is raised in (empty when unknown)."""
	if not connection or not tenant_id:
		return {}
	row = frappe.db.get_value(
		TENANT,
		{"parent": connection, "tenant_id": tenant_id},
		["tenant_name", "legal_name", "organisation_address", "tax_number"],
		as_dict=True,
	)
	if not row:
		return {}
	return {
		"name": row.legal_name or row.tenant_name,
		"trading_name": row.tenant_name if row.legal_name and row.legal_name != row.tenant_name else None,
		"address": row.organisation_address,
		"tax_number": row.tax_number,
	}
