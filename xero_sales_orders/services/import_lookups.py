"""What the grouping rules and the writer need to know from this site: tax rates, contacts, invoices already
imported, invoice numbers and names taken, and the lengths of the columns Xero's texts go to. Every lookup
with an IN (...) list is split into chunks so that no query grows without bound."""

from decimal import Decimal

import frappe

from xero_sales_orders.core.money import to_decimal
from xero_sales_orders.services.order_invoicing import INVOICE, ORDER

IN_CHUNK = 2000
# Characters kept free in an imported invoice's name for the suffix that tells two organisations' numbers apart.
NAME_SUFFIX_ROOM = 4


def chunks(values: list, size: int = IN_CHUNK):
	for start in range(0, len(values), size):
		yield values[start : start + size]


def tax_rates(batch) -> dict[str, Decimal]:
	rows = frappe.get_all(
		"Xero Tax Rate",
		{"connection": batch.connection, "tenant_id": batch.tenant_id},
		["tax_type", "effective_rate"],
	)
	return {r.tax_type: to_decimal(r.effective_rate) for r in rows}


def imported_invoices(invoice_ids: list[str]) -> dict[str, str]:
	"""Xero InvoiceID -> order, for invoices already linked here (by any batch or by the invoicing)."""
	found = {}
	for chunk in chunks(invoice_ids):
		for row in frappe.get_all(
			INVOICE, {"xero_invoice_id": ["in", chunk]}, ["xero_invoice_id", "sales_order"]
		):
			found[row.xero_invoice_id] = row.sales_order
	return found


def taken_numbers(invoices: list[dict], tenant_id: str) -> set[str]:
	"""Numbers of these invoices that another invoice of the same organisation uses here (two
	organisations may both have an INV-0001)."""
	ids = {i["number"]: i["id"] for i in invoices}
	taken = set()
	for chunk in chunks(list(ids)):
		for row in frappe.get_all(
			INVOICE,
			{"tenant_id": tenant_id, "invoice_number": ["in", chunk]},
			["invoice_number", "xero_invoice_id"],
		):
			if row.xero_invoice_id != ids.get(row.invoice_number):
				taken.add(row.invoice_number)
	return taken


def free_invoice_names(numbers: list[str]) -> dict[str, str]:
	"""The document name for each new invoice: its number, or, where another organisation's invoice has
	that name already, the number with the first free suffix (INV-0001-2). One query per chunk and
	suffix tried, however many numbers clash (a second organisation's import may clash on every one)."""
	names, wanted, suffix = {}, list(dict.fromkeys(numbers)), 1
	while wanted:
		candidates = {number: number if suffix == 1 else f"{number}-{suffix}" for number in wanted}
		used = set()
		for chunk in chunks(list(candidates.values())):
			used.update(frappe.get_all(INVOICE, {"name": ["in", chunk]}, pluck="name"))
		names.update({number: name for number, name in candidates.items() if name not in used})
		wanted = [number for number, name in candidates.items() if name in used]
		suffix += 1
	return names


def known_contacts(contact_ids_: set[str]) -> set[str]:
	known = set()
	for chunk in chunks(sorted(contact_ids_)):
		known.update(frappe.get_all("Xero Contact", {"name": ["in", chunk]}, pluck="name"))
	return known


# Where the import writes each of Xero's texts: (doctype, field) per key of import_grouping.TEXT_LIMITS.
TEXT_COLUMNS = {
	"po_number": (ORDER, "po_number"),
	"reference": (INVOICE, "reference"),
	"invoice_number": (INVOICE, "invoice_number"),
	"contact_name": (ORDER, "customer_name"),
	"item_code": ("Xero Sales Order Item", "item_code"),
	"account_code": ("Xero Sales Order Item", "account_code"),
	"tax_type": ("Xero Sales Order Item", "tax_type"),
}


def text_limits() -> dict[str, int]:
	"""The lengths of the columns the import writes Xero's texts to, from the doctypes (140 by default)."""
	from frappe.database.database import Database

	limits = {}
	for key, (doctype, fieldname) in TEXT_COLUMNS.items():
		df = frappe.get_meta(doctype).get_field(fieldname)
		limits[key] = (df and df.length) or Database.VARCHAR_LEN
	# An invoice's document name is its number, sometimes with a suffix (INV-0001-2): keep room for it.
	limits["invoice_number"] = min(limits["invoice_number"], Database.VARCHAR_LEN - NAME_SUFFIX_ROOM)
	return limits
