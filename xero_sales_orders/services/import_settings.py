"""A batch's settings: its doctype and statuses, and the filters and grouping a preview works from, checked
and normalised (the Xero Import Batch's validate calls ``validate_settings``)."""

import re

import frappe
from frappe import _
from frappe.utils import getdate

from xero_sales_orders.core.errors import ImportRuleError
from xero_sales_orders.core.import_grouping import GROUP_BY_PATTERN, GROUPINGS, compile_po_pattern
from xero_sales_orders.core.order_status import INVOICE_STATUSES
from xero_sales_orders.exceptions import ImportSettingsError, throw
from xero_sales_orders.services.xero_clients import default_tenant
from xero_sales_orders.services.xero_endpoints import CONNECTION

BATCH = "Xero Import Batch"
# A batch's statuses: written only by the preview and the import (import_runner, import_preview).
DRAFT, PREVIEWING, PREVIEWED = "Draft", "Previewing", "Previewed"
IMPORTING, COMPLETED, STOPPED, FAILED = "Importing", "Completed", "Stopped", "Failed"
# The fields a preview depends on: changing one makes the batch Draft again.
SETTINGS = (
	"connection",
	"tenant_id",
	"from_date",
	"to_date",
	"statuses",
	"contacts",
	"grouping",
	"po_pattern",
	"voided_as_demand",
	"source",
)
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def validate_settings(batch) -> None:
	"""Normalises and checks the batch's filters and grouping (called by the doctype's validate)."""
	if not batch.from_date or not batch.to_date:
		throw(_("Give a date range: both From Date and To Date"), ImportSettingsError)
	if getdate(batch.from_date) > getdate(batch.to_date):
		throw(
			_("The date range is empty: From Date {0} is after To Date {1}").format(
				batch.from_date, batch.to_date
			),
			ImportSettingsError,
		)
	statuses = [s.strip().upper() for s in (batch.statuses or "").replace("\n", ",").split(",") if s.strip()]
	unknown = [s for s in statuses if s not in INVOICE_STATUSES]
	if unknown or not statuses:
		throw(
			_("Xero Statuses must be a comma-separated list of {0}; {1} is not").format(
				", ".join(INVOICE_STATUSES), ", ".join(unknown) or _("an empty list")
			),
			ImportSettingsError,
		)
	batch.statuses = ",".join(dict.fromkeys(statuses))
	if batch.grouping not in GROUPINGS:
		throw(_("Group By must be one of {0}").format(", ".join(GROUPINGS)), ImportSettingsError)
	if batch.grouping == GROUP_BY_PATTERN:
		try:
			compile_po_pattern(batch.po_pattern)
		except ImportRuleError as e:
			throw(str(e), ImportSettingsError, title=_("Invalid PO pattern"))
	if batch.connection:
		conn = frappe.get_doc(CONNECTION, batch.connection)
		tenants = {t.tenant_id for t in conn.tenants}
		if batch.tenant_id and batch.tenant_id not in tenants:
			throw(
				_("Organisation {0} is not part of Xero Connection {1}").format(batch.tenant_id, conn.name),
				ImportSettingsError,
			)
		if not batch.tenant_id and conn.tenants:
			batch.tenant_id = default_tenant(conn)
	contact_ids(batch)


def contact_ids(batch) -> list[str]:
	"""The batch's contact filter as Xero ContactIDs; entries may be local contact names or ContactIDs."""
	entries = [e.strip() for e in re.split(r"[\n,]", batch.contacts or "") if e.strip()]
	ids = []
	for entry in entries:
		if GUID.match(entry):
			# A synced contact of another organisation (picked before the organisation was changed) would
			# quietly match nothing in this one.
			held = frappe.db.get_value(
				"Xero Contact", entry.lower(), ["contact_name", "connection", "tenant_id"]
			)
			if held and (held[1], held[2]) != (batch.connection, batch.tenant_id):
				throw(
					_("Contact {0} belongs to another Xero organisation than this batch's").format(held[0]),
					ImportSettingsError,
				)
			ids.append(entry.lower())
			continue
		found = frappe.get_all(
			"Xero Contact",
			{"contact_name": entry, "connection": batch.connection, "tenant_id": batch.tenant_id},
			pluck="contact_id",
			limit=2,
		)
		if len(found) != 1:
			throw(
				_("Contact {0!r} is {1} in the synced Xero contacts; give its ContactID").format(
					entry, _("not found") if not found else _("ambiguous")
				),
				ImportSettingsError,
			)
		ids.append(found[0])
	return list(dict.fromkeys(ids))


def settings_changed(batch) -> bool:
	before = batch.get_doc_before_save()
	return bool(before) and any(str(before.get(f) or "") != str(batch.get(f) or "") for f in SETTINGS)
