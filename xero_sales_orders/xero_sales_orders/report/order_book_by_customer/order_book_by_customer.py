"""Order Book by Customer: per customer and currency, what was ordered, invoiced, is outstanding and is paid,
and what the invoices still owe in Xero (their Amount Due: invoiced less paid and credited)."""

import frappe
from frappe import _

from xero_sales_orders.core.spreadsheet import neutralise_rows
from xero_sales_orders.services.reporting import (
	ORDER_TABLE,
	OUTSTANDING_ORDER_AMOUNT,
	ROW_LIMIT,
	currency_summary,
	limit_message,
	money_column,
	order_conditions,
	parse_filters,
)

AMOUNTS = f"""sum({ORDER_TABLE}.grand_total) as ordered, sum({ORDER_TABLE}.invoiced_amount) as invoiced,
	sum({OUTSTANDING_ORDER_AMOUNT}) as outstanding, sum({ORDER_TABLE}.paid_amount) as paid,
	sum({ORDER_TABLE}.due_amount) as unpaid"""


def execute(filters=None):
	filters = parse_filters(filters)
	where, values = order_conditions(filters)
	rows = frappe.db.sql(
		f"""select {ORDER_TABLE}.customer, max({ORDER_TABLE}.customer_name) as customer_name,
			{ORDER_TABLE}.currency, count(*) as orders, {AMOUNTS}
		from {ORDER_TABLE} where {where}
		group by {ORDER_TABLE}.customer, {ORDER_TABLE}.currency
		order by outstanding desc, customer_name
		limit {ROW_LIMIT + 1}""",
		values,
		as_dict=True,
	)
	summary = currency_summary(
		AMOUNTS,
		ORDER_TABLE,
		where,
		values,
		{
			"ordered": _("Ordered"),
			"invoiced": _("Invoiced"),
			"outstanding": _("Outstanding"),
			"paid": _("Paid"),
		},
	)
	# Customer names, references and descriptions are text, never formulas, on screen and in the export.
	return columns(), neutralise_rows(rows[:ROW_LIMIT]), limit_message(len(rows)), None, summary


def columns():
	return [
		{
			"fieldname": "customer",
			"label": _("Customer"),
			"fieldtype": "Link",
			"options": "Xero Contact",
			"width": 100,
		},
		{"fieldname": "customer_name", "label": _("Customer Name"), "fieldtype": "Data", "width": 200},
		{"fieldname": "currency", "label": _("Currency"), "fieldtype": "Data", "width": 80},
		{"fieldname": "orders", "label": _("Orders"), "fieldtype": "Int", "width": 80},
		money_column("ordered", _("Ordered")),
		money_column("invoiced", _("Invoiced")),
		money_column("outstanding", _("Outstanding")),
		money_column("paid", _("Paid")),
		money_column("unpaid", _("Invoiced, Unpaid")),
	]
