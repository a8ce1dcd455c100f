"""Lookups the order form makes on the synced Xero masters, and the customer it may create in Xero."""

import frappe
from frappe import _

from xero_sales_orders.api.xero_answers import xero_answers
from xero_sales_orders.exceptions import throw
from xero_sales_orders.permissions import require_permission
from xero_sales_orders.services import new_contacts
from xero_sales_orders.services.master_lookups import item_line_defaults
from xero_sales_orders.services.xero_endpoints import CONNECTION

ORDER = "Xero Sales Order"
CONTACT = "Xero Contact"


@frappe.whitelist()
def item_defaults(item):
	"""What Xero's item says for a new order line: description, unit price, account and tax."""
	if not isinstance(item, str) or not frappe.db.exists("Xero Item", item):
		throw(_("Xero Item {0} not found").format(item), frappe.DoesNotExistError)
	frappe.has_permission("Xero Item", "read", item, throw=True)
	return item_line_defaults(item)


def _check_may_pick(connection) -> None:
	"""Picking a connection on an order is its ``select`` right (sales users and managers have it)."""
	if not isinstance(connection, str) or not frappe.db.exists(CONNECTION, connection):
		throw(_("Xero Connection {0} not found").format(connection), frappe.DoesNotExistError)
	require_permission(CONNECTION, "select", connection, _("raise orders in this Xero connection"))


@frappe.whitelist()
def organisations():
	"""The organisations of the connected Xero connections the user may pick on an order."""
	names = [
		name
		for name in frappe.get_all(CONNECTION, {"status": "Connected"}, pluck="name", order_by="name asc")
		if frappe.has_permission(CONNECTION, "select", name)
	]
	return new_contacts.organisations(names)


@frappe.whitelist()
def customer_defaults(customer):
	"""What a new order takes from its customer: the organisation and the currency (the contact's own
	default currency in Xero, else the organisation's base currency)."""
	if not isinstance(customer, str) or not frappe.db.exists(CONTACT, customer):
		throw(_("Xero Contact {0} not found").format(customer), frappe.DoesNotExistError)
	frappe.has_permission(CONTACT, "read", customer, throw=True)
	contact = new_contacts.summary(customer)
	base = frappe.db.get_value(
		"Xero Connection Tenant",
		{"parent": contact.get("connection"), "tenant_id": contact.get("tenant_id")},
		"base_currency",
	)
	return {
		"connection": contact.get("connection"),
		"tenant_id": contact.get("tenant_id"),
		"organisation": contact.get("organisation"),
		"currency": contact.get("default_currency") or base,
	}


@frappe.whitelist(methods=["POST"])
def new_contact(
	connection,
	tenant_id,
	contact_name,
	email=None,
	account_number=None,
	payment_terms_day=None,
	payment_terms_type=None,
	request_id=None,
):
	"""Creates a customer in the organisation's Xero and in the synced list, to pick on an order at once.

	Answers ``{"created": true, "contact": {...}}``, or, when Xero holds a contact of that name or account
	number, ``{"created": false, "taken": "name" | "account_number", "message": ..., "contact": {...}}``.
	Sending the same ``request_id`` again never makes a second contact. Creating customers is part of
	raising orders (the order's ``create`` right) in a connection the user may pick (its ``select`` right).
	"""
	require_permission(ORDER, "create", action=_("create Xero contacts for orders"))
	_check_may_pick(connection)
	fields = {
		"contact_name": contact_name,
		"email": email,
		"account_number": account_number,
		"payment_terms_day": payment_terms_day,
		"payment_terms_type": payment_terms_type,
	}
	with xero_answers():
		return new_contacts.create_contact(connection, tenant_id, fields, request_id)


@frappe.whitelist()
@frappe.validate_and_sanitize_search_inputs
def contact_query(doctype, txt, searchfield, start, page_len, filters, as_dict=False, reference_doctype=None):
	"""The Xero Contact link search (the hooks' standard query): each contact with its organisation, so
	that two "Boom FM", one per organisation, are told apart. Only contacts the user may read."""
	pattern = f"%{txt or ''}%"
	rows = frappe.get_list(
		CONTACT,
		filters=filters or {},
		or_filters=[
			["contact_name", "like", pattern],
			["email", "like", pattern],
			["account_number", "like", pattern],
			["name", "like", pattern],
		],
		fields=["name", "contact_name", "connection", "tenant_id", "email", "account_number"],
		order_by="contact_name asc",
		start=start,
		page_length=page_len,
	)
	tenants = {
		(t.parent, t.tenant_id): t.tenant_name
		for t in frappe.get_all(
			"Xero Connection Tenant",
			filters={"parent": ["in", list({r.connection for r in rows if r.connection})]},
			fields=["parent", "tenant_id", "tenant_name"],
		)
	}
	return [
		(
			r.name,
			r.contact_name,
			tenants.get((r.connection, r.tenant_id)) or "",
			r.email or "",
			r.account_number or "",
		)
		for r in rows
	]
