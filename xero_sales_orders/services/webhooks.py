"""Xero webhooks: verify and store fast in the request, apply in the background.

Xero's events are hints: they arrive late, twice and out of order, and carry no data but the
resource id. Each is stored once (dedupe key), then the changed invoices are fetched in batches of
50 ids and applied only when Xero's UpdatedDateUTC is newer than what is stored.
"""

import hashlib
import secrets
import time
from collections import defaultdict
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

import frappe
from frappe import _
from frappe.utils import get_system_timezone, now_datetime
from frappe.utils.password import get_decrypted_password

from xero_sales_orders.services import connection as connections
from xero_sales_orders.services.push import apply_xero_invoices
from xero_sales_orders.services.sync import MASTERS, upsert
from xero_sales_orders.xero.errors import XeroRateLimitError
from xero_sales_orders.xero.parsing import loads, parse_xero_date
from xero_sales_orders.xero.webhooks import verify

EVENT = "Xero Webhook Event"
MAX_BODY_BYTES = 1024 * 1024  # Xero's deliveries are a few KB; anything near this is not Xero.
MAX_ATTEMPTS = 5
KNOWN_CATEGORIES = ("INVOICE", "CONTACT")
STANDARD_COLUMNS = ("name", "creation", "modified", "owner", "modified_by", "docstatus", "idx")
IDS_PER_CALL = 50  # longer IDs lists overflow Xero's query string (a 404, not a 400)


class Rejected(Exception):
	def __init__(self, status: int, message: str):
		super().__init__(message)
		self.status = status


# Per process and site: (config version, webhook key per connection, connection per tenant). Verifying
# a delivery must cost microseconds, not a decryption per connection; the keys stay out of Redis, which
# only holds a version number that any change to a connection bumps.
#
# Redis may lose the number (a restart without persistence, a flush, an eviction). A series that restarted at
# 1 would repeat numbers that workers cached an old key under, so a lost number starts a fresh series at a
# random point (never one seen before), and a worker that cannot read a number reloads every time.
_config_cache: dict[str, tuple] = {}
CONFIG_VERSION_KEY = "xso:webhook-config-version"


def _fresh_series() -> int:
	return secrets.randbits(62)


def _bump_config_version() -> None:
	key = frappe.cache.make_key(CONFIG_VERSION_KEY)
	frappe.cache.set(key, _fresh_series(), nx=True)  # a lost counter restarts at a random point, not at 1
	frappe.cache.incr(key)


def config_version() -> bytes | None:
	"""The current version, starting a fresh series when Redis has none; None when Redis cannot say."""
	key = frappe.cache.make_key(CONFIG_VERSION_KEY)
	try:
		version = frappe.cache.get(key)
		if version is None:
			frappe.cache.set(key, _fresh_series(), nx=True)
			version = frappe.cache.get(key)
	except Exception:  # Redis unreachable: no version to trust, so nothing cached is trusted either
		return None
	return version


def forget_webhook_config(*args, **kwargs) -> None:
	"""Called when a Xero Connection or the System Settings (time zone) change (hooks.py doc_events): now,
	and again once the change is committed, so that no worker caches what it read in between."""
	_bump_config_version()
	frappe.db.after_commit.add(_bump_config_version)


class WebhookConfig(NamedTuple):
	keys: dict[str, str]  # connection -> webhook key
	tenants: dict[str, str]  # organisation id (lower case) -> connection
	time_zone: str  # the site's, for the events' timestamps


def webhook_config() -> WebhookConfig:
	version = config_version()
	cached = _config_cache.get(frappe.local.site)
	if version is not None and cached and cached[0] == version:
		return cached[1]
	keys = {}
	for name in frappe.get_all(connections.CONNECTION, pluck="name"):
		key = get_decrypted_password(connections.CONNECTION, name, "webhook_key", raise_exception=False)
		if key:
			keys[name] = key
	connected = set(frappe.get_all(connections.CONNECTION, {"status": "Connected"}, pluck="name"))
	tenants = {}
	rows = frappe.get_all(
		"Xero Connection Tenant",
		filters={"parenttype": connections.CONNECTION},
		fields=["tenant_id", "parent"],
		order_by="modified asc",
	)
	# A connected consent wins over a stale one for the same organisation; ids compare case-insensitively.
	for row in sorted(rows, key=lambda r: r.parent in connected):
		tenants[row.tenant_id.lower()] = row.parent
	config = WebhookConfig(keys, tenants, get_system_timezone())
	if version is None:
		_config_cache.pop(frappe.local.site, None)
	else:
		_config_cache[frappe.local.site] = (version, config)
	return config


def receive(body: bytes, signature: str | None) -> int:
	"""Verifies and stores one delivery; returns how many events were queued. Raises Rejected."""
	if len(body) > MAX_BODY_BYTES:
		raise Rejected(413, "body too large")
	config = webhook_config()
	signed_by = {name for name, key in config.keys.items() if verify(body, signature, key)}
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


# Draining: one background job at a time applies queued events. A delivery, once its events are
# committed, raises the "pending" flag and enqueues a drain only if the flag was down, so a burst of
# deliveries costs one Redis command each and one job. A drain lowers the flag before it reads the
# events and looks at it again after each pass, so no committed event is left waiting for the next
# delivery; a drain that finds another one running leaves the work to it. Passes are at least
# PASS_INTERVAL apart and make at most CALLS_PER_PASS calls per organisation, so that events arriving
# in a stream share Xero calls and the drain uses half of Xero's 60 calls a minute, leaving the rest
# for pushes and syncs, and spreads its work instead of loading the server in bursts.
PENDING_KEY = "xso:webhook-drain-pending"
RUNNING_KEY = "xso:webhook-drain-running"
PENDING_TTL = 60  # a lost job (a flushed queue) stops new ones for at most this long
PASS_INTERVAL = 2.0
CALLS_PER_PASS = 1
PASS_EVENTS = 250  # the oldest first; a pass reads no more than it can use
DRAIN_SECONDS = 120  # then a fresh job carries on, well inside the short queue's timeout
RUNNING_TTL = DRAIN_SECONDS + 5 * 60  # a drain killed mid-pass stops others for at most this long


def request_drain() -> None:
	if frappe.cache.set(frappe.cache.make_key(PENDING_KEY), 1, nx=True, ex=PENDING_TTL):
		frappe.enqueue("xero_sales_orders.services.webhooks.drain", queue="short")


def drain(batch: int = PASS_EVENTS, retry_failed: bool = False) -> None:
	"""Applies Queued events until none are pending. Failed ones wait for the scheduled pass
	(retry_failed), a minute apart, so that an organisation that keeps failing is not hammered."""
	pending, running = frappe.cache.make_key(PENDING_KEY), frappe.cache.make_key(RUNNING_KEY)
	started = time.monotonic()
	while frappe.cache.get(pending):
		if not frappe.cache.set(running, 1, nx=True, ex=RUNNING_TTL):
			return  # the running drain sees the flag after its pass
		try:
			while True:
				frappe.cache.delete(pending)
				pass_started = time.monotonic()
				if retry_failed:
					process_queued(batch, statuses=("Failed",), calls_per_organisation=CALLS_PER_PASS)
					retry_failed = False
				done = process_queued(batch, calls_per_organisation=CALLS_PER_PASS)
				if done["deferred"]:
					# Xero is limiting an organisation: rest with the flag up, so that deliveries start
					# no drain meanwhile; its expiry or the per-minute drain resumes.
					frappe.cache.set(pending, 1, ex=PENDING_TTL)
					return
				if not done["more"] and not frappe.cache.get(pending):
					break
				if time.monotonic() - started > DRAIN_SECONDS:
					frappe.cache.set(pending, 1, ex=PENDING_TTL)
					frappe.enqueue("xero_sales_orders.services.webhooks.drain", queue="short")
					return
				time.sleep(max(0.0, pass_started + PASS_INTERVAL - time.monotonic()))
		finally:
			frappe.cache.delete(running)


def retry(names: list[str]) -> int:
	"""Queues Failed events again with their attempts started over (after a fault has been fixed); the
	drain after the commit applies them. Any other status is refused, and then nothing changes."""
	table = frappe.qb.DocType(EVENT)
	rows = (
		frappe.qb.from_(table).select(table.name, table.status).where(table.name.isin(names)).for_update()
	).run()
	found = dict(rows)
	if missing := [name for name in names if name not in found]:
		frappe.throw(
			_("Xero Webhook Event {0} not found").format(", ".join(missing)), frappe.DoesNotExistError
		)
	if others := [f"{name} ({status})" for name, status in found.items() if status != "Failed"]:
		frappe.throw(_("Only Failed events can be retried, not {0}").format(", ".join(others)))
	(
		frappe.qb.update(table)
		.set(table.status, "Queued")
		.set(table.attempts, 0)
		.set(table.error, None)
		.where(table.name.isin(names))
	).run()
	frappe.db.after_commit.add(request_drain)
	return len(names)


def drain_scheduled() -> None:
	"""Every minute: retries Failed events that have attempts left, and anything a lost job stranded."""
	frappe.cache.set(frappe.cache.make_key(PENDING_KEY), 1, ex=PENDING_TTL)
	drain(retry_failed=True)


def store_events(rows: list[dict], now: datetime) -> None:
	"""One INSERT IGNORE for the delivery: an event Xero sends twice meets its dedupe key and is dropped.
	Written as plain SQL because building it with the query builder cost more than the rest of the request."""
	columns = [*STANDARD_COLUMNS, *rows[0]]
	values = []
	for row in rows:
		values += [frappe.generate_hash(length=12), now, now, "Guest", "Guest", 0, 0, *row.values()]
	placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(rows))
	frappe.db.sql(
		f"insert ignore into `tab{EVENT}` ({', '.join(f'`{c}`' for c in columns)}) values {placeholders}",
		values,
	)


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
						clients[organisation] = connections.client_for(connection, tenant_id)
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
