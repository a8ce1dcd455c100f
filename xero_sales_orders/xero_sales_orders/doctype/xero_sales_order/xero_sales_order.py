# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

import re

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, cstr, flt, getdate

from xero_sales_orders.core.errors import LineValidationError
from xero_sales_orders.core.money import ZERO, round_money, to_decimal
from xero_sales_orders.core.order_status import derive_status
from xero_sales_orders.core.pricing import (
	PricedLine,
	parse_line,
	price_line,
	totals,
	validate_line_amount_type,
)
from xero_sales_orders.exceptions import DerivedFieldError, InvalidOrderError, OrderStateError, throw
from xero_sales_orders.services.master_lookups import item_line_defaults, starting_currency
from xero_sales_orders.services.order_invoicing import has_live_invoices, qty
from xero_sales_orders.services.order_org_settings import apply_tracking, base_figures, validate_currency
from xero_sales_orders.services.organisation_profile import seller
from xero_sales_orders.services.reporting import add_order_book_indexes

CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
# The Xero quote an order was made from (services.quote_orders) and its INVOICED state in Xero
# (services.quote_invoicing): written only by those services, never from a request.
QUOTE_LINK_FIELDS = ("xero_quote_id", "xero_quote_number", "xero_quote_url")
QUOTE_FIELDS = (
	*QUOTE_LINK_FIELDS,
	"xero_quote_status",
	"quote_invoiced",
	"quote_error",
	"quote_attempts",
	"quote_attempted_at",
)
# Written only by the app: derived from the invoices (services.order_invoicing.refresh_order_invoicing), by Close /
# Re-open, by the invoice numbering (next_invoice_number) and by the bulk import. Never from a request.
DERIVED_FIELDS = (
	"status",
	"is_closed",
	"invoiced_amount",
	"invoiced_tax",
	"outstanding_amount",
	"per_invoiced",
	"paid_amount",
	"credited_amount",
	"due_amount",
	"invoice_counter",
	"import_batch",
	*QUOTE_FIELDS,
	# Deposit invoices and what later invoices deducted of them (services.order_deposits).
	"deposit_amount",
	"deposit_paid",
	"deposit_deducted",
	"deposit_remaining",
	# The organisation's base currency and the order's total in it at Xero's rate (services.order_org_settings).
	"base_currency",
	"exchange_rate",
	"base_grand_total",
)
DERIVED_LINE_FIELDS = (
	"invoiced_qty",
	"invoiced_amount",
	"invoiced_tax",
	"outstanding_qty",
	"outstanding_amount",
)


class XeroSalesOrder(Document):
	def before_insert(self):
		self.validate_amended_from()

	def validate(self):
		self.set_organisation()
		self.validate_header()
		validate_currency(self)  # enabled in the organisation; sets base_currency
		self.set_missing_line_values()
		lines = self.validate_items()
		self.validate_masters_belong_to_organisation()
		apply_tracking(self)  # the order's tracking fills its lines'; all of it active in Xero
		self.calculate_totals(lines)
		self.set_uninvoiced_figures()
		self.update(base_figures(self, invoiced=False))
		self.keep_quote_link()
		self.set_status()

	def before_update_after_submit(self):
		# Frappe runs no validate() here. No field of a submitted order allows changes on submit, so Frappe
		# refuses any change after this; this check names the derived figures first, with a clear message.
		self.validate_derived_figures_unchanged()

	def before_cancel(self):
		# Frappe checks no field on cancel: nothing but the docstatus may change (status follows on_cancel).
		self.validate_derived_figures_unchanged()
		self.validate_update_after_submit()
		self.validate_no_live_invoices()
		# Dead (voided/deleted) invoices keep their link for the audit trail; they must not block.
		self.ignore_linked_doctypes = ("Xero Invoice",)

	def on_cancel(self):
		# validate() does not run on cancel, so the status is written here; on submit validate() has set it.
		self.set_status(update=True)

	def print_parties(self) -> dict:
		"""The order confirmation's seller block (the organisation's legal name, address and tax number as Xero
		holds them) and the customer's address in Xero."""
		return {
			"seller": seller(self.connection, self.tenant_id),
			"customer_address": frappe.db.get_value("Xero Contact", self.customer, "address")
			if self.customer
			else None,
		}

	def validate_amended_from(self):
		"""Frappe copies the attachments of the order named in ``amended_from`` and names the new one after it,
		without checking it: only a cancelled order the user may amend can be amended."""
		if not self.amended_from:
			return
		docstatus = frappe.db.get_value(self.doctype, self.amended_from, "docstatus")
		if docstatus != 2 or not frappe.has_permission(self.doctype, "amend", self.amended_from):
			throw(
				_("Only a cancelled Xero Sales Order you may amend can be amended, not {0}").format(
					self.amended_from
				),
				frappe.PermissionError,
			)

	def validate_header(self):
		self.currency = (self.currency or "").strip().upper()
		if not CURRENCY_CODE.match(self.currency):
			throw(
				_("Currency must be a three-letter ISO code such as USD or NZD, not {0!r}").format(
					self.currency
				),
				InvalidOrderError,
			)
		try:
			validate_line_amount_type(self.line_amount_type)
		except LineValidationError as e:
			throw(str(e), InvalidOrderError)
		if self.expected_date and getdate(self.expected_date) < getdate(self.order_date):
			throw(_("Expected Date cannot be before the Order Date"), InvalidOrderError)

	def set_organisation(self):
		"""The order is invoiced in the customer's Xero organisation."""
		self._customer_organisation = None
		if self.customer:
			contact = frappe.db.get_value(
				"Xero Contact", self.customer, ["connection", "tenant_id"], as_dict=True
			)
			if contact:
				self.connection = self.connection or contact.connection
				self.tenant_id = self.tenant_id or contact.tenant_id
				self._customer_organisation = (contact.connection or None, contact.tenant_id or None)
		if not (self.currency or "").strip():
			# Not the site's default: the customer's currency in Xero, else its organisation's base currency.
			self.currency = starting_currency(self.connection, self.tenant_id, self.customer) or ""

	def set_missing_line_values(self):
		"""Fills what the line leaves empty from its Xero item; tax type and rate always follow the tax link."""
		defaults_by_item = {}  # an item on several lines is looked up once
		for row in self.items:
			if row.item:
				if row.item not in defaults_by_item:
					defaults_by_item[row.item] = item_line_defaults(row.item)
				defaults = defaults_by_item[row.item]
				for field in ("item_code", "description", "account", "account_code", "tax", "tax_type"):
					if not row.get(field) and defaults.get(field):
						row.set(field, defaults[field])
				if row.unit_price is None:
					row.unit_price = defaults["unit_price"]
			if row.tax:
				tax = frappe.get_cached_value("Xero Tax Rate", row.tax, ["tax_type", "effective_rate"])
				if tax:
					row.tax_type, row.tax_rate = tax
			if row.account:
				row.account_code = frappe.get_cached_value("Xero Account", row.account, "account_code")

	def validate_masters_belong_to_organisation(self):
		"""A customer, item, tax rate or account of another Xero organisation cannot appear on the order."""
		organisation = (self.connection or None, self.tenant_id or None)
		if self._customer_organisation and self._customer_organisation != organisation:
			throw(
				_("{0} {1} belongs to another Xero organisation than this order").format(
					_("Xero Contact"), self.customer
				),
				InvalidOrderError,
			)
		wanted = {
			"Xero Item": {r.item for r in self.items if r.item},
			"Xero Tax Rate": {r.tax for r in self.items if r.tax},
			"Xero Account": {r.account for r in self.items if r.account},
		}
		for doctype, names in wanted.items():
			if not names:
				continue
			for row in frappe.get_all(
				doctype, {"name": ["in", list(names)]}, ["name", "connection", "tenant_id"]
			):
				if (row.connection or None, row.tenant_id or None) != (
					self.connection or None,
					self.tenant_id or None,
				):
					throw(
						_("{0} {1} belongs to another Xero organisation than this order").format(
							_(doctype), row.name
						),
						InvalidOrderError,
					)

	def validate_items(self) -> list:
		"""Checks every line as Xero would and returns the lines' figures as Decimals."""
		if not self.items:
			throw(_("Add at least one line to the order"), InvalidOrderError)
		lines = []
		for row in self.items:
			if not (row.item_code or row.description):
				throw(_("Row {0}: give an item code or a description").format(row.idx), InvalidOrderError)
			try:
				line = parse_line(row.qty, row.unit_price, row.discount_rate, row.tax_rate, row.idx)
			except LineValidationError as e:
				throw(str(e), InvalidOrderError, title=_("Invalid order line"))
			row.qty, row.unit_price = line.qty, line.unit_price
			row.discount_rate, row.tax_rate = line.discount_rate, line.tax_rate
			lines.append(line)
		return lines

	def calculate_totals(self, lines: list):
		priced = []
		for row, line in zip(self.items, lines, strict=True):
			p = price_line(line, self.line_amount_type)
			kept = bool(self.flags.xero_quote_amounts and row.amounts_from_xero)
			if kept:
				# An order made from a Xero quote (services.quote_orders sets the flag; no request can) keeps
				# Xero's figures of a line Xero priced otherwise (a DiscountAmount, a TaxAmount typed in Xero).
				amount = round_money(to_decimal(row.line_amount))
				p = PricedLine(
					amount,
					round_money(to_decimal(row.tax_amount)),
					p.line_amount + p.discount_amount - amount,
				)
			priced.append(p)
			row.line_amount = p.line_amount
			row.tax_amount = p.tax_amount
			row.amounts_from_xero = int(kept)  # else only an import carries Xero's figures: priced here
		try:
			t = totals(priced, self.line_amount_type)
		except LineValidationError as e:  # a total the columns cannot hold
			throw(str(e), InvalidOrderError, title=_("Invalid order"))
		self.subtotal, self.total_discount = t.subtotal, t.total_discount
		self.total_tax, self.grand_total = t.total_tax, t.grand_total

	def set_uninvoiced_figures(self):
		"""validate() runs only for a new order, a draft, or a draft being submitted, and only submitted
		orders are invoiced (create_invoice refuses drafts): whatever the request sent, nothing is invoiced,
		paid or closed yet. The invoice counter and the import batch keep what the app stored."""
		for row in self.items:
			row.invoiced_qty = row.invoiced_amount = row.invoiced_tax = 0
			row.outstanding_qty = row.qty
			row.outstanding_amount = row.line_amount
		self.invoiced_amount = self.invoiced_tax = self.paid_amount = self.credited_amount = ZERO
		self.due_amount = ZERO
		self.outstanding_amount = self.grand_total
		self.per_invoiced = 0
		self.deposit_amount = self.deposit_paid = self.deposit_deducted = self.deposit_remaining = ZERO
		self.is_closed = 0
		stored = self.get_doc_before_save()
		self.invoice_counter = stored.invoice_counter if stored else 0
		self.import_batch = stored.import_batch if stored else None

	def keep_quote_link(self):
		"""The Xero quote link and its INVOICED state keep what the app stored, whatever a request sends; an
		order made from a quote brings its own (``flags.from_xero_quote``), an amendment its cancelled order's
		link (the INVOICED state starts again)."""
		if self.flags.from_xero_quote:
			return
		stored = self.get_doc_before_save()
		source = stored
		if stored is None and self.amended_from:
			source = frappe.db.get_value(self.doctype, self.amended_from, QUOTE_LINK_FIELDS, as_dict=True)
		for field in QUOTE_FIELDS:
			keep = source is not None and (stored is not None or field in QUOTE_LINK_FIELDS)
			self.set(field, source.get(field) if keep else None)

	def validate_derived_figures_unchanged(self):
		"""417 when a request on a submitted order sends a derived figure other than the stored one."""
		stored = self.get_doc_before_save() or frappe.get_doc(self.doctype, self.name)
		changed = {self.meta.get_label(f) for f in DERIVED_FIELDS if _differs(self, stored, f)}
		stored_rows = {row.name: row for row in stored.items}
		for row in self.items:
			before = stored_rows.get(row.name)
			changed.update(row.meta.get_label(f) for f in DERIVED_LINE_FIELDS if _differs(row, before, f))
		if changed:
			throw(
				_(
					"{0} of {1} are derived from its invoices and the Close / Re-open actions; they cannot be set"
				).format(", ".join(sorted(changed)), self.name),
				DerivedFieldError,
				title=_("Derived figures"),
			)

	def set_status(self, update=False):
		status = derive_status(
			self.docstatus, bool(self.is_closed), [(qty(r.qty), qty(r.invoiced_qty)) for r in self.items]
		)
		if update and status != self.status:
			frappe.db.set_value(self.doctype, self.name, "status", status, update_modified=False)
		self.status = status

	def validate_no_live_invoices(self):
		if has_live_invoices(self.name):
			throw(
				_("Cannot cancel {0}: it has invoices that are not voided or deleted in Xero").format(
					self.name
				),
				OrderStateError,
			)


def _differs(doc, stored, fieldname: str) -> bool:
	"""Whether ``doc`` carries another value than ``stored`` (None: a row that is not stored, all zero)."""
	value = doc.get(fieldname)
	before = stored.get(fieldname) if stored else None
	fieldtype = doc.meta.get_field(fieldname).fieldtype
	if fieldtype in ("Int", "Check"):
		return cint(value) != cint(before)
	if fieldtype in ("Float", "Currency", "Percent"):
		return flt(value, 9) != flt(before, 9)
	return cstr(value) != cstr(before)


def on_doctype_update():
	# The order book's indexes (services.reporting.ORDER_BOOK_INDEXES), for a new site's table too.
	add_order_book_indexes("Xero Sales Order")
