"""Shares of the app's documents made before shares were checked against roles: a share keeps read, and keeps
write, submit or share only where the user's roles grant that right on the doctype (never for everyone)."""

import frappe
from frappe.permissions import get_role_permissions

from xero_sales_orders.permissions import MODULE, SHARED_RIGHTS


def execute():
	doctypes = frappe.get_all("DocType", {"module": MODULE, "istable": 0}, pluck="name")
	shares = frappe.get_all(
		"DocShare",
		{"share_doctype": ["in", doctypes]},
		["name", "share_doctype", "user", "everyone", *SHARED_RIGHTS],
	)
	for share in shares:
		granted = [right for right in SHARED_RIGHTS if share.get(right)]
		if not granted:
			continue
		rights = {} if share.everyone else get_role_permissions(share.share_doctype, user=share.user)
		taken_back = {right: 0 for right in granted if not rights.get(right)}
		if taken_back:
			frappe.db.set_value("DocShare", share.name, taken_back, update_modified=False)
