# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from xero_sales_orders.exceptions import InvalidInvoiceRequestError, throw


class XeroInvoice(Document):
	def before_insert(self):
		# Invoices bill order quantities; only the invoicing service may create them, with the order locked.
		if not self.flags.created_by_invoicing:
			throw(
				_(
					"Create invoices from a submitted Xero Sales Order (xero_sales_orders.api.orders.create_invoice)"
				),
				InvalidInvoiceRequestError,
			)

	def on_trash(self):
		if self.status not in ("VOIDED", "DELETED"):
			throw(
				_("Invoice {0} is live; void or delete it in Xero first").format(self.name),
				InvalidInvoiceRequestError,
			)


def on_doctype_update():
	# Two organisations may both have an INV-0001; within one, a number names one invoice.
	frappe.db.add_unique(
		"Xero Invoice", ["tenant_id", "invoice_number"], "unique_invoice_number_per_organisation"
	)
