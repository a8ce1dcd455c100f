"""The import's orchestration: the requests that queue a preview or an import (or stop one), the background
import of a previewed batch, and the state, progress and failures both jobs record on the batch.

A request only checks and queues; the preview (``import_preview.run_preview``) and the import (``run_import``)
run on the long queue, commit as they go and record where they are, so a stopped or crashed job resumes where
it stopped: the preview without fetching again what it stored, the import without creating anything twice.

The import works on the invoices the preview stored (``import_staging``), a chunk of ``CHUNK`` groups at a
time in the preview's order: each group's proposal is the plan the preview kept (or, where the rules it was
made under changed since, made again), checked again against the site's current records (so an invoice
imported meanwhile by another batch is not imported twice), prepared with
``import_writer.OrderWriter`` and written by a thread of its own (``import_sql.BackgroundWriter``, while the
next chunk is prepared) with their group rows marked in the same transaction, which a re-run skips.
"""

import json
import time

import frappe
from frappe import _
from frappe.utils import now_datetime
from frappe.utils.background_jobs import is_job_enqueued

from xero_sales_orders.core.errors import ImportRuleError
from xero_sales_orders.core.import_grouping import (
	GROUP_BY_PATTERN,
	Rules,
	compile_po_pattern,
	flag_site,
	from_plan,
	new_group,
	propose,
)
from xero_sales_orders.exceptions import (
	ImportStateError,
	NeedsReconnectError,
	NotConnectedError,
	XeroUnreachableError,
	throw,
)
from xero_sales_orders.services import import_groups, import_staging
from xero_sales_orders.services.import_fetch import fetch_failure, source_header, source_invoice
from xero_sales_orders.services.import_lookups import (
	imported_invoices,
	known_contacts,
	taken_numbers,
	tax_rates,
	text_limits,
)
from xero_sales_orders.services.import_settings import (
	BATCH,
	COMPLETED,
	DRAFT,
	FAILED,
	IMPORTING,
	PREVIEWING,
	SETTINGS,
	STOPPED,
	validate_settings,
)
from xero_sales_orders.services.import_sql import BackgroundWriter
from xero_sales_orders.services.import_writer import OrderWriter
from xero_sales_orders.services.master_sync import sync_connection
from xero_sales_orders.services.order_invoicing import ORDER
from xero_sales_orders.services.xero_tokens import ensure_usable
from xero_sales_orders.xero.errors import XeroAPIError

# Groups per transaction: a crash loses at most this many orders' work, each commit costs little.
CHUNK = 500
PROGRESS_TITLE = "Importing Xero invoices"
# The background jobs (frappe.enqueue's method paths). Jobs queued before the import was split name
# xero_sales_orders.services.importing.run_import: patches/v1/requeue_import_jobs.py queues them again here.
RUN_IMPORT = "xero_sales_orders.services.import_runner.run_import"
RUN_PREVIEW = "xero_sales_orders.services.import_preview.run_preview"
RUNNING = (PREVIEWING, IMPORTING)


class Stopped(Exception):
	"""Raised inside a job when Stop was asked for: the job records Stopped and ends."""


def _lock(batch_name: str):
	if not frappe.db.exists(BATCH, batch_name):
		throw(_("Xero Import Batch {0} not found").format(batch_name), frappe.DoesNotExistError)
	frappe.db.sql(f"select name from `tab{BATCH}` where name = %s for update", batch_name)
	return frappe.get_doc(BATCH, batch_name)


def is_running(batch) -> bool:
	return batch.status in RUNNING and bool(batch.job_id) and is_job_enqueued(batch.job_id)


def _fail(batch_name: str, message: str, exc: type[Exception]) -> None:
	"""Records the failure on the batch (committed) and refuses with the same message."""
	frappe.db.rollback()
	frappe.db.set_value(BATCH, batch_name, {"status": FAILED, "error": message}, update_modified=False)
	frappe.db.commit()
	throw(message, exc, title=_("Xero import"))


def failure_message(error: Exception) -> str:
	if isinstance(error, XeroAPIError):
		return _("Xero refused while the invoices were fetched: {0}").format(error.message or error)
	return str(error)


def settings_signature(batch) -> dict:
	"""The settings a preview's stored invoices and groups were made with (a change means a new preview)."""
	return {field: str(batch.get(field) or "") for field in SETTINGS}


def job_id(batch_name: str, kind: str = "import") -> str:
	return f"xero-{kind}::{frappe.local.site}::{batch_name}"


# ---- requests -----------------------------------------------------------------------------------------------


def preview(batch_name: str, now: bool = False) -> dict:
	"""Queues the preview (a dry run that fetches the invoices, groups them and stores the proposed orders;
	it writes nothing else). A preview that stopped or failed before it finished goes on where it stopped;
	otherwise the preview starts over."""
	batch = _lock(batch_name)
	if is_running(batch):
		throw(
			_("Batch {0} is {1}; wait until it finishes, or stop it").format(
				batch.name, _(batch.status).lower()
			),
			ImportStateError,
		)
	validate_settings(batch)
	try:
		ensure_usable(batch.connection, frappe.db.get_value("Xero Connection", batch.connection, "status"))
	except (NeedsReconnectError, NotConnectedError, XeroUnreachableError) as e:
		frappe.clear_last_message()
		_fail(batch.name, failure_message(e), fetch_failure(e))
	signature = settings_signature(batch)
	state = json.loads(batch.fetch_cursor or "{}")
	resume = (
		batch.status in (PREVIEWING, STOPPED, FAILED)
		and not batch.previewed_at
		and state.get("settings") == signature
		and not state.get("fresh")
	)
	values = {
		"status": PREVIEWING,
		"error": None,
		"stop_requested": 0,
		"job_id": job_id(batch.name, "preview"),
	}
	if not resume:
		# The job clears the last preview's rows before it fetches (a large one takes a while to delete).
		values.update(fetch_cursor=json.dumps({"settings": signature, "fresh": True}), previewed_at=None)
	frappe.db.set_value(BATCH, batch.name, values)
	frappe.db.commit()
	_enqueue(RUN_PREVIEW, values["job_id"], batch.name, now)
	return {"batch": batch.name, "status": PREVIEWING, "job_id": values["job_id"], "resumed": resume}


def start(batch_name: str, now: bool = False) -> dict:
	"""Queues the import of a previewed batch; refused while a preview or an import of it runs."""
	batch = _lock(batch_name)
	if is_running(batch):
		throw(_("Batch {0} is already {1}").format(batch.name, _(batch.status).lower()), ImportStateError)
	if batch.status in (DRAFT, PREVIEWING) or not batch.previewed_at:
		throw(_("Preview batch {0} before importing it").format(batch.name), ImportStateError)
	job = job_id(batch.name)
	frappe.db.set_value(
		BATCH, batch.name, {"status": IMPORTING, "error": None, "job_id": job, "stop_requested": 0}
	)
	frappe.db.commit()
	enqueue_import(batch.name, job, now=now)
	return {"batch": batch.name, "status": IMPORTING, "job_id": job}


def stop(batch_name: str) -> dict:
	"""Asks the running preview or import to stop after its current page or chunk; Preview or Import again
	goes on from there. A batch whose job is gone (a worker that crashed) is marked Stopped at once."""
	batch = _lock(batch_name)
	if batch.status not in RUNNING:
		throw(_("Batch {0} is not previewing or importing").format(batch.name), ImportStateError)
	values = {"stop_requested": 1}
	if not is_running(batch):
		values["status"] = STOPPED
	frappe.db.set_value(BATCH, batch.name, values, update_modified=False)
	frappe.db.commit()
	return {"batch": batch.name, "status": values.get("status", batch.status), "stop_requested": True}


def enqueue_import(batch_name: str, job: str, now: bool = False) -> None:
	"""Queues ``run_import`` of the batch as the job ``job`` (not again while that job is queued or running)."""
	_enqueue(RUN_IMPORT, job, batch_name, now)


def _enqueue(method: str, job: str, batch_name: str, now: bool) -> None:
	frappe.enqueue(
		method, queue="long", timeout=3600, job_id=job, deduplicate=True, now=now, batch_name=batch_name
	)


# ---- what both jobs share -----------------------------------------------------------------------------------


def check_stop(batch_name: str) -> None:
	"""Raises Stopped when Stop was asked for (or the batch was marked Stopped while this job ran on)."""
	stop_requested, status = frappe.db.get_value(BATCH, batch_name, ["stop_requested", "status"])
	if stop_requested or status not in RUNNING:
		raise Stopped


def publish(batch_name: str, title: str, done: int, total: int, description: str) -> None:
	percent = 100 if not total else min(100, round(done * 100 / total, 1))
	frappe.publish_progress(percent, title=title, doctype=BATCH, docname=batch_name, description=description)


def finished(batch_name: str, stage: str) -> None:
	frappe.publish_realtime(
		"xero_import_done", {"batch": batch_name, "stage": stage}, doctype=BATCH, docname=batch_name
	)


def record_end(batch_name: str, error: Exception | None, stage: str) -> dict:
	"""After a job stopped (Stop) or failed: rolls back the unfinished chunk and records why (committed)."""
	frappe.db.rollback()
	if error is None or isinstance(error, Stopped):
		frappe.db.set_value(
			BATCH, batch_name, {"status": STOPPED, "stop_requested": 0, "error": None}, update_modified=False
		)
		frappe.db.commit()
		finished(batch_name, stage)
		return {"stopped": True}
	expected = isinstance(error, frappe.ValidationError | XeroAPIError | ImportRuleError)
	message = failure_message(error) if expected else _("{0} failed: {1}").format(_(stage.title()), error)
	if not expected:
		frappe.log_error(title=f"Xero {stage} {batch_name} failed")
	frappe.db.set_value(
		BATCH, batch_name, {"status": FAILED, "error": message, "stop_requested": 0}, update_modified=False
	)
	frappe.db.commit()
	finished(batch_name, stage)
	return {"error": message}


# ---- the import job -----------------------------------------------------------------------------------------


def _progress(batch_name: str, done: int, total: int) -> None:
	publish(batch_name, _(PROGRESS_TITLE), done, total, _("{0} of {1} orders").format(done, total))


def run_import(batch_name: str) -> dict:
	"""The background job: creates the orders of every importable group not imported yet, a chunk at a time."""
	batch = frappe.get_doc(BATCH, batch_name)
	started = time.monotonic()
	try:
		if not batch.previewed_at:
			throw(_("Preview batch {0} before importing it").format(batch_name), ImportStateError)
		if import_staging.unknown_contacts(batch_name):
			# Invoices of customers created in Xero since the last sync: pull the contacts first.
			sync_connection(batch.connection, kinds=["contacts"])
			frappe.db.commit()
		if not tax_rates(batch):
			sync_connection(batch.connection, kinds=["tax_rates"])
			frappe.db.commit()
		pattern = compile_po_pattern(batch.po_pattern) if batch.grouping == GROUP_BY_PATTERN else None
		lookups = {
			"tax_rates": tax_rates(batch),
			"text_limits": text_limits(),
			"voided_as_demand": bool(batch.get("voided_as_demand")),
		}
		lookups["digest"] = Rules.of(
			lookups["tax_rates"],
			text_limits=lookups["text_limits"],
			voided_as_demand=lookups["voided_as_demand"],
		).digest
		writer = OrderWriter(batch)
		total = batch.orders_to_create or 0
		created = frappe.db.count(ORDER, {"import_batch": batch_name})
		_progress(batch_name, created, total)
		background = BackgroundWriter()
		try:
			after = None
			while chunk := import_groups.importable_groups(batch_name, after, CHUNK):
				check_stop(batch_name)
				after = (chunk[-1][2], chunk[-1][0])
				count, unit = _prepare_chunk(batch, writer, chunk, pattern, lookups, created)
				# The chunk's order names are taken from their series: committed now, so that the series is
				# not held while the chunk is written (a chunk that then fails leaves a gap in the numbers).
				frappe.db.commit()
				created += count
				background.submit(unit)  # once the chunk before is committed
				_progress(batch_name, created - count, total)
			background.settle()
			frappe.db.commit()  # a new snapshot, which sees what the writer committed
		except Exception as e:
			# The chunk in flight is written (or fails) before the job says how it ended.
			raise background.settle(e) from None
		finally:
			background.close()
		log = _("{0} orders created at {1} ({2:.0f} s)").format(
			created, now_datetime(), time.monotonic() - started
		)
		frappe.db.set_value(
			BATCH,
			batch_name,
			{
				"status": COMPLETED,
				"error": None,
				"imported_at": now_datetime(),
				"orders_created": frappe.db.count(ORDER, {"import_batch": batch_name}),
				"import_log": "\n".join(filter(None, [batch.import_log, log])),
				"stop_requested": 0,
			},
		)
		frappe.db.commit()
		_progress(batch_name, total, total)
		finished(batch_name, "import")
		return {"created": created}
	except Exception as e:
		return record_end(batch_name, e, "import")


def _prepare_chunk(batch, writer: OrderWriter, chunk: list[tuple], pattern, lookups: dict, created: int):
	"""The chunk's groups as the preview's plans (or proposed again where a plan no longer applies), checked
	against the site's current records, and the rows of the importable ones. Returns how many orders they
	make and the unit that writes them and marks every group row (with its order, or with what now keeps it
	out) with the batch's count, in one transaction."""
	plans = {gid: plan for _, gid, _, plan in chunk}
	stored = import_staging.invoices_of_groups(batch.name, list(plans))
	groups, kept = [], set()  # in the preview's order, which numbers the orders
	for gid, plan in plans.items():
		if gid not in stored:
			continue
		group = plan and from_plan(
			json.loads(plan), [source_header(c) for c in stored[gid]], lookups["digest"]
		)
		if group:
			kept.add(gid)
		else:
			group = new_group([source_invoice(c) for c in stored[gid]], batch.grouping, pattern)
		groups.append((gid, group))
	invoices = [invoice.raw for _, group in groups for invoice in group.invoices]
	rules = Rules.of(
		lookups["tax_rates"],
		imported=imported_invoices([i["id"] for i in invoices]),
		taken_numbers=taken_numbers(invoices, batch.tenant_id),
		known_contacts=known_contacts({i["contact_id"] for i in invoices}),
		text_limits=lookups["text_limits"],
		voided_as_demand=lookups["voided_as_demand"],
	)
	proposed = []
	for gid, group in groups:
		if gid in kept:
			flag_site(group, rules)
		else:
			propose(group, rules)
		proposed.append(group)
	importable = [g for g in proposed if g.importable]
	blocked = import_groups.group_rows(batch.name, [g for g in proposed if not g.importable])
	prepared = writer.prepare(importable)
	marks = {
		import_groups.row_name(batch.name, group): order
		for group, order in zip(importable, prepared.names, strict=True)
	}
	total = created + len(importable)

	def write() -> None:
		writer.insert(prepared)
		import_groups.store_rows(blocked)
		import_groups.mark_orders(marks)
		frappe.db.set_value(BATCH, batch.name, "orders_created", total, update_modified=False)

	return len(importable), write
