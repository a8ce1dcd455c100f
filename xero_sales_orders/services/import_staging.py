"""The invoices a batch's preview fetched, stored page by page as they come (Xero Import Invoice rows): the
import works on exactly these, without asking Xero again.

Each row is one Xero invoice in the compact form of ``import_fetch.compact_invoice`` (JSON), under the id of
the group it belongs to (``core.import_grouping.group_id``), named after its batch and Xero InvoiceID: an
invoice that comes again (a resumed fetch, or changed in Xero while the fetch ran) replaces its row, so the
store holds each invoice once, as Xero last sent it.
"""

import json

import frappe

from xero_sales_orders.services.import_sql import insert_statements, run, standard_fields

STAGING = "Xero Import Invoice"


def row_name(batch_name: str, invoice_id: str) -> str:
	return f"{batch_name}-{invoice_id}"


def store_page(batch_name: str, invoices: list[dict], group_ids: list[str]) -> None:
	"""Stores one fetched page (compact invoices and their group ids); an invoice stored before is replaced."""
	run(page_statements(batch_name, invoices, group_ids))


def page_statements(batch_name: str, invoices: list[dict], group_ids: list[str]) -> list[str]:
	"""The statements of ``store_page``, written, not run."""
	standard = standard_fields()
	rows = [
		{
			**standard,
			"name": row_name(batch_name, invoice["id"]),
			"docstatus": 0,
			"idx": 0,
			"batch": batch_name,
			"invoice_id": invoice["id"],
			"invoice_number": invoice["number"],
			"contact_id": invoice["contact_id"],
			"group_id": group_id,
			"data": json.dumps(invoice, separators=(",", ":")),
		}
		for invoice, group_id in zip(invoices, group_ids, strict=True)
	]
	return insert_statements(
		STAGING, rows, update=("invoice_number", "contact_id", "group_id", "data", "modified"), chunk=500
	)


def stored_count(batch_name: str) -> int:
	return frappe.db.count(STAGING, {"batch": batch_name})


def read_groups(batch_name: str, after: str | None, limit: int) -> list[tuple[str, dict]]:
	"""Up to ``limit`` stored invoices whose group id follows ``after``, in group id order (an index range):
	the reader ``core.import_grouping.read_in_groups`` asks for."""
	rows = frappe.db.sql(
		f"""select group_id, data from `tab{STAGING}`
		where batch = %s and group_id > %s order by group_id limit %s""",
		(batch_name, after or "", int(limit)),
	)
	return [(group_id, json.loads(data)) for group_id, data in rows]


def invoices_of_groups(batch_name: str, group_ids: list[str]) -> dict[str, list[dict]]:
	"""The stored invoices of these groups, by group id."""
	found: dict[str, list[dict]] = {}
	if not group_ids:
		return found
	for group_id, data in frappe.db.sql(
		f"select group_id, data from `tab{STAGING}` where batch = %s and group_id in %s",
		(batch_name, group_ids),
	):
		found.setdefault(group_id, []).append(json.loads(data))
	return found


def unknown_contacts(batch_name: str) -> bool:
	"""Whether a stored invoice is for a contact that is not synced here (created in Xero since the last sync)."""
	return bool(
		frappe.db.sql(
			f"""select 1 from `tab{STAGING}` staged
			left join `tabXero Contact` contact on contact.name = staged.contact_id
			where staged.batch = %s and contact.name is null limit 1""",
			batch_name,
		)
	)
