"""Existing sites: each order's invoiced tax (the sum of its lines', which Order Invoicing Status now reads from
the order) and the indexes the order book needs at 100,000 orders (services.reporting.ORDER_BOOK_INDEXES)."""

import frappe

from xero_sales_orders.services.reporting import add_order_book_indexes


def execute():
	frappe.db.sql(
		"""update `tabXero Sales Order` o
		join (
			select parent, sum(invoiced_tax) as tax from `tabXero Sales Order Item`
			where parenttype = 'Xero Sales Order' and parentfield = 'items' group by parent
		) sums on sums.parent = o.name
		set o.invoiced_tax = sums.tax
		where o.invoiced_tax <> sums.tax"""
	)
	frappe.db.commit()
	add_order_book_indexes()
