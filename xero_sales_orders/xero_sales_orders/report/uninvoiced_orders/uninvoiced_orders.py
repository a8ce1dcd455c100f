"""Uninvoiced Orders: orders with anything left to invoice, their outstanding amount aged in buckets."""

import frappe
from frappe import _
from frappe.utils import nowdate

from xero_sales_orders.core.spreadsheet import neutralise_rows
from xero_sales_orders.services.reporting import (
	AGE_BASES,
	AGE_BUCKETS,
	AGE_OVER_90,
	ORDER_SELECT,
	ORDER_TABLE,
	ROW_LIMIT,
	TO_INVOICE_STATUSES,
	age_bucket,
	currency_summary,
	limit_message,
	money_column,
	one_of,
	order_columns,
	order_conditions,
	parse_filters,
)

AGE_FILTER = {"age_based_on": ("Age Based On", one_of(AGE_BASES))}


def execute(filters=None):
	filters = parse_filters(filters, statuses=TO_INVOICE_STATUSES, extra=AGE_FILTER)
	where, values = order_conditions(filters, statuses=TO_INVOICE_STATUSES)
	values["today"] = nowdate()
	rows = frappe.db.sql(
		f"""select {ORDER_SELECT}, {ORDER_TABLE}.grand_total, {ORDER_TABLE}.invoiced_amount,
			{ORDER_TABLE}.outstanding_amount, {ORDER_TABLE}.per_invoiced,
			datediff(%(today)s, {ORDER_TABLE}.order_date) as order_age,
			datediff(%(today)s, {ORDER_TABLE}.expected_date) as days_past_expected
		from {ORDER_TABLE} where {where}
		order by {ORDER_TABLE}.order_date, {ORDER_TABLE}.name
		limit {ROW_LIMIT + 1}""",
		values,
		as_dict=True,
	)
	by_expected_date = filters.age_based_on == "Expected Date"
	for row in rows:
		# An order without an expected date is aged from its order date, so it is never hidden as "not due".
		age = row.days_past_expected if by_expected_date and row.expected_date else row.order_age
		row[age_bucket(age)] = row.outstanding_amount
	summary = currency_summary(
		f"sum({ORDER_TABLE}.outstanding_amount) as outstanding, count(*) as orders",
		ORDER_TABLE,
		where,
		values,
		{"outstanding": _("Outstanding")},
	)
	# Customer names, references and descriptions are text, never formulas, on screen and in the export.
	return (
		columns(by_expected_date),
		neutralise_rows(rows[:ROW_LIMIT]),
		limit_message(len(rows)),
		None,
		summary,
	)


def columns(by_expected_date: bool):
	buckets = [money_column(key, _("{0} days").format(label), 110) for key, label, _low, _high in AGE_BUCKETS]
	buckets.append(money_column(AGE_OVER_90[0], _("{0} days").format(AGE_OVER_90[1]), 110))
	if by_expected_date:
		buckets.insert(0, money_column("not_due", _("Not Yet Due"), 110))
	return [
		*order_columns(),
		money_column("grand_total", _("Order Total")),
		money_column("invoiced_amount", _("Invoiced")),
		money_column("outstanding_amount", _("Outstanding")),
		{"fieldname": "per_invoiced", "label": _("% Invoiced"), "fieldtype": "Percent", "width": 90},
		{"fieldname": "order_age", "label": _("Age (days)"), "fieldtype": "Int", "width": 90},
		{
			"fieldname": "days_past_expected",
			"label": _("Days Past Expected"),
			"fieldtype": "Int",
			"width": 110,
		},
		*buckets,
	]
