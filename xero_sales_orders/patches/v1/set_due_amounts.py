"""Orders made before they kept what their invoices still owe get it from their live invoices' Amount Due."""

import frappe

from xero_sales_orders.core.order_status import DEAD_INVOICE_STATUSES


def execute():
	frappe.db.sql(
		"""update `tabXero Sales Order` o set o.due_amount = (
			select coalesce(sum(i.amount_due), 0) from `tabXero Invoice` i
			where i.sales_order = o.name and i.status not in %s)
		where o.docstatus = 1""",
		(list(DEAD_INVOICE_STATUSES),),
	)
