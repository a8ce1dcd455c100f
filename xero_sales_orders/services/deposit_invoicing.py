"""Deposit invoices: a percentage or an amount of an order, invoiced on the organisation's deposit account and
pushed like any invoice; later invoices of the order deduct it (``order_invoicing._create_invoice``).

It runs under the order's row lock (``with_order_locked``), like every change to what an order has invoiced:
a deposit and an invoice racing on one order run one after the other, and each sees what the other left.
"""

import uuid

import frappe
from frappe import _
from frappe.utils import flt, nowdate

from xero_sales_orders.core.deposit_plans import deposit_amount, parse_deposit, plan_deposit, validate_mode
from xero_sales_orders.core.errors import InvoicingError, StatusRuleError
from xero_sales_orders.core.money import to_decimal
from xero_sales_orders.core.order_status import ensure_can_invoice
from xero_sales_orders.exceptions import throw_core_error
from xero_sales_orders.services import order_deposits, order_timeline
from xero_sales_orders.services.order_invoicing import (
	INVOICE,
	ORDER,
	money,
	next_invoice_number,
	refresh_order_invoicing,
	with_order_locked,
)


def create_deposit(sales_order: str, percent=None, amount=None, deduction=None):
	"""Creates and commits a deposit invoice for ``percent`` of the order's total or an ``amount``; with
	``deduction`` (In Proportion, On Final Invoice) it also sets how later invoices deduct the order's
	deposits. Refused: a deposit above the order's total, or above what is still to invoice on it."""
	try:
		mode = validate_mode(deduction) if deduction else None
		parse_deposit(percent, amount)  # a malformed request is answered before the order is locked
	except InvoicingError as e:
		throw_core_error(e, title=_("Cannot take a deposit"))
	return with_order_locked(sales_order, lambda: _create_deposit(sales_order, percent, amount, mode))


def _create_deposit(sales_order: str, percent, amount, mode):
	order = frappe.get_doc(ORDER, sales_order)
	refresh_order_invoicing(order, notify=False)
	if mode and mode != order.deposit_deduction:
		order.deposit_deduction = mode
		frappe.db.set_value(ORDER, order.name, "deposit_deduction", mode, update_modified=False)
	lat = order.line_amount_type
	try:
		ensure_can_invoice(order.status)
		total = deposit_amount(money(order.grand_total), percent, amount)
		account = order_deposits.deposit_account(order)
		held = order_deposits.deposit_position(order)
		plan = plan_deposit(
			[
				(r.tax_type, to_decimal(flt(r.tax_rate, 4)), money(r.line_amount), money(r.tax_amount))
				for r in order.items
			],
			lat,
			account,
			total,
			money(order.grand_total),
			order_deposits.still_to_invoice(order, held),
		)
	except (InvoicingError, StatusRuleError) as e:
		throw_core_error(e, title=_("Cannot take a deposit"))

	invoice = frappe.new_doc(INVOICE)
	invoice.update(
		{
			"sales_order": order.name,
			"customer": order.customer,
			"connection": order.connection,
			"tenant_id": order.tenant_id,
			"invoice_number": next_invoice_number(order),
			"reference": order.po_number or order.name,
			"invoice_date": nowdate(),
			"currency": order.currency,
			"line_amount_type": lat,
			"is_deposit": 1,
			"status": "DRAFT",
			"push_state": "Pending",
			"idempotency_key": uuid.uuid4().hex,
			"subtotal": plan.totals.subtotal,
			"total_discount": plan.totals.total_discount,
			"total_tax": plan.totals.total_tax,
			"total": plan.totals.grand_total,
			"amount_due": plan.totals.grand_total,
		}
	)
	description = order_deposits.deposit_description(order, total, percent)
	for line in plan.lines:
		invoice.append("items", order_deposits.invoice_row(line, order_deposits.DEPOSIT, description))
	invoice.flags.created_by_invoicing = True
	invoice.insert(ignore_permissions=True)
	refresh_order_invoicing(order)
	order_timeline.invoice_raised(invoice)
	return invoice
