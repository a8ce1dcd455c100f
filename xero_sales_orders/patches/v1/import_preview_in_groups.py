"""Previews are kept as rows now (Xero Import Invoice, Xero Import Group), no longer as two gzipped JSON files
attached to the batch (``snapshot`` and ``preview``). A batch previewed the old way and not imported yet goes
back to Draft with a note, so that Preview fetches it again the new way (its Import would find nothing to
work on); the old files are deleted. Imported batches keep their status and orders."""

import frappe

BATCH = "Xero Import Batch"
OLD_FILES = ("snapshot", "preview")


def execute():
	files = frappe.get_all(
		"File",
		{"attached_to_doctype": BATCH, "attached_to_field": ["in", OLD_FILES]},
		["name", "attached_to_name"],
	)
	batches = {f.attached_to_name for f in files}
	for name in batches:
		status = frappe.db.get_value(BATCH, name, "status")
		if status in ("Previewed", "Failed", "Importing") and not frappe.db.exists(
			"Xero Import Group", {"batch": name}
		):
			frappe.db.set_value(
				BATCH,
				name,
				{
					"status": "Draft",
					"previewed_at": None,
					"error": "Preview again: previews are now stored group by group",
				},
				update_modified=False,
			)
	for f in files:
		frappe.delete_doc("File", f.name, ignore_permissions=True, force=True)
