"""Telling the site's System Managers what needs them (a consent that must be reconnected), in the desk's
notification list."""

import frappe


def system_managers() -> list[str]:
	"""Every enabled System Manager but Administrator and Guest; Administrator when there is none."""
	has_role = frappe.qb.DocType("Has Role")
	user = frappe.qb.DocType("User")
	rows = (
		frappe.qb.from_(has_role)
		.join(user)
		.on(user.name == has_role.parent)
		.select(user.name)
		.distinct()
		.where(
			(has_role.role == "System Manager")
			& (has_role.parenttype == "User")
			& (user.enabled == 1)
			& (user.name.notin(["Administrator", "Guest"]))
		)
	).run()
	return [r[0] for r in rows] or ["Administrator"]


def notify_system_managers(subject: str, document_type: str, document_name: str) -> None:
	"""An alert for every System Manager, in the caller's transaction, linking to the document."""
	for user in system_managers():
		frappe.get_doc(
			{
				"doctype": "Notification Log",
				"subject": subject,
				"for_user": user,
				"type": "Alert",
				"document_type": document_type,
				"document_name": document_name,
			}
		).insert(ignore_permissions=True)
