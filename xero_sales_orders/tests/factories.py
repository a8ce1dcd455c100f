"""Factory helpers for the Frappe integration tests."""

import uuid

import frappe

from xero_sales_orders.core.master_fields import contact_fields
from xero_sales_orders.services.master_sync import MASTERS, upsert

SYSTEM_MANAGER = "xso-system-manager@example.com"


def make_contact(name="Test Customer Ltd", connection=None, tenant_id=None):
	"""A local Xero Contact, stored by the sync's own upsert (as a sync of Xero's contact would store it).

	Only the sync (and System Managers) write masters, so this works whoever the test is signed in as.
	"""
	contact = {"ContactID": str(uuid.uuid4()), "Name": name, "ContactStatus": "ACTIVE", "IsCustomer": True}
	upsert(MASTERS["contacts"], connection, tenant_id, [contact_fields(contact)])
	return frappe.get_doc("Xero Contact", contact["ContactID"])


def make_order(items=None, submit=True, **fields):
	customer = fields.pop("customer", None) or make_contact().name
	doc = frappe.get_doc(
		{
			"doctype": "Xero Sales Order",
			"customer": customer,
			"po_number": fields.pop("po_number", "PO-TEST"),
			"currency": fields.pop("currency", "NZD"),
			"line_amount_type": fields.pop("line_amount_type", "Exclusive"),
			"items": items
			or [
				{
					"item_code": "WIDGET",
					"description": "Widget",
					"qty": 10,
					"unit_price": 12.5,
					"tax_rate": 15,
				},
				{
					"item_code": "GADGET",
					"description": "Gadget",
					"qty": 3,
					"unit_price": 0.3333,
					"tax_rate": 15,
				},
			],
			**fields,
		}
	)
	doc.insert()
	if submit:
		doc.submit()
	return doc


def make_user(email, roles):
	"""A user with exactly ``roles``.

	Frappe gives System Manager to a new user while no other System Manager exists, so one is made first.
	"""
	if email != SYSTEM_MANAGER and not frappe.db.exists("User", SYSTEM_MANAGER):
		make_user(SYSTEM_MANAGER, ["System Manager"])
	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": email.split("@")[0], "send_welcome_email": 0}
		)
		user.insert(ignore_permissions=True)
	user = frappe.get_doc("User", email)
	user.remove_roles(*[r.role for r in user.roles if r.role not in roles])
	user.add_roles(*roles)
	return user
