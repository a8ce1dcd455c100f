"""The app's roles, and the permission checks of whitelisted methods and of the app's documents, whatever door a
request comes through.

Doctype JSON permissions are the source of truth: a whitelisted action checks the doctype right it stands for
(``require_permission``: closing an order is its ``cancel`` right, retrying a push ``write`` on the invoice,
managing a connection ``write`` on it), ``require_role_permission`` asks what the user's *roles* grant on a
doctype (a share or ownership does not count), and ``validate_share`` keeps a share from handing out a right that
the user's roles do not already grant. ``require_roles`` is left for the one action no doctype right stands for
(retrying webhook events, which managers may read but not write). ``frappe.only_for`` is skipped in tests, so it
is not used. The desk asks Frappe's permission API (``frappe.perm.has_perm``, ``frappe.model.can_write``), and
reads ``MANAGER_ROLES`` from the boot info for that one action.
"""

import frappe
from frappe import _
from frappe.permissions import get_role_permissions

SALES_USER = "Xero Sales User"
SALES_MANAGER = "Xero Sales Manager"
# The roles the app brings (install.py creates them, DESIGN.md describes them): users raise orders and invoices;
# managers also close, cancel and import. What each may do is in the doctype JSONs.
APP_ROLES = (SALES_USER, SALES_MANAGER)
# For ``require_roles`` where no doctype right fits.
MANAGER_ROLES = (SALES_MANAGER, "System Manager")
MODULE = "Xero Sales Orders"
# Rights a share can grant beyond read; Frappe gives them per document, past every role rule.
SHARED_RIGHTS = ("write", "submit", "share")


def require_permission(doctype: str, ptype: str, name: str | None = None, action: str | None = None) -> None:
	"""Refuses (403) unless the doctype's permissions grant ``ptype`` (on the document ``name`` when given, where
	user permissions and shares count too, as everywhere in Frappe)."""
	if frappe.has_permission(doctype, ptype, name):
		return
	frappe.local.flags.disable_traceback = True
	frappe.throw(
		_("You are not permitted to {0}: it needs the {1} permission on {2}").format(
			action or _(ptype), _(ptype), f"{_(doctype)} {name}" if name else _(doctype)
		),
		frappe.PermissionError,
	)


def extend_bootinfo(bootinfo) -> None:
	"""extend_bootinfo hook: the desk reads ``MANAGER_ROLES`` from here (``frappe.boot.xso_manager_roles``) where no
	doctype right fits, so that the list exists once."""
	bootinfo.xso_manager_roles = list(MANAGER_ROLES)


def require_roles(roles, action: str) -> None:
	if frappe.session.user == "Administrator":
		return
	if not set(roles) & set(frappe.get_roles()):
		frappe.local.flags.disable_traceback = True
		frappe.throw(
			_("You need the role {0} to {1}").format(_(" or ").join(roles), action), frappe.PermissionError
		)


def roles_with(doctype: str, ptype: str) -> list[str]:
	"""The roles whose doctype permissions (permission level 0) grant ``ptype`` on ``doctype``."""
	return sorted({p.role for p in frappe.get_meta(doctype).permissions if p.get(ptype) and not p.permlevel})


def require_role_permission(doc, ptype: str) -> None:
	"""Refuses (403) unless the user's roles grant ``ptype`` on the document's doctype.

	Controllers call it on save and delete, so that a share (or an owner rule) never lets anyone else write
	a document that only some roles may write.
	"""
	if frappe.session.user == "Administrator" or frappe.flags.in_install or frappe.flags.in_migrate:
		return
	if get_role_permissions(doc.meta).get(ptype):
		return
	verbs = {"create": _("create"), "write": _("change"), "delete": _("delete")}
	frappe.local.flags.disable_traceback = True
	frappe.throw(
		_("Only {0} can {1} {2} {3}").format(
			_(" or ").join(roles_with(doc.doctype, ptype)) or _("the app itself"),
			verbs.get(ptype, ptype),
			_(doc.doctype),
			doc.name or "",
		),
		frappe.PermissionError,
	)


def validate_share(share, method=None) -> None:
	"""doc_events hook on DocShare (every share, whichever door made it: frappe.share.add, set_permission,
	a DocShare insert or update over REST): a share of one of the app's documents may grant write, submit or
	share only to a user whose roles already grant that right on the doctype, and never to everyone."""
	if not share.share_doctype or frappe.get_meta(share.share_doctype).module != MODULE:
		return
	granted = [right for right in SHARED_RIGHTS if share.get(right)]
	if not granted:
		return
	frappe.local.flags.disable_traceback = True
	if share.everyone:
		frappe.throw(
			_("{0} {1} cannot be shared with everyone for {2}").format(
				_(share.share_doctype), share.share_name, ", ".join(granted)
			),
			frappe.PermissionError,
		)
	rights = get_role_permissions(frappe.get_meta(share.share_doctype), user=share.user)
	missing = [right for right in granted if not rights.get(right)]
	if missing:
		frappe.throw(
			_("{0} {1} cannot be shared with {2} for {3}: only {4} may have that right on a {0}").format(
				_(share.share_doctype),
				share.share_name,
				share.user,
				", ".join(missing),
				_(" or ").join(roles_with(share.share_doctype, missing[0])) or _("nobody"),
			),
			frappe.PermissionError,
		)
