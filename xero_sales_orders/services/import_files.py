"""The files a batch keeps, private and gzipped JSON: the snapshot of the invoices its preview fetched (the
import works on exactly these, without asking Xero again) and the stored preview (the proposed orders the
form pages through)."""

import gzip
import json

import frappe

from xero_sales_orders.services.import_settings import BATCH

# Files of a batch, told apart by the field they are attached to (Frappe may rename a file to keep names unique).
SNAPSHOT_FILE = "snapshot"
PREVIEW_FILE = "preview"


def file_filters(batch_name: str, kind: str) -> dict:
	return {"attached_to_doctype": BATCH, "attached_to_name": batch_name, "attached_to_field": kind}


def has_file(batch_name: str, kind: str) -> bool:
	return bool(frappe.db.exists("File", file_filters(batch_name, kind)))


def write_file(batch_name: str, kind: str, value) -> None:
	for old in frappe.get_all("File", file_filters(batch_name, kind), pluck="name"):
		frappe.delete_doc("File", old, ignore_permissions=True, force=True)
	content = gzip.compress(json.dumps(value, separators=(",", ":")).encode(), compresslevel=5)
	frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{batch_name}-{kind}.json.gz",
			"attached_to_doctype": BATCH,
			"attached_to_name": batch_name,
			"attached_to_field": kind,
			"is_private": 1,
			"content": content,
		}
	).insert(ignore_permissions=True)


def read_file(batch_name: str, kind: str):
	name = frappe.db.get_value("File", file_filters(batch_name, kind))
	if not name:
		return None
	with open(frappe.get_doc("File", name).get_full_path(), "rb") as f:
		return json.loads(gzip.decompress(f.read()))


def preview_rows(batch_name: str) -> list[dict]:
	return read_file(batch_name, PREVIEW_FILE) or []
