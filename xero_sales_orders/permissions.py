"""Role checks for whitelisted methods (frappe.only_for is skipped in tests, so it is not used)."""

import frappe
from frappe import _

MANAGER_ROLES = ("Xero Sales Manager", "System Manager")
CONNECTION_ROLES = ("System Manager",)


def require_roles(roles, action: str) -> None:
	if frappe.session.user == "Administrator":
		return
	if not set(roles) & set(frappe.get_roles()):
		frappe.local.flags.disable_traceback = True
		frappe.throw(
			_("You need the role {0} to {1}").format(_(" or ").join(roles), action), frappe.PermissionError
		)
