# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

from frappe.model.document import Document


class XeroCreditNoteItem(Document):
	pass
