# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

from functools import partial

import frappe
from frappe import _
from frappe.model.document import Document

from xero_sales_orders.exceptions import DerivedFieldError, HeldByXeroError, InvalidInvoiceRequestError, throw
from xero_sales_orders.xero_sales_orders.doctype.xero_invoice.xero_invoice import (
	_changed_labels,
	rederive_order,
)


class XeroCreditNote(Document):
	"""A credit note against one of an order's invoices: raised by the app (``services.credit_notes``) and pushed
	to Xero, or raised in Xero and brought here by webhooks and the reconciliation (``raised_in_xero``).

	As for invoices, every field is the app's or Xero's: no user save may change one (System Manager included),
	and a credit note Xero holds or may hold cannot be deleted.
	"""

	def autoname(self):
		# Its number, unique within an organisation; two organisations may both hold a CN-0001 (-2, -3 here).
		base = self.credit_note_number or frappe.generate_hash(length=10)
		name, suffix = base, 1
		while frappe.db.exists(self.doctype, name):
			suffix += 1
			name = f"{base}-{suffix}"
		self.name = name

	def before_insert(self):
		if not self.flags.created_by_crediting:
			throw(
				_(
					"Credit an invoice from the invoice or its order (xero_sales_orders.api.invoices.credit); "
					"credit notes raised in Xero arrive by themselves"
				),
				InvalidInvoiceRequestError,
			)

	def validate(self):
		if self.is_new() or self.flags.from_xero:
			return
		changed = _changed_labels(self, self.get_doc_before_save())
		if changed:
			throw(
				_(
					"{0} of credit note {1} follow Xero and the app's crediting only; change the credit note in Xero"
				).format(", ".join(changed), self.name),
				DerivedFieldError,
				title=_("Set by Xero"),
			)

	def on_trash(self):
		if self.xero_credit_note_id or self.push_state == "Pushed":
			throw(
				_("Credit note {0} is in Xero: void it there; its status here follows Xero's").format(
					self.name
				),
				HeldByXeroError,
			)
		if self.push_state != "Failed":
			throw(
				_(
					"Credit note {0} is waiting to be pushed to Xero and may already be there; only a credit note "
					"that Xero refused (Failed) can be deleted"
				).format(self.name),
				HeldByXeroError,
			)

	def after_delete(self):
		# What it held back of the invoice is creditable again, its quantities (if any) the order's again.
		frappe.db.after_commit.add(partial(rederive_order, self.sales_order))


def on_doctype_update():
	# One local copy of each credit note Xero holds, whatever raced to bring it (a push, a webhook, a reconcile).
	frappe.db.add_unique(
		"Xero Credit Note", ["tenant_id", "xero_credit_note_id"], "unique_credit_note_per_organisation"
	)
