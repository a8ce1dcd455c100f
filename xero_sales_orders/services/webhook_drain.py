"""When stored webhook events are applied: one background drain at a time, asked for by a delivery's
commit, by a manager's retry and every minute by the scheduler (hooks.py).

A delivery, once its events are committed, raises the "pending" flag and enqueues a drain only if the flag
was down, so a burst of deliveries costs one Redis command each and one job. A drain lowers the flag before
it reads the events and looks at it again after each pass, so no committed event is left waiting for the
next delivery; a drain that finds another one running leaves the work to it. A pass makes at most
CALLS_PER_PASS calls per organisation and starts at least PASS_INTERVAL after the last pass started,
whichever job ran it (the start is kept in Redis, so a job handing over to the next one does not make the
next pass early), so that events arriving in a stream share Xero calls and the drain uses under half of
Xero's 60 calls in any minute, leaving the rest for pushes and syncs, and spreads its work instead of loading
the server in bursts.
"""

import time

import frappe
from frappe import _

from xero_sales_orders.services.webhook_processing import EVENT, process_queued

DRAIN_JOB = "xero_sales_orders.services.webhook_drain.drain"
PENDING_KEY = "xso:webhook-drain-pending"
RUNNING_KEY = "xso:webhook-drain-running"
LAST_PASS_KEY = "xso:webhook-drain-last-pass"  # when the last pass started (epoch seconds)
PENDING_TTL = 60  # a lost job (a flushed queue) stops new ones for at most this long
# 60 / 2.05 = 29.3 passes a minute: the margin over 2 s absorbs how much sooner one pass's call may reach
# Xero after its start than another's (the benchmark met 31 calls in a minute at exactly 2 s).
PASS_INTERVAL = 2.05
CALLS_PER_PASS = 1
PASS_EVENTS = 250  # the oldest first; a pass reads no more than it can use
DRAIN_SECONDS = 120  # then a fresh job carries on, well inside the short queue's timeout
RUNNING_TTL = DRAIN_SECONDS + 5 * 60  # a drain killed mid-pass stops others for at most this long
LAST_PASS_TTL = 60


def request_drain() -> None:
	if frappe.cache.set(frappe.cache.make_key(PENDING_KEY), 1, nx=True, ex=PENDING_TTL):
		frappe.enqueue(DRAIN_JOB, queue="short")


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
				_rest_after_last_pass()
				frappe.cache.set(frappe.cache.make_key(LAST_PASS_KEY), time.time(), ex=LAST_PASS_TTL)
				if retry_failed:  # a pass of its own: its calls count against the drain's half too
					done = process_queued(batch, statuses=("Failed",), calls_per_organisation=CALLS_PER_PASS)
					retry_failed = False
					done["more"] = True  # the Queued events' pass comes next
				else:
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
					frappe.enqueue(DRAIN_JOB, queue="short")
					return
		finally:
			frappe.cache.delete(running)


def _rest_after_last_pass() -> None:
	"""Waits until PASS_INTERVAL after the last pass started, in this job or the one before it."""
	last = frappe.cache.get(frappe.cache.make_key(LAST_PASS_KEY))
	if last is not None:
		time.sleep(min(PASS_INTERVAL, max(0.0, float(last) + PASS_INTERVAL - time.time())))


def drain_scheduled() -> None:
	"""Every minute: retries Failed events that have attempts left, and anything a lost job stranded."""
	frappe.cache.set(frappe.cache.make_key(PENDING_KEY), 1, ex=PENDING_TTL)
	drain(retry_failed=True)


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
