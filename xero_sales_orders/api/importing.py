"""Whitelisted bulk import of Xero invoices: preview (queues the dry run), start (queues the import), stop,
groups (one page of the stored preview)."""

import frappe
from frappe import _
from frappe.utils import cint

from xero_sales_orders.api.xero_answers import xero_answers
from xero_sales_orders.exceptions import throw
from xero_sales_orders.permissions import require_permission
from xero_sales_orders.services import import_groups, import_runner, quote_import
from xero_sales_orders.services.import_groups import VIEWS
from xero_sales_orders.services.import_settings import BATCH


def _check(batch, ptype: str = "write") -> str:
	if ptype == "write":
		require_permission(BATCH, "write", action=_("import Xero invoices"))
	else:
		require_permission(BATCH, "read", action=_("see Xero imports"))
	if not isinstance(batch, str) or not frappe.db.exists(BATCH, batch):
		throw(_("Xero Import Batch {0} not found").format(batch), frappe.DoesNotExistError)
	frappe.has_permission(BATCH, ptype, batch, throw=True)
	return batch


@frappe.whitelist(methods=["POST"])
def preview(batch):
	"""Queues the dry run that fetches the batch's invoices from Xero and proposes one order per group (or
	resumes one that stopped); the batch's status and figures show its progress."""
	batch = _check(batch)
	with xero_answers():
		if quote_import.is_quote_batch(batch):  # Source: Quotes (services/quote_import.py)
			return quote_import.preview(batch)
		return import_runner.preview(batch)


@frappe.whitelist(methods=["POST"])
def start(batch):
	"""Queues the import of a previewed batch; progress is published to the batch form."""
	batch = _check(batch)
	with xero_answers():
		if quote_import.is_quote_batch(batch):
			return quote_import.start(batch)
		return import_runner.start(batch)


@frappe.whitelist(methods=["POST"])
def stop(batch):
	"""Stops the batch's running preview or import after its current page or chunk; Preview or Import resumes."""
	return import_runner.stop(_check(batch))


@frappe.whitelist()
def groups(batch, view="all", search=None, start=0, page_length=50):
	"""One page of the preview: proposed orders with their flags, invoices and lines."""
	batch = _check(batch, "read")
	if view not in VIEWS:
		throw(_("view must be one of {0}").format(", ".join(VIEWS)), frappe.ValidationError)
	if search is not None and not isinstance(search, str):
		throw(_("search must be text"), frappe.ValidationError)
	start, page_length = max(cint(start), 0), min(max(cint(page_length), 1), 500)
	if quote_import.is_quote_batch(batch):
		return quote_import.page(batch, view, search, start, page_length)
	return import_groups.page(batch, view, search, start, page_length)
