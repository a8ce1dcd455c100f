"""Whitelisted methods for orders from Xero quotes: an organisation's quotes, an order made from an ACCEPTED one,
and setting a Fully Invoiced order's quote to INVOICED again. Each checks the doctype right it stands for (making
an order is create and submit on Xero Sales Order; the organisation's quotes are read through a connection the
user may pick on an order), then calls one service."""

import frappe
from frappe import _
from frappe.utils import cint

from xero_sales_orders.api.xero_answers import xero_answers
from xero_sales_orders.permissions import require_permission
from xero_sales_orders.services import quote_import, quote_invoicing, quote_orders
from xero_sales_orders.services.order_invoicing import INVOICE, ORDER
from xero_sales_orders.services.xero_endpoints import CONNECTION

BATCH = "Xero Import Batch"


def _check_may_order_from_quotes(connection) -> None:
	require_permission(ORDER, "create", action=_("make orders from Xero quotes"))
	if isinstance(connection, str) and frappe.db.exists(CONNECTION, connection):
		# The connection the orders are made through: the same right as picking it on an order.
		if not frappe.has_permission(CONNECTION, "select", connection):
			require_permission(CONNECTION, "read", connection, _("use this Xero connection"))


@frappe.whitelist()
def organisations(connection):
	"""The connection's organisations (tenant id, name, default) to choose the quotes' organisation from."""
	_check_may_order_from_quotes(connection)
	quote_orders.organisation(connection)
	return frappe.get_all(
		"Xero Connection Tenant",
		{"parent": connection, "parenttype": CONNECTION},
		["tenant_id", "tenant_name", "is_default", "base_currency"],
		order_by="idx asc",
	)


@frappe.whitelist()
def quotes(connection, tenant_id=None, status="ACCEPTED", contact=None, date_from=None, date_to=None, page=1):
	"""One page (up to 100: one Xero call) of the organisation's quotes, ACCEPTED ones unless ``status`` says
	otherwise (empty: all), filtered by ``contact`` (a Xero Contact) and the quote date; each with the order made
	from it, if any, and whether it can become one (``can_order``, else ``reason``)."""
	_check_may_order_from_quotes(connection)
	with xero_answers():
		return quote_orders.list_quotes(connection, tenant_id, status, contact, date_from, date_to, page)


@frappe.whitelist(methods=["POST"])
def create_order(connection, quote, tenant_id=None):
	"""Makes and submits an order from the ACCEPTED Xero quote ``quote`` (its QuoteID); returns the order.
	409 when the quote is not ACCEPTED or is already an order, 417 when it holds what an order cannot."""
	_check_may_order_from_quotes(connection)
	require_permission(ORDER, "submit", action=_("submit orders"))
	with xero_answers():
		order = quote_orders.create_order(connection, tenant_id, quote)
	return order.as_dict()


@frappe.whitelist(methods=["POST"])
def retry_quote_invoiced(sales_order):
	"""Sets the quote of a fully invoiced order to INVOICED in Xero again (after a failure); returns the state."""
	# Sending to Xero again is the managers' right, as retrying an invoice push is.
	require_permission(INVOICE, "write", action=_("send quotes to Xero again"))
	if not isinstance(sales_order, str) or not frappe.db.exists(ORDER, sales_order):
		frappe.local.flags.disable_traceback = True
		frappe.throw(_("Xero Sales Order {0} not found").format(sales_order), frappe.DoesNotExistError)
	frappe.has_permission(ORDER, "read", sales_order, throw=True)
	state = quote_invoicing.retry(sales_order)
	return {
		"sales_order": sales_order,
		"quote_invoiced": state,
		**frappe.db.get_value(ORDER, sales_order, ["xero_quote_status", "quote_error"], as_dict=True),
	}


@frappe.whitelist()
def batch_quotes(batch, start=0, page_length=100):
	"""The preview of an import batch whose Source is Quotes: one row per ACCEPTED quote, with why it will not
	become an order when it will not (``flags``), and the order made from it."""
	require_permission(BATCH, "read", action=_("see Xero imports"))
	if not isinstance(batch, str) or not frappe.db.exists(BATCH, batch):
		frappe.local.flags.disable_traceback = True
		frappe.throw(_("Xero Import Batch {0} not found").format(batch), frappe.DoesNotExistError)
	frappe.has_permission(BATCH, "read", batch, throw=True)
	start, page_length = max(cint(start), 0), min(max(cint(page_length), 1), 500)
	rows = quote_import.read_rows(batch)
	return {"total": len(rows), "start": start, "rows": rows[start : start + page_length]}
