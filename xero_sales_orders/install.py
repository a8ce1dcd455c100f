import frappe

from xero_sales_orders.permissions import APP_ROLES


def after_install():
	for role in APP_ROLES:
		if not frappe.db.exists("Role", role):
			frappe.get_doc({"doctype": "Role", "role_name": role, "desk_access": 1}).insert(
				ignore_permissions=True
			)


def before_uninstall():
	for role in APP_ROLES:
		if frappe.db.exists("Role", role):
			frappe.db.delete("Has Role", {"role": role})
			frappe.delete_doc("Role", role, force=True, ignore_permissions=True)
