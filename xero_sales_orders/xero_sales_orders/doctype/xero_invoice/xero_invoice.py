# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

from functools import partial

import frappe
from frappe import _
from frappe.model import no_value_fields, table_fields
from frappe.model.document import Document

from xero_sales_orders.exceptions import (
	DerivedFieldError,
	HeldByXeroError,
	InvalidInvoiceRequestError,
	throw,
)
from xero_sales_orders.services.reporting import add_order_book_indexes


class XeroInvoice(Document):
	"""A local copy of an invoice the app raised (or imported) and Xero holds.

	Every field is the app's or Xero's: the invoicing service creates it, the push, webhooks, reconciliation
	and the import write it (with SQL, or on a save that sets ``flags.from_xero``). No user save may change a
	field, System Manager included, and an invoice that Xero holds or may hold cannot be deleted here.
	"""

	def before_insert(self):
		# Invoices bill order quantities; only the invoicing service may create them, with the order locked.
		if not self.flags.created_by_invoicing:
			throw(
				_(
					"Create invoices from a submitted Xero Sales Order (xero_sales_orders.api.orders.create_invoice)"
				),
				InvalidInvoiceRequestError,
			)

	def validate(self):
		self.validate_nothing_changed()

	def on_trash(self):
		self.validate_can_delete()

	def after_delete(self):
		# Its quantities return to the order once the delete is committed, under the order's own lock.
		frappe.db.after_commit.add(partial(rederive_order, self.sales_order))

	def validate_nothing_changed(self):
		if self.is_new() or self.flags.from_xero:
			return
		changed = _changed_labels(self, self.get_doc_before_save())
		if changed:
			throw(
				_(
					"{0} of invoice {1} follow Xero and the app's invoicing only; change the invoice in Xero"
				).format(", ".join(changed), self.name),
				DerivedFieldError,
				title=_("Set by Xero"),
			)

	def validate_can_delete(self):
		if self.xero_invoice_id or self.push_state == "Pushed":
			throw(
				_("Invoice {0} is in Xero: void or delete it there; its status here follows Xero's").format(
					self.name
				),
				HeldByXeroError,
			)
		if self.push_state != "Failed":
			throw(
				_(
					"Invoice {0} is waiting to be pushed to Xero and may already be there; only an invoice "
					"that Xero refused (Failed) can be deleted"
				).format(self.name),
				HeldByXeroError,
			)


def rederive_order(sales_order: str) -> None:
	from xero_sales_orders.services.order_invoicing import refresh_order_invoicing, with_order_locked

	if sales_order and frappe.db.exists("Xero Sales Order", sales_order):
		with_order_locked(sales_order, lambda: refresh_order_invoicing(sales_order))


def _changed_labels(doc, stored) -> list[str]:
	"""Labels of the fields (and of the lines) whose value differs from the stored document's."""
	values, stored_values = _values(doc), _values(stored)
	changed = [doc.meta.get_label(f) for f in values if values[f] != stored_values[f]]
	for df in doc.meta.get_table_fields():
		rows, stored_rows = doc.get(df.fieldname), stored.get(df.fieldname)
		if [r.name for r in rows] != [r.name for r in stored_rows] or any(
			_changed_labels(row, before) for row, before in zip(rows, stored_rows, strict=True)
		):
			changed.append(doc.meta.get_label(df.fieldname))
	return changed


def _values(doc) -> dict:
	"""The document's field values as the database would store them, comparable across types."""
	valid = doc.get_valid_dict(convert_dates_to_str=True)
	values = {}
	for df in doc.meta.fields:
		if df.fieldtype in no_value_fields or df.fieldtype in table_fields:
			continue
		value = valid.get(df.fieldname)
		values[df.fieldname] = (
			round(value, 9) if isinstance(value, float) else "" if value is None else str(value)
		)
	return values


def on_doctype_update():
	# Two organisations may both have an INV-0001; within one, a number names one invoice.
	frappe.db.add_unique(
		"Xero Invoice", ["tenant_id", "invoice_number"], "unique_invoice_number_per_organisation"
	)
	add_order_book_indexes("Xero Invoice")
