"""Xero's invoices applied here (Xero -> here): what a webhook event or the reconciliation brings of an
invoice that is ours (a payment, a void, a status, Xero's totals), where Xero's state is newer."""

from collections import defaultdict

import frappe

from xero_sales_orders.services import order_timeline
from xero_sales_orders.services.order_invoicing import INVOICE, refresh_order_invoicing, with_order_locked
from xero_sales_orders.services.xero_invoice_state import note_totals_differ, xero_figures
from xero_sales_orders.xero.parsing import parse_xero_date


def apply_xero_invoices(elements: list[dict], connection: str, tenant_id: str) -> dict[str, str]:
	"""Applies Xero's current state of invoices to the local ones that are ours, where Xero's is newer.

	Returns the local invoice name of each InvoiceID that is ours. Each order's invoices are applied in one
	transaction under that order's lock, and its figures derived once (a void returns quantities, a
	payment changes the paid figure); one order's failure does not undo another's.
	"""
	by_id = {e.get("InvoiceID"): e for e in elements if e.get("InvoiceID")}
	local = {}
	if by_id:
		for row in frappe.get_all(
			INVOICE, {"xero_invoice_id": ["in", list(by_id)]}, ["name", "xero_invoice_id", "sales_order"]
		):
			local[row.xero_invoice_id] = row
	# An invoice whose push answer was lost is known here by its number only.
	numbers = {
		e.get("InvoiceNumber"): i for i, e in by_id.items() if i not in local and e.get("InvoiceNumber")
	}
	if numbers:
		for row in frappe.get_all(
			INVOICE,
			{"invoice_number": ["in", list(numbers)], "connection": connection, "tenant_id": tenant_id},
			["name", "invoice_number", "sales_order"],
		):
			local[numbers[row.invoice_number]] = row
	by_order = defaultdict(list)
	for invoice_id, row in local.items():
		by_order[row.sales_order].append((row.name, by_id[invoice_id]))

	for order, group in sorted(by_order.items()):

		def apply(group=group, order=order):
			changed = False
			for name, element in group:
				changed |= _apply_if_newer(name, element)
			if changed:
				refresh_order_invoicing(order)

		with_order_locked(order, apply)
	return {invoice_id: row.name for invoice_id, row in local.items()}


def apply_xero_invoice(element: dict, connection: str, tenant_id: str) -> str | None:
	"""One invoice's state from Xero (see ``apply_xero_invoices``); None when it is not ours."""
	return apply_xero_invoices([element], connection, tenant_id).get(element.get("InvoiceID"))


def _apply_if_newer(name: str, element: dict) -> bool:
	current = frappe.db.get_value(
		INVOICE,
		name,
		[
			"xero_updated_at",
			"push_state",
			"sales_order",
			"subtotal",
			"total_tax",
			"total",
			"totals_differ",
			"status",
			"amount_paid",
			"currency",
		],
		as_dict=True,
	)
	if (
		current.xero_updated_at
		and (updated := parse_xero_date(element.get("UpdatedDateUTC")))
		and updated.replace(tzinfo=None) <= current.xero_updated_at
	):
		return False  # an older or repeated event: what we hold is as new
	values = {**xero_figures(element, current), "push_state": "Pushed"}
	if current.push_state != "Pushed":
		values["last_error"] = None
	frappe.db.set_value(INVOICE, name, values, update_modified=False)
	note_totals_differ(name, current.sales_order, values, current.totals_differ)
	order_timeline.invoice_changed_in_xero(name, current.sales_order, current, values, current.currency)
	return True
