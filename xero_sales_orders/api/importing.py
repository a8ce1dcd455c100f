"""Whitelisted bulk import of Xero invoices: preview (dry run), start (background import), groups (paged preview)."""

import frappe
from frappe import _
from frappe.utils import cint

from xero_sales_orders.api.xero_answers import xero_answers
from xero_sales_orders.exceptions import throw
from xero_sales_orders.permissions import require_permission
from xero_sales_orders.services import import_runner
from xero_sales_orders.services.import_files import preview_rows
from xero_sales_orders.services.import_settings import BATCH

VIEWS = ("all", "importable", "flagged", "conflicts", "skipped")


def _check(batch) -> str:
	require_permission(BATCH, "write", action=_("import Xero invoices"))
	if not isinstance(batch, str) or not frappe.db.exists(BATCH, batch):
		throw(_("Xero Import Batch {0} not found").format(batch), frappe.DoesNotExistError)
	frappe.has_permission(BATCH, "write", batch, throw=True)
	return batch


@frappe.whitelist(methods=["POST"])
def preview(batch):
	"""Dry run: fetches the batch's invoices from Xero and proposes one order per group; returns the summary."""
	batch = _check(batch)
	with xero_answers():
		return import_runner.preview(batch)


@frappe.whitelist(methods=["POST"])
def start(batch):
	"""Queues the import of a previewed batch; progress is published to the batch form."""
	batch = _check(batch)
	with xero_answers():
		return import_runner.start(batch)


@frappe.whitelist()
def groups(batch, view="all", search=None, start=0, page_length=50):
	"""One page of the preview: proposed orders with their flags, invoices and lines."""
	require_permission(BATCH, "read", action=_("see Xero imports"))
	if not isinstance(batch, str) or not frappe.db.exists(BATCH, batch):
		throw(_("Xero Import Batch {0} not found").format(batch), frappe.DoesNotExistError)
	frappe.has_permission(BATCH, "read", batch, throw=True)
	if view not in VIEWS:
		throw(_("view must be one of {0}").format(", ".join(VIEWS)), frappe.ValidationError)
	start, page_length = max(cint(start), 0), min(max(cint(page_length), 1), 500)
	rows = preview_rows(batch)
	wanted = {
		"all": lambda r: True,
		"importable": lambda r: r["importable"],
		"flagged": lambda r: bool(r["flags"]),
		"conflicts": lambda r: r["conflict"],
		"skipped": lambda r: not r["importable"],
	}[view]
	needle = (search or "").strip().casefold()
	matching = [
		r
		for r in rows
		if wanted(r)
		and (
			not needle
			or needle in r["key"].casefold()
			or needle in r["contact"].casefold()
			or any(needle in i["number"].casefold() for i in r["invoices"])
		)
	]
	return {"total": len(matching), "start": start, "rows": matching[start : start + page_length]}
