# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

import frappe
from frappe.tests.utils import FrappeTestCase

from xero_sales_orders.tests.factories import make_user

DOORS = {"Xero Import Group": {"label": "PO-1"}, "Xero Import Invoice": {"invoice_number": "INV-1"}}


class TestXeroImportGroup(FrappeTestCase):
	"""A preview's stored invoices and groups are written by the preview alone: no door writes them, not even a
	System Manager's save (ignore_permissions included), and Xero Sales Managers cannot read them directly."""

	def test_no_door_writes_a_previews_rows(self):
		make_user("xso-import-rows-admin@example.com", ["System Manager", "Xero Sales Manager"])
		make_user("xso-import-rows-manager@example.com", ["Xero Sales Manager"])
		for doctype, fields in DOORS.items():
			for user in ("xso-import-rows-admin@example.com", "xso-import-rows-manager@example.com"):
				frappe.set_user(user)
				try:
					with self.assertRaises(frappe.PermissionError, msg=(doctype, user)):
						frappe.get_doc({"doctype": doctype, **fields}).insert(ignore_permissions=True)
				finally:
					frappe.set_user("Administrator")
			self.assertFalse(frappe.db.exists(doctype, fields))
		self.assertFalse(
			frappe.has_permission("Xero Import Group", "read", user="xso-import-rows-manager@example.com")
		)
