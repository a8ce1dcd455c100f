"""Applying stored webhook events: Xero's events are hints that arrive late, twice and out of order and
carry no data but the resource id, so the changed invoices and contacts are fetched from Xero, 50 ids to a
call, and applied only when Xero's UpdatedDateUTC is newer than what is stored."""

from collections import defaultdict

import frappe
from frappe.query_builder.functions import Count, Min
from frappe.utils import now_datetime

from xero_sales_orders.services import xero_clients
from xero_sales_orders.services.credit_note_updates import (
	apply_xero_credit_notes,
	follow_invoice_credit_notes,
)
from xero_sales_orders.services.invoice_updates import apply_xero_invoices
from xero_sales_orders.services.master_sync import MASTERS, upsert
from xero_sales_orders.xero.errors import XeroRateLimitError

EVENT = "Xero Webhook Event"
MAX_ATTEMPTS = 5
IDS_PER_CALL = 50  # longer IDs lists overflow Xero's query string (a 404, not a 400)


def process_queued(
	limit: int = 5000, statuses=("Queued",), calls_per_organisation: int | None = None
) -> dict:
	"""Applies events of these statuses (Failed ones while they have attempts left), grouped by organisation
	and category, 50 resource ids to a Xero call, each call's changes committed on their own. With
	calls_per_organisation, stops there for each organisation and reports that more are left.

	Each organisation's waiting resources are read on their own, oldest first, so that every call carries 50
	different ids unless fewer are waiting: N changed invoices cost ceil(N / 50) calls to their organisation,
	however the events of several organisations interleave. ``limit`` bounds the resource ids one pass reads.
	"""
	table = frappe.qb.DocType(EVENT)
	waiting = table.status.isin(list(statuses)) & (table.attempts < MAX_ATTEMPTS)
	groups = (
		frappe.qb.from_(table)
		.select(table.connection, table.tenant_id, table.event_category, Count("*").as_("events"))
		.where(waiting)
		.groupby(table.connection, table.tenant_id, table.event_category)
		.orderby(Min(table.event_date))
	).run(as_dict=True)
	done = {"events": 0, "processed": 0, "ignored": 0, "failed": 0, "deferred": 0, "left": 0}
	limited, calls, clients = set(), defaultdict(int), {}
	budget = limit
	try:
		for group in groups:
			connection, tenant_id, category = group.connection, group.tenant_id, group.event_category
			organisation = (connection, tenant_id)
			if organisation in limited:
				done["deferred"] += group.events
				continue
			allowed = budget
			if calls_per_organisation:
				allowed = min(allowed, (calls_per_organisation - calls[organisation]) * IDS_PER_CALL)
			by_id = _waiting_events(table, waiting, group, allowed) if allowed > 0 else {}
			budget -= len(by_id)
			taken = sum(len(events) for events in by_id.values())
			done["events"] += taken
			done["left"] += group.events - taken
			ids = list(by_id)
			for start in range(0, len(ids), IDS_PER_CALL):
				chunk = [event for rid in ids[start : start + IDS_PER_CALL] for event in by_id[rid]]
				if organisation in limited:
					done["deferred"] += len(chunk)
					continue
				calls[organisation] += 1
				try:
					# One client (and one HTTPS connection) per organisation for the whole pass.
					if organisation not in clients:
						clients[organisation] = xero_clients.client_for(connection, tenant_id)
					outcome = apply_chunk(clients[organisation], connection, tenant_id, category, chunk)
					for (status, error), names in outcome.items():
						mark(names, status, error)
						done[status.lower()] += len(names)
					frappe.db.commit()
				except XeroRateLimitError:
					# Not a failure: the organisation's events stay Queued. The shared rate limiter keeps every
					# worker from calling Xero for it until Xero's Retry-After has passed; a later drain (the
					# scheduled one runs every minute) applies them.
					frappe.db.rollback()
					limited.add(organisation)
					done["deferred"] += len(chunk)
				except Exception as e:
					frappe.db.rollback()
					names = [event.name for event in chunk]
					mark(names, "Failed", error=str(e)[:500])
					done["failed"] += len(names)
					frappe.db.commit()
	finally:
		for client in clients.values():
			client.close()
	done["more"] = bool(done["left"])
	return done


def _waiting_events(table, waiting, group, ids: int) -> dict[str, list]:
	"""The group's oldest ``ids`` waiting resources, each with its waiting events (oldest first)."""
	of_group = (
		waiting
		& (table.connection == group.connection)
		& (table.tenant_id == group.tenant_id)
		& (table.event_category == group.event_category)
	)
	resource_ids = (
		frappe.qb.from_(table)
		.select(table.resource_id)
		.where(of_group)
		.groupby(table.resource_id)
		.orderby(Min(table.event_date))
		.limit(ids)
	).run(pluck=True)
	if not resource_ids:
		return {}
	by_id = {rid: [] for rid in resource_ids}
	for event in (
		frappe.qb.from_(table)
		.select(table.name, table.resource_id)
		.where(of_group & table.resource_id.isin(resource_ids))
		.orderby(table.event_date)
	).run(as_dict=True):
		by_id[event.resource_id].append(event)
	return by_id


def mark(names: list[str], status: str, error: str | None = None) -> None:
	if not names:
		return
	table = frappe.qb.DocType(EVENT)
	(
		frappe.qb.update(table)
		.set(table.status, status)
		.set(table.attempts, table.attempts + 1)
		.set(table.processed_at, now_datetime())
		.set(table.error, error)
		.where(table.name.isin(names))
	).run()


def apply_chunk(
	client, connection: str, tenant_id: str, category: str, events: list
) -> dict[tuple, list[str]]:
	"""Fetches the resources of one call's worth of events (at most IDS_PER_CALL ids) and applies them;
	returns the events by (status, reason)."""
	ids = list(dict.fromkeys(event.resource_id for event in events))
	if category == "INVOICE":
		found = {inv["InvoiceID"]: inv for inv in client.invoices(ids=ids)}
		applied = set(apply_xero_invoices(list(found.values()), connection, tenant_id))
		# A credit note raised in Xero against one of our invoices shows in its CreditNotes (one more call).
		follow_invoice_credit_notes(client, list(found.values()), connection, tenant_id)
	elif category == "CREDITNOTE":
		# No IDs list for credit notes: 25 ids to a call in ``where``; the invoices credited are read back.
		found = {note["CreditNoteID"]: note for note in client.credit_notes(ids=ids)}
		applied = set(apply_xero_credit_notes(client, list(found.values()), connection, tenant_id))
	else:
		master = MASTERS["contacts"]
		params = {"IDs": ",".join(ids), "includeArchived": "true"}
		contacts = client.get("/Contacts", params=params).get("Contacts") or []
		upsert(master, connection, tenant_id, [master.fields(c) for c in contacts])
		found = {c["ContactID"]: c for c in contacts}
		applied = set(found)
	outcome = defaultdict(list)
	for event in events:
		if event.resource_id in applied:
			outcome[("Processed", None)].append(event.name)
		elif event.resource_id not in found:
			outcome[("Ignored", "no longer exists in Xero")].append(event.name)
		else:
			what = (
				"a credit note of this app's invoices"
				if category == "CREDITNOTE"
				else "an invoice raised by this app"
			)
			outcome[("Ignored", f"not {what}")].append(event.name)
	return outcome
