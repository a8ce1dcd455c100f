"""A customer created in Xero from the order form ("New Xero contact"), and the organisations a user may
raise orders in.

The contact is created in Xero (``PUT /Contacts`` with an Idempotency-Key made from the request's own key) and
stored in the synced list the moment Xero answers, so the order can pick it at once. When Xero (or the synced
list, which is Xero's copy) already holds a contact of that name or account number, that contact is offered
instead of an error. A retry of the same request never makes a second contact: within minutes Xero replays its
first answer to the same key, the app remembers each request's contact for a day, and after that Xero's own
rule (a name is unique among active contacts) refuses a second one, which is then offered as the holder.
"""

import frappe
from frappe import _

from xero_sales_orders.core.errors import ContactRuleError
from xero_sales_orders.core.master_fields import contact_fields
from xero_sales_orders.core.new_contacts import (
	NewContact,
	holder,
	parse_new_contact,
	parse_request_id,
	taken_by,
)
from xero_sales_orders.exceptions import ContactHeldError, InvalidContactError, XeroRefusedError, throw
from xero_sales_orders.services.master_sync import MASTERS, upsert
from xero_sales_orders.services.xero_clients import client_for
from xero_sales_orders.services.xero_endpoints import CONNECTION
from xero_sales_orders.xero.errors import element_errors

CONTACT = "Xero Contact"
TENANT = "Xero Connection Tenant"
# How long a request's contact is remembered: a retry within it returns the same contact without a call.
REMEMBER_SECONDS = 24 * 3600
SUMMARY_FIELDS = (
	"name",
	"contact_name",
	"contact_status",
	"email",
	"account_number",
	"default_currency",
	"connection",
	"tenant_id",
)


def organisation(connection: str, tenant_id: str) -> frappe._dict:
	"""The connection's organisation row (name, base currency), or a 400 naming what is not there."""
	if not isinstance(connection, str) or not connection or not frappe.db.exists(CONNECTION, connection):
		throw(_("Xero Connection {0} not found").format(connection), InvalidContactError)
	row = frappe.db.get_value(
		TENANT,
		{"parent": connection, "parenttype": CONNECTION, "tenant_id": tenant_id or ""},
		["tenant_id", "tenant_name", "base_currency"],
		as_dict=True,
	)
	if not isinstance(tenant_id, str) or not tenant_id or not row:
		throw(
			_("Organisation {0} is not part of Xero Connection {1}").format(tenant_id, connection),
			InvalidContactError,
		)
	return row


def organisations(connections: list[str]) -> list[dict]:
	"""Every organisation of these connections, the default ones first, for the desk's choosers."""
	if not connections:
		return []
	rows = frappe.get_all(
		TENANT,
		filters={"parent": ["in", connections], "parenttype": CONNECTION},
		fields=["parent as connection", "tenant_id", "tenant_name", "base_currency", "is_default", "idx"],
		order_by="parent asc, is_default desc, idx asc",
	)
	names = [r.tenant_name for r in rows]
	for row in rows:
		# Two connections may each hold an organisation of the same name: the label says which.
		row.label = (
			f"{row.tenant_name} ({row.connection})" if names.count(row.tenant_name) > 1 else row.tenant_name
		)
		row.pop("idx", None)
	return rows


def summary(contact: str, organisation_name: str | None = None) -> dict:
	row = frappe.db.get_value(CONTACT, contact, list(SUMMARY_FIELDS), as_dict=True)
	if organisation_name is None and row:
		organisation_name = frappe.db.get_value(
			TENANT, {"parent": row.connection, "tenant_id": row.tenant_id}, "tenant_name"
		)
	return {**(row or {}), "organisation": organisation_name}


def create_contact(connection: str, tenant_id: str, fields: dict, request_id: str | None = None) -> dict:
	"""Creates the contact in Xero and in the synced list; returns ``{"created": True, "contact": ...}``, or,
	when Xero holds a contact of that name or account number, ``{"created": False, "taken": "name" |
	"account_number", "message": ..., "contact": <that contact>}`` (nothing created).

	Xero's other refusals are 417 with Xero's message; its conditions (limits, outage) reach the caller as
	the client raises them (``api.xero_answers`` turns them into 429 / 503 / 409).
	"""
	org = organisation(connection, tenant_id)
	try:
		new = parse_new_contact(
			fields.get("contact_name"),
			fields.get("email"),
			fields.get("account_number"),
			fields.get("payment_terms_day"),
			fields.get("payment_terms_type"),
		)
		request_id = parse_request_id(request_id)
	except ContactRuleError as e:
		throw(str(e), InvalidContactError, title=_("New Xero contact"))
	remembered_key = f"xso:new-contact:{connection}:{tenant_id}:{request_id}" if request_id else None
	if remembered_key:
		# expires=True: read Redis itself (a miss kept in this process's local cache must not hide a later set)
		remembered = frappe.cache.get_value(remembered_key, expires=True)
		if remembered and frappe.db.exists(CONTACT, remembered):
			return {"created": True, "replayed": True, "contact": summary(remembered, org.tenant_name)}

	local = _held_locally(connection, tenant_id, new)
	if local:
		reason, name = local
		return _offer(name, reason, _taken_message(new, reason), org)

	client = client_for(connection, tenant_id)
	try:
		key = f"xso-contact-{request_id}" if request_id else None
		element = client.create_contact(new.xero_body(), idempotency_key=key)
		errors = element_errors(element) if element else [_("Xero returned no contact")]
		if not errors and element.get("ContactID"):
			name = _store(connection, tenant_id, element)
			if remembered_key:
				frappe.cache.set_value(remembered_key, name, expires_in_sec=REMEMBER_SECONDS)
			return {"created": True, "contact": summary(name, org.tenant_name)}
		reason = taken_by(errors)
		if not reason:
			throw(
				_("Xero refused the contact: {0}").format(" ".join(errors)),
				XeroRefusedError,
				title=_("New Xero contact"),
			)
		found = holder(
			client.find_contacts(
				name=new.name if reason == "name" else None,
				account_number=new.account_number if reason == "account_number" else None,
			),
			new,
			reason,
		)
	finally:
		client.close()
	if not found:
		throw(_("Xero refused the contact: {0}").format(" ".join(errors)), ContactHeldError)
	if (found.get("ContactStatus") or "ACTIVE") != "ACTIVE":
		throw(
			_(
				"Xero's archived contact {0} holds account number {1}; restore it in Xero or give another number"
			).format(found.get("Name"), new.account_number),
			ContactHeldError,
		)
	name = _store(connection, tenant_id, found)
	return _offer(name, reason, " ".join(errors), org)


def _held_locally(connection: str, tenant_id: str, new: NewContact) -> tuple[str, str] | None:
	"""The synced contact (Xero's copy) that holds the new one's name (an active one) or account number.
	The database compares case-insensitively, as Xero does."""
	org = {"connection": connection, "tenant_id": tenant_id}
	name = frappe.db.get_value(CONTACT, {**org, "contact_name": new.name, "contact_status": "ACTIVE"})
	if name:
		return "name", name
	if new.account_number:
		name = frappe.db.get_value(
			CONTACT, {**org, "account_number": new.account_number, "contact_status": "ACTIVE"}
		)
		if name:
			return "account_number", name
	return None


def _taken_message(new: NewContact, reason: str) -> str:
	if reason == "name":
		return _("Xero already has a contact named {0}").format(new.name)
	return _("Xero already has a contact with account number {0}").format(new.account_number)


def _offer(name: str, reason: str, message: str, org) -> dict:
	return {
		"created": False,
		"taken": reason,
		"message": message,
		"contact": summary(name, org.tenant_name),
	}


def _store(connection: str, tenant_id: str, element: dict) -> str:
	"""Xero's contact in the synced list now (the sync's own upsert), committed: the order can pick it."""
	upsert(MASTERS["contacts"], connection, tenant_id, [contact_fields(element)])
	frappe.db.commit()
	return element["ContactID"]
