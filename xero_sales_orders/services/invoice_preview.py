"""The Create Invoice dialog's preview: the invoice's lines, subtotal, tax and total as Xero will compute them
(the app's own plan, which the push sends in terms that make Xero compute exactly it), with the date, due date
and status it will be sent with. Nothing is written."""

import frappe
from frappe.utils import getdate, nowdate

from xero_sales_orders.core.currencies import base_amount
from xero_sales_orders.core.invoice_options import InvoiceOptions
from xero_sales_orders.services import invoice_push, order_invoicing


def preview(sales_order: str, lines=None, options: InvoiceOptions | None = None) -> dict:
	options = options or InvoiceOptions()
	order, plan = order_invoicing.preview_invoice(sales_order, lines)
	tenant = invoice_push._tenant_settings(order.connection, order.tenant_id)
	invoice_date = options.invoice_date or getdate(nowdate())
	draft = frappe._dict(
		invoice_date=invoice_date,
		due_date=options.due_date,
		customer=order.customer,
		connection=order.connection,
		tenant_id=order.tenant_id,
	)
	totals = plan.totals
	return {
		"sales_order": order.name,
		"currency": order.currency,
		"line_amount_type": order.line_amount_type,
		"lines": [
			{
				"item": p.order_line.name,
				"qty": p.qty,
				"line_amount": p.line_amount,
				"tax_amount": p.tax_amount,
				"discount_amount": p.discount_amount,
			}
			for p in plan.lines
		],
		# What the invoice deducts of the order's deposits (negative; positive gives back a voided one's).
		"deposit_lines": [
			{"line_amount": d.line_amount, "tax_amount": d.tax_amount, "tax_type": d.tax_type}
			for d in plan.deposit_lines
		],
		"deposit_deducted": sum((d.total(order.line_amount_type) for d in plan.deposit_lines), 0),
		"subtotal": totals.subtotal,
		"total_discount": totals.total_discount,
		"total_tax": totals.total_tax,
		"total": totals.grand_total,
		"invoice_date": invoice_date.isoformat(),
		"due_date": invoice_push.due_date_for(draft, tenant).isoformat(),
		"status": options.status or tenant.invoice_status or "DRAFT",
		"default_status": tenant.invoice_status or "DRAFT",
		# A given exchange rate, and the total in the organisation's base currency at it.
		"currency_rate": options.currency_rate,
		"base_currency": tenant.base_currency,
		"base_total": base_amount(totals.grand_total, options.currency_rate),
	}
