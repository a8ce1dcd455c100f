"""Whitelisted order actions: thin wrappers that check permissions and call the invoicing service."""

import frappe

from xero_sales_orders.api.xero_answers import xero_answers
from xero_sales_orders.core.links import safe_link
from xero_sales_orders.exceptions import OrderStateError, throw
from xero_sales_orders.permissions import require_permission
from xero_sales_orders.services import (
	deposit_invoicing,
	invoice_preview,
	invoice_push,
	item_updates,
	order_invoicing,
)


def _check_order_access(sales_order, ptype="read"):
	if not isinstance(sales_order, str) or not sales_order:
		throw(frappe._("sales_order must be the name of a Xero Sales Order"), frappe.ValidationError)
	if not frappe.db.exists(order_invoicing.ORDER, sales_order):
		throw(frappe._("Xero Sales Order {0} not found").format(sales_order), frappe.DoesNotExistError)
	frappe.has_permission(order_invoicing.ORDER, ptype, sales_order, throw=True)


def _check_may_close(sales_order):
	# Closing ends the order's invoicing as cancelling would, so it is the order's cancel right (managers').
	require_permission(order_invoicing.ORDER, "cancel", sales_order, frappe._("close or re-open orders"))


@frappe.whitelist(methods=["POST"])
def create_invoice(
	sales_order, lines=None, invoice_date=None, due_date=None, status=None, currency_rate=None
):
	"""Raises an invoice for ``lines`` ([{"item": <order item row>, "qty": <qty>}]) or everything outstanding,
	dated ``invoice_date`` (today), due ``due_date`` (the organisation's rule) and sent to Xero as ``status``
	DRAFT or AUTHORISED (the organisation's default); a foreign-currency invoice's ``currency_rate`` (units of
	its currency per unit of the base currency, Xero's CurrencyRate) when given, else Xero's own rate."""
	_check_order_access(sales_order)
	frappe.has_permission(order_invoicing.INVOICE, "create", throw=True)
	options = order_invoicing.parse_options(invoice_date, due_date, status, currency_rate)
	invoice = order_invoicing.create_invoice(sales_order, lines, options)
	# The invoice is kept whatever Xero does next; then it goes to Xero at once.
	frappe.db.commit()
	invoice_push.push_invoices([invoice.name])
	frappe.db.commit()
	invoice.reload()
	return invoice.as_dict(no_default_fields=False)


@frappe.whitelist()
def preview_invoice(
	sales_order, lines=None, invoice_date=None, due_date=None, status=None, currency_rate=None
):
	"""What ``create_invoice`` with the same arguments would raise, priced as Xero will compute it: lines,
	subtotal, tax, total, and the date, due date and status it goes with. Writes nothing."""
	_check_order_access(sales_order)
	frappe.has_permission(order_invoicing.INVOICE, "create", throw=True)
	options = order_invoicing.parse_options(invoice_date, due_date, status, currency_rate)
	return invoice_preview.preview(sales_order, lines, options)


@frappe.whitelist(methods=["POST"])
def retry_push(invoice):
	"""Sends a Failed (or still Pending) invoice to Xero again, e.g. after fixing its contact or account."""
	# Sending an invoice again is writing it (the managers' right on Xero Invoice).
	require_permission(order_invoicing.INVOICE, "write", action=frappe._("retry pushing invoices"))
	if not isinstance(invoice, str) or not frappe.db.exists(order_invoicing.INVOICE, invoice):
		throw(frappe._("Xero Invoice {0} not found").format(invoice), frappe.DoesNotExistError)
	# The doctype right is not enough: the invoice itself, and its order, must be the user's to act on (user
	# permissions, e.g. on customers, restrict both).
	frappe.has_permission(order_invoicing.INVOICE, "write", invoice, throw=True)
	order = frappe.db.get_value(order_invoicing.INVOICE, invoice, "sales_order")
	if order:
		frappe.has_permission(order_invoicing.ORDER, "read", order, throw=True)
	state = frappe.db.get_value(order_invoicing.INVOICE, invoice, "push_state")
	if state == "Pushed":
		throw(frappe._("Invoice {0} is already in Xero").format(invoice), OrderStateError)
	frappe.db.set_value(order_invoicing.INVOICE, invoice, "push_state", "Pending", update_modified=False)
	with xero_answers():
		invoice_push.push_invoices([invoice])
	frappe.db.commit()
	return frappe.get_doc(order_invoicing.INVOICE, invoice).as_dict()


@frappe.whitelist(methods=["POST"])
def close(sales_order):
	"""Short-closes an order: nothing more will be invoiced on it."""
	_check_order_access(sales_order)
	_check_may_close(sales_order)
	return order_invoicing.close_order(sales_order).as_dict()


@frappe.whitelist(methods=["POST"])
def reopen(sales_order):
	_check_order_access(sales_order)
	_check_may_close(sales_order)
	return order_invoicing.reopen_order(sales_order).as_dict()


@frappe.whitelist()
def invoices(sales_order):
	"""The order's invoices with their Xero and push states, for the order form."""
	_check_order_access(sales_order)
	rows = frappe.get_all(
		order_invoicing.INVOICE,
		filters={"sales_order": sales_order},
		fields=[
			"name",
			"invoice_number",
			"xero_invoice_id",
			"status",
			"push_state",
			"is_deposit",
			"total",
			"amount_paid",
			"amount_credited",
			"amount_due",
			"sent_to_contact",
			"currency",
			"last_error",
			"online_url",
			"xero_url",
			"xero_total",
			"totals_differ",
			"totals_difference",
			"creation",
		],
		order_by="creation asc",
	)
	for row in rows:  # whatever is stored, only an https:// (or local sandbox) link is handed to the desk
		row.online_url, row.xero_url = safe_link(row.online_url), safe_link(row.xero_url)
	return rows


@frappe.whitelist(methods=["POST"])
def create_deposit(sales_order, percent=None, amount=None, deduction=None):
	"""Raises a deposit invoice for ``percent`` of the order's total or an ``amount`` (its Total in Xero), on
	the organisation's deposit account, and pushes it to Xero; ``deduction`` (In Proportion, On Final Invoice)
	sets how the order's later invoices deduct its deposits. The rights are those of create_invoice."""
	_check_order_access(sales_order)
	frappe.has_permission(order_invoicing.INVOICE, "create", throw=True)
	invoice = deposit_invoicing.create_deposit(sales_order, percent, amount, deduction)
	frappe.db.commit()
	invoice_push.push_invoices([invoice.name])
	frappe.db.commit()
	invoice.reload()
	return invoice.as_dict(no_default_fields=False)


@frappe.whitelist(methods=["POST"])
def update_items(sales_order, items):
	"""Changes a submitted (Open or Partially Invoiced) order's lines: ``items`` is its new list of lines, each
	stored one by its row ``name`` (fields left out keep their values), new ones without a name; a stored line
	left out is removed. Quantities never go below what is invoiced; price, discount, tax, item and account
	change only on lines with nothing invoiced. It needs write on the order. Returns the order and the changes
	(also on the order's timeline)."""
	_check_order_access(sales_order, "write")
	return item_updates.update_items(sales_order, items)
