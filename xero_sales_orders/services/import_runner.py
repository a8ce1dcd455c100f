"""The import's orchestration: the preview (dry run: fetch, group, store) and the background import of a
previewed batch, with its job, its progress and its failures recorded on the batch.

The import works on the snapshot the preview stored, writes orders with ``import_writer.OrderWriter`` and
commits every ``CHUNK`` orders. Every invoice records its Xero InvoiceID and batch, so a re-run (after a
crash, a stop or on purpose) skips what exists.
"""

import frappe
from frappe import _
from frappe.utils import now_datetime
from frappe.utils.background_jobs import is_job_enqueued

from xero_sales_orders.core.errors import ImportRuleError
from xero_sales_orders.core.import_grouping import (
	GROUP_BY_PATTERN,
	ProposedOrder,
	build_proposed_orders,
	compile_po_pattern,
	preview_row,
	summarise,
)
from xero_sales_orders.exceptions import (
	ImportSettingsError,
	ImportStateError,
	NeedsReconnectError,
	NotConnectedError,
	XeroUnreachableError,
	throw,
)
from xero_sales_orders.services.import_fetch import fetch_failure, fetch_invoices, source_invoice
from xero_sales_orders.services.import_files import (
	PREVIEW_FILE,
	SNAPSHOT_FILE,
	has_file,
	preview_rows,
	read_file,
	write_file,
)
from xero_sales_orders.services.import_lookups import (
	chunks,
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
	PREVIEWED,
	validate_settings,
)
from xero_sales_orders.services.import_writer import OrderWriter
from xero_sales_orders.services.master_sync import sync_connection
from xero_sales_orders.services.order_invoicing import ORDER
from xero_sales_orders.xero.errors import XeroAPIError

# Orders per transaction: a crash loses at most this many orders' work, each commit costs little.
CHUNK = 250
PROGRESS_TITLE = "Importing Xero invoices"
# The background job (frappe.enqueue's method path). Jobs queued before the import was split name
# xero_sales_orders.services.importing.run_import: patches/v1/requeue_import_jobs.py queues them again here.
RUN_IMPORT = "xero_sales_orders.services.import_runner.run_import"


def propose(batch, invoices: list[dict], contacts: set[str] | None = None) -> list[ProposedOrder]:
	pattern = compile_po_pattern(batch.po_pattern) if batch.grouping == GROUP_BY_PATTERN else None
	return build_proposed_orders(
		[source_invoice(i) for i in invoices],
		batch.grouping,
		pattern,
		tax_rates(batch),
		imported=imported_invoices([i["id"] for i in invoices]),
		taken_numbers=taken_numbers(invoices, batch.tenant_id),
		known_contacts=contacts,
		text_limits=text_limits(),
		voided_as_demand=bool(batch.get("voided_as_demand")),
	)


def _lock(batch_name: str):
	if not frappe.db.exists(BATCH, batch_name):
		throw(_("Xero Import Batch {0} not found").format(batch_name), frappe.DoesNotExistError)
	frappe.db.sql(f"select name from `tab{BATCH}` where name = %s for update", batch_name)
	return frappe.get_doc(BATCH, batch_name)


def is_running(batch) -> bool:
	return batch.status == IMPORTING and bool(batch.job_id) and is_job_enqueued(batch.job_id)


def _fail(batch_name: str, message: str, exc: type[Exception]) -> None:
	"""Records the failure on the batch (committed) and refuses with the same message."""
	frappe.db.rollback()
	frappe.db.set_value(BATCH, batch_name, {"status": FAILED, "error": message}, update_modified=False)
	frappe.db.commit()
	throw(message, exc, title=_("Xero import"))


def _failure_message(error: Exception) -> str:
	if isinstance(error, XeroAPIError):
		return _("Xero refused while the invoices were fetched: {0}").format(error.message or error)
	return str(error)


def preview(batch_name: str) -> dict:
	"""Dry run: fetches the invoices, groups them and stores the proposed orders; writes nothing else."""
	batch = _lock(batch_name)
	if is_running(batch):
		throw(_("Batch {0} is importing; wait until it finishes").format(batch.name), ImportStateError)
	validate_settings(batch)
	try:
		invoices = fetch_invoices(batch)
	except (
		XeroAPIError,
		XeroUnreachableError,
		NeedsReconnectError,
		NotConnectedError,
	) as e:
		frappe.clear_last_message()
		_fail(batch.name, _failure_message(e), fetch_failure(e))
	try:
		groups = propose(batch, invoices)
	except ImportRuleError as e:  # a PO pattern that took too long over these references
		_fail(batch.name, str(e), ImportSettingsError)
	write_file(batch.name, SNAPSHOT_FILE, invoices)
	write_file(batch.name, PREVIEW_FILE, [preview_row(g) for g in groups])
	summary = summarise(groups)
	frappe.db.set_value(
		BATCH,
		batch.name,
		{
			"status": PREVIEWED,
			"error": None,
			"invoices_fetched": summary.invoices,
			"groups_count": summary.groups,
			"orders_to_create": summary.to_create,
			"skipped_count": summary.skipped,
			"conflicts_count": summary.conflicts,
			"previewed_at": now_datetime(),
		},
	)
	frappe.db.commit()
	return {"batch": batch.name, "status": PREVIEWED, "summary": summary.__dict__}


def job_id(batch_name: str) -> str:
	return f"xero-import::{frappe.local.site}::{batch_name}"


def start(batch_name: str, now: bool = False) -> dict:
	"""Queues the import of a previewed batch; refused while an import of it runs."""
	batch = _lock(batch_name)
	if is_running(batch):
		throw(_("Batch {0} is already importing").format(batch.name), ImportStateError)
	if batch.status == DRAFT or not has_file(batch.name, SNAPSHOT_FILE):
		throw(_("Preview batch {0} before importing it").format(batch.name), ImportStateError)
	job = job_id(batch.name)
	frappe.db.set_value(BATCH, batch.name, {"status": IMPORTING, "error": None, "job_id": job})
	frappe.db.commit()
	enqueue_import(batch.name, job, now=now)
	return {"batch": batch.name, "status": IMPORTING, "job_id": job}


def enqueue_import(batch_name: str, job: str, now: bool = False) -> None:
	"""Queues ``run_import`` of the batch as the job ``job`` (not again while that job is queued or running)."""
	frappe.enqueue(
		RUN_IMPORT,
		queue="long",
		timeout=3600,
		job_id=job,
		deduplicate=True,
		now=now,
		batch_name=batch_name,
	)


def _progress(batch_name: str, done: int, total: int) -> None:
	percent = 100 if not total else round(done * 100 / total, 1)
	frappe.publish_progress(
		percent,
		title=_(PROGRESS_TITLE),
		doctype=BATCH,
		docname=batch_name,
		description=_("{0} of {1} orders").format(done, total),
	)


def run_import(batch_name: str) -> dict:
	"""The background job: creates the orders of every importable group, committing every CHUNK orders."""
	batch = frappe.get_doc(BATCH, batch_name)
	log = []
	try:
		invoices = read_file(batch_name, SNAPSHOT_FILE)
		if invoices is None:
			throw(_("Preview batch {0} before importing it").format(batch_name), ImportStateError)
		contacts = {i["contact_id"] for i in invoices}
		known = known_contacts(contacts)
		if contacts - known:
			# Invoices of customers created in Xero since the last sync: pull the contacts first.
			sync_connection(batch.connection, kinds=["contacts"])
			frappe.db.commit()
			known = known_contacts(contacts)
		if not tax_rates(batch):
			sync_connection(batch.connection, kinds=["tax_rates"])
			frappe.db.commit()
		groups = [g for g in propose(batch, invoices, known) if g.importable]
		by_number = {i["number"]: i for i in invoices}
		writer = OrderWriter(batch)
		created = frappe.db.count(ORDER, {"import_batch": batch_name})
		_progress(batch_name, 0, len(groups))
		for done, chunk in enumerate(chunks(groups, CHUNK), start=1):
			names = writer.write(chunk, by_number)
			created += len(names)
			frappe.db.set_value(BATCH, batch_name, "orders_created", created, update_modified=False)
			frappe.db.commit()
			_progress(batch_name, min(done * CHUNK, len(groups)), len(groups))
		log.append(_("{0} orders created at {1}").format(len(groups), now_datetime()))
		frappe.db.set_value(
			BATCH,
			batch_name,
			{
				"status": COMPLETED,
				"error": None,
				"imported_at": now_datetime(),
				"orders_created": frappe.db.count(ORDER, {"import_batch": batch_name}),
				"import_log": "\n".join(filter(None, [batch.import_log, *log])),
			},
		)
		_mark_created_orders(batch_name)
		frappe.db.commit()
		_progress(batch_name, len(groups), len(groups))
		frappe.publish_realtime("xero_import_done", {"batch": batch_name}, doctype=BATCH, docname=batch_name)
		return {"created": len(groups)}
	except Exception as e:
		frappe.db.rollback()
		expected = isinstance(e, frappe.ValidationError | XeroAPIError | ImportRuleError)
		message = _failure_message(e) if expected else _("Import failed: {0}").format(e)
		if not expected:
			frappe.log_error(title=f"Xero import {batch_name} failed")
		frappe.db.set_value(BATCH, batch_name, {"status": FAILED, "error": message}, update_modified=False)
		frappe.db.commit()
		frappe.publish_realtime("xero_import_done", {"batch": batch_name}, doctype=BATCH, docname=batch_name)
		return {"error": message}


def _mark_created_orders(batch_name: str) -> None:
	"""Puts the created order's name on each preview row, so the preview links to the orders."""
	rows = preview_rows(batch_name)
	if not rows:
		return
	orders = dict(frappe.get_all(ORDER, {"import_batch": batch_name}, ["po_number", "name"], as_list=True))
	for row in rows:
		if row["key"] in orders:
			row["order"] = orders[row["key"]]
	write_file(batch_name, PREVIEW_FILE, rows)
