"""Order Invoicing Status: one row per order line with ordered, invoiced and outstanding qty and amount."""

import frappe
from frappe import _

from xero_sales_orders.core.spreadsheet import neutralise_rows
from xero_sales_orders.services.reporting import (
	ITEM_TABLE,
	ORDER_SELECT,
	ORDER_TABLE,
	OUTSTANDING_LINE_AMOUNT,
	OUTSTANDING_LINE_QTY,
	ROW_LIMIT,
	currency_summary,
	limit_message,
	money_column,
	order_columns,
	order_conditions,
	parse_filters,
	tracked_line,
)

# Small slices: reading rows is the cost (pymysql parses every row in Python), so the page overshoots little.
ORDERS_PER_SLICE = 200
LINES = f"""{ORDER_TABLE} join {ITEM_TABLE} on {ITEM_TABLE}.parent = {ORDER_TABLE}.name
	and {ITEM_TABLE}.parenttype = 'Xero Sales Order' and {ITEM_TABLE}.parentfield = 'items'"""


# The sums of all of an order's lines, from the order's own figures (read from one index instead of a million
# lines): its lines' amounts add up to its subtotal (its total, tax included, for Inclusive amounts), what is
# invoiced of them to its invoiced amount less the invoiced tax where tax is added on top (Exclusive), and each
# line's outstanding amount is its amount less what is invoiced of it (core.pricing.totals and
# refresh_order_invoicing, which every writer of these figures follows).
LINES_ORDERED = f"""(case when {ORDER_TABLE}.line_amount_type = 'Inclusive' then {ORDER_TABLE}.grand_total
	else {ORDER_TABLE}.subtotal end)"""
LINES_INVOICED = f"""({ORDER_TABLE}.invoiced_amount
	- case when {ORDER_TABLE}.line_amount_type = 'Exclusive' then {ORDER_TABLE}.invoiced_tax else 0 end)"""


def execute(filters=None):
	filters = parse_filters(filters)
	where, values = order_conditions(filters)
	lines = f" and {tracked_line()}" if filters.tracking_option else ""  # only the lines with the option
	rows = page_of_lines(where, values, lines)
	labels = {"ordered": _("Ordered"), "invoiced": _("Invoiced"), "outstanding": _("Outstanding")}
	if lines:  # some lines of an order only: summed line by line
		summary = currency_summary(
			f"""sum({ITEM_TABLE}.line_amount) as ordered, sum({ITEM_TABLE}.invoiced_amount) as invoiced,
				sum({OUTSTANDING_LINE_AMOUNT}) as outstanding""",
			LINES,
			where + lines,
			values,
			labels,
		)
	else:  # every line of each matching order: its sums follow from the order's own figures
		summary = currency_summary(
			f"""sum({LINES_ORDERED}) as ordered, sum({LINES_INVOICED}) as invoiced,
				sum(case when {ORDER_TABLE}.status = 'Closed' then 0 else {LINES_ORDERED} - {LINES_INVOICED} end)
				as outstanding""",
			ORDER_TABLE,
			where,
			values,
			labels,
		)
	# Customer names, references and descriptions are text, never formulas, on screen and in the export.
	return columns(), neutralise_rows(rows[:ROW_LIMIT]), limit_message(len(rows)), None, summary


def page_of_lines(where: str, values: dict, lines: str = "") -> list[dict]:
	"""The first ROW_LIMIT + 1 lines, newest orders first.

	The page's orders are picked on the order table alone, then their lines are read by parent in slices
	of orders until the page is full (three slices for orders of ten lines); sorting every line of the order
	book in one join would take most of the 2 s budget on 100,000 lines.
	"""
	orders = frappe.db.sql(
		f"""select {ORDER_TABLE}.name from {ORDER_TABLE} where {where}
		order by {ORDER_TABLE}.order_date desc, {ORDER_TABLE}.name desc limit {ROW_LIMIT + 1}""",
		values,
		pluck=True,
	)
	rows = []
	for start in range(0, len(orders), ORDERS_PER_SLICE):
		rows += frappe.db.sql(
			f"""select {ORDER_SELECT}, {ITEM_TABLE}.idx as line, {ITEM_TABLE}.item_code, {ITEM_TABLE}.description,
				{ITEM_TABLE}.qty as ordered_qty, {ITEM_TABLE}.invoiced_qty, {OUTSTANDING_LINE_QTY} as outstanding_qty,
				{ITEM_TABLE}.line_amount as ordered_amount, {ITEM_TABLE}.invoiced_amount,
				{OUTSTANDING_LINE_AMOUNT} as outstanding_amount
			from {LINES} where {ORDER_TABLE}.name in %(orders)s{lines}
			order by {ORDER_TABLE}.order_date desc, {ORDER_TABLE}.name desc, {ITEM_TABLE}.idx""",
			{**values, "orders": orders[start : start + ORDERS_PER_SLICE]},
			as_dict=True,
		)
		if len(rows) > ROW_LIMIT:
			break
	return rows[: ROW_LIMIT + 1]


def columns():
	return [
		*order_columns(),
		# Data, not Int: a line number must not be summed in the totals row.
		{"fieldname": "line", "label": _("Line"), "fieldtype": "Data", "width": 60},
		{"fieldname": "item_code", "label": _("Item"), "fieldtype": "Data", "width": 110},
		{"fieldname": "description", "label": _("Description"), "fieldtype": "Data", "width": 180},
		{"fieldname": "ordered_qty", "label": _("Ordered Qty"), "fieldtype": "Float", "width": 100},
		{"fieldname": "invoiced_qty", "label": _("Invoiced Qty"), "fieldtype": "Float", "width": 100},
		{"fieldname": "outstanding_qty", "label": _("Outstanding Qty"), "fieldtype": "Float", "width": 110},
		money_column("ordered_amount", _("Ordered Amount")),
		money_column("invoiced_amount", _("Invoiced Amount")),
		money_column("outstanding_amount", _("Outstanding Amount")),
	]
