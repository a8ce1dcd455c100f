"""Applying stored webhook events: Xero's events are hints that arrive late, twice and out of order and
carry no data but the resource id, so the changed invoices and contacts are fetched from Xero, 50 ids to a
call, and applied only when Xero's UpdatedDateUTC is newer than what is stored."""

from collections import defaultdict

import frappe
from frappe.utils import now_datetime

from xero_sales_orders.services import xero_clients
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
	calls_per_organisation, stops there for each organisation and reports that more are left."""
	events = frappe.get_all(
		EVENT,
		filters={"status": ["in", list(statuses)], "attempts": ["<", MAX_ATTEMPTS]},
		fields=["name", "connection", "tenant_id", "event_category", "resource_id"],
		order_by="event_date asc",
		limit=limit,
	)
	groups = defaultdict(lambda: defaultdict(list))
	for event in events:
		groups[(event.connection, event.tenant_id, event.event_category)][event.resource_id].append(event)
	done = {"events": len(events), "processed": 0, "ignored": 0, "failed": 0, "deferred": 0, "left": 0}
	limited, calls, clients = set(), defaultdict(int), {}
	try:
		for (connection, tenant_id, category), by_id in groups.items():
			organisation = (connection, tenant_id)
			ids = list(by_id)
			for start in range(0, len(ids), IDS_PER_CALL):
				chunk = [event for rid in ids[start : start + IDS_PER_CALL] for event in by_id[rid]]
				if organisation in limited:
					done["deferred"] += len(chunk)
					continue
				if calls_per_organisation and calls[organisation] >= calls_per_organisation:
					done["left"] += len(chunk)
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
	done["more"] = bool(done["left"]) or len(events) == limit
	return done


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
			outcome[("Ignored", "not an invoice raised by this app")].append(event.name)
	return outcome
