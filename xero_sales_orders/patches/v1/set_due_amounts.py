"""Orders made before they kept what their invoices still owe get it from their live invoices' Amount Due, and
the order book's index takes the new figure (Order Book by Customer reads it from the index alone)."""

import frappe

from xero_sales_orders.core.order_status import DEAD_INVOICE_STATUSES
from xero_sales_orders.services.order_invoicing import ORDER
from xero_sales_orders.services.reporting import add_order_book_indexes

BOOK_INDEX = "xso_order_book"  # services.reporting.ORDER_BOOK_INDEXES


def execute():
	if frappe.db.has_index(f"tab{ORDER}", BOOK_INDEX):  # rebuilt with its new column, after the backfill
		frappe.db.sql_ddl(f"alter table `tab{ORDER}` drop index `{BOOK_INDEX}`")
	frappe.db.sql(
		"""update `tabXero Sales Order` o set o.due_amount = (
			select coalesce(sum(i.amount_due), 0) from `tabXero Invoice` i
			where i.sales_order = o.name and i.status not in %s)
		where o.docstatus = 1""",
		(list(DEAD_INVOICE_STATUSES),),
	)
	add_order_book_indexes(ORDER)
