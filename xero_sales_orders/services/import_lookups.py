"""What the grouping rules and the writer need to know from this site: tax rates, contacts, invoices already
imported, invoice numbers and names taken, and the lengths of the columns Xero's texts go to. Every lookup
with an IN (...) list is split into chunks so that no query grows without bound, and written by
``import_sql.literal`` (``frappe.get_all`` spends some 0.1 ms a value building such a filter: 10,000
invoices' lookups cost 0.3 s that way)."""

from decimal import Decimal

import frappe

from xero_sales_orders.core.money import to_decimal
from xero_sales_orders.services.import_sql import literal
from xero_sales_orders.services.order_invoicing import INVOICE, ORDER

IN_CHUNK = 2000
# Characters kept free in an imported invoice's name for the suffix that tells two organisations' numbers apart.
NAME_SUFFIX_ROOM = 4


def chunks(values: list, size: int = IN_CHUNK):
	for start in range(0, len(values), size):
		yield values[start : start + size]


def rows_in(doctype: str, fields: str, column: str, values, where: str = "", args: tuple = ()) -> list[tuple]:
	"""``fields`` of the rows of ``doctype`` whose ``column`` is one of ``values`` (and ``where``, a condition
	with %s placeholders for ``args``), a chunk of values per query."""
	found = []
	for chunk in chunks(list(values)):
		listed = ", ".join(literal(value) for value in chunk)
		if args:  # the driver formats the query with the args: a % in a value is written %%
			listed = listed.replace("%", "%%")
		condition = f"{where} and " if where else ""
		query = f"select {fields} from `tab{doctype}` where {condition}`{column}` in ({listed})"
		found.extend(frappe.db.sql(query, args) if args else frappe.db.sql(query))
	return found


def tax_rates(batch) -> dict[str, Decimal]:
	rows = frappe.get_all(
		"Xero Tax Rate",
		{"connection": batch.connection, "tenant_id": batch.tenant_id},
		["tax_type", "effective_rate"],
	)
	return {r.tax_type: to_decimal(r.effective_rate) for r in rows}


def imported_invoices(invoice_ids: list[str]) -> dict[str, str]:
	"""Xero InvoiceID -> order, for invoices already linked here (by any batch or by the invoicing)."""
	return dict(rows_in(INVOICE, "xero_invoice_id, sales_order", "xero_invoice_id", invoice_ids))


def taken_numbers(invoices: list[dict], tenant_id: str) -> set[str]:
	"""Numbers of these invoices that another invoice of the same organisation uses here (two
	organisations may both have an INV-0001)."""
	ids = {i["number"]: i["id"] for i in invoices}
	rows = rows_in(
		INVOICE, "invoice_number, xero_invoice_id", "invoice_number", ids, "tenant_id = %s", (tenant_id,)
	)
	return {number for number, invoice_id in rows if invoice_id != ids.get(number)}


def free_invoice_names(numbers: list[str]) -> dict[str, str]:
	"""The document name for each new invoice: its number, or, where another organisation's invoice has
	that name already, the number with the first free suffix (INV-0001-2). One query per chunk and
	suffix tried, however many numbers clash (a second organisation's import may clash on every one)."""
	names, wanted, suffix = {}, list(dict.fromkeys(numbers)), 1
	while wanted:
		candidates = {number: number if suffix == 1 else f"{number}-{suffix}" for number in wanted}
		used = {name for (name,) in rows_in(INVOICE, "name", "name", candidates.values())}
		names.update({number: name for number, name in candidates.items() if name not in used})
		wanted = [number for number, name in candidates.items() if name in used]
		suffix += 1
	return names


def known_contacts(contact_ids_: set[str]) -> set[str]:
	return {name for (name,) in rows_in("Xero Contact", "name", "name", sorted(contact_ids_))}


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
