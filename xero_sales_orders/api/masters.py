"""Lookups the order form makes on the synced Xero masters."""

import frappe
from frappe import _

from xero_sales_orders.exceptions import throw
from xero_sales_orders.services.master_lookups import item_line_defaults


@frappe.whitelist()
def item_defaults(item):
	"""What Xero's item says for a new order line: description, unit price, account and tax."""
	if not isinstance(item, str) or not frappe.db.exists("Xero Item", item):
		throw(_("Xero Item {0} not found").format(item), frappe.DoesNotExistError)
	frappe.has_permission("Xero Item", "read", item, throw=True)
	return item_line_defaults(item)
