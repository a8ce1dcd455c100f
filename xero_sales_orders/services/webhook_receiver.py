"""Receiving one webhook delivery: verify Xero's signature over the raw body, store its events in one
insert, raise the drain's flag. Everything else happens in the background (webhook_drain.py)."""

import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

import frappe

from xero_sales_orders.services import webhook_config
from xero_sales_orders.services.webhook_drain import request_drain
from xero_sales_orders.services.webhook_processing import EVENT
from xero_sales_orders.xero.parsing import loads, parse_xero_date
from xero_sales_orders.xero.webhooks import verify

MAX_BODY_BYTES = 1024 * 1024  # Xero's deliveries are a few KB; anything near this is not Xero.
KNOWN_CATEGORIES = ("INVOICE", "CONTACT", "CREDITNOTE")
EVENT_FIELDS = (
	"event_category",
	"event_type",
	"resource_id",
	"resource_url",
	"event_date",
	"status",
	"tenant_id",
	"connection",
	"dedupe_key",
	"error",
	"attempts",
)
# What frappe.db.bulk_insert writes besides the event's own fields: it fills no column itself, so these are
# given as Frappe's own bulk insert of documents gives them; docstatus and idx keep the table's default, 0.
STANDARD_FIELDS = ("name", "creation", "modified", "owner", "modified_by")
NAME_LENGTH = 20  # of the dedupe key's hex digits


class Rejected(Exception):
	def __init__(self, status: int, message: str):
		super().__init__(message)
		self.status = status


def receive(body: bytes, signature: str | None) -> int:
	"""Verifies and stores one delivery; returns how many events were queued. Raises Rejected."""
	if len(body) > MAX_BODY_BYTES:
		raise Rejected(413, "body too large")
	config = webhook_config.current()
	# One HMAC per webhook key, however many connections (consents of one Xero app) share it.
	signed_by = {
		name for key, names in config.signers.items() if verify(body, signature, key) for name in names
	}
	if not signed_by:
		raise Rejected(401, "signature mismatch")
	try:
		payload = loads(body)
	except ValueError:
		raise Rejected(400, "body is not JSON") from None
	events = payload.get("events") if isinstance(payload, dict) else None
	if not isinstance(events, list):
		raise Rejected(400, "body has no events list")
	if not events:
		return 0  # Xero's intent-to-receive probe
	tenants = {tenant: conn for tenant, conn in config.tenants.items() if conn in signed_by}
	rows, queued = [], 0
	for event in events:
		row = event_row(event, tenants)
		if row is None:
			raise Rejected(400, "malformed event")
		queued += row["status"] == "Queued"
		rows.append(row)
	store_events(rows, datetime.now(ZoneInfo(config.time_zone)).replace(tzinfo=None))
	if queued:
		frappe.db.after_commit.add(request_drain)
	return queued


def store_events(rows: list[dict], now: datetime) -> None:
	"""One INSERT IGNORE for the delivery: an event Xero sends twice meets its dedupe key and is dropped.
	The name is the start of the dedupe key, so that a name can only be taken by the same event, never
	drop another one as a random name that collided would."""
	user = frappe.session.user
	values = [
		(row["dedupe_key"][:NAME_LENGTH], now, now, user, user, *(row[field] for field in EVENT_FIELDS))
		for row in rows
	]
	frappe.db.bulk_insert(EVENT, [*STANDARD_FIELDS, *EVENT_FIELDS], values, ignore_duplicates=True)


def _credit_note_type(event: dict) -> str | None:
	data = event.get("data")
	return data.get("Type") if isinstance(data, dict) else None


def event_row(event, tenants: dict[str, str]) -> dict | None:
	if not isinstance(event, dict):
		return None
	fields = {
		k: event.get(k) for k in ("tenantId", "resourceId", "eventCategory", "eventType", "eventDateUtc")
	}
	if not all(isinstance(v, str) and v for v in fields.values()):
		return None
	try:
		event_date = parse_xero_date(fields["eventDateUtc"]).replace(tzinfo=None)
	except ValueError:
		return None
	dedupe = "|".join(fields[k] for k in ("tenantId", "resourceId", "eventDateUtc", "eventType"))
	connection = tenants.get(fields["tenantId"].lower())
	status, error = "Queued", None
	if not connection:
		status, error = "Ignored", "no Xero Connection on this site has this organisation"
	elif fields["eventCategory"] not in KNOWN_CATEGORIES:
		status, error = "Ignored", f"{fields['eventCategory']} events are not used"
	elif fields["eventCategory"] == "CREDITNOTE" and _credit_note_type(event) == "ACCPAYCREDIT":
		# Only credit note events carry data{Type, Status} (facts §6): a supplier's is not the app's.
		status, error = "Ignored", "ACCPAYCREDIT (supplier) credit notes are not used"
	return {
		"event_category": fields["eventCategory"][:140],
		"event_type": fields["eventType"][:140],
		"resource_id": fields["resourceId"][:140],
		"resource_url": str(event.get("resourceUrl") or "")[:140],
		"event_date": event_date,
		"status": status,
		"tenant_id": fields["tenantId"][:140],
		"connection": connection,
		"dedupe_key": hashlib.sha256(dedupe.encode()).hexdigest(),
		"error": error,
		"attempts": 0,
	}
