"""An import batch whose Source is Quotes: the organisation's ACCEPTED Xero quotes of the batch's dates (and
contacts) become orders, each through the single-quote path (``quote_orders.order_from_quote``: the same
order, checks and refusals as one made from the desk), in the background with a progress bar.

- Preview: fetches the ACCEPTED quotes (100 a Xero call; one listing per contact when the batch names contacts),
  and says of each whether it will become an order or why not (already an order, a line an order cannot hold, a
  contact not synced). It stores the rows on the batch (a private file) and the batch's counters; nothing else.
- Import: fetches the ACCEPTED quotes again (a quote declined or ordered since the preview is not ordered), syncs
  contacts and tax rates once if any is new here, then makes the orders one at a time, each committed on its
  own, with the batch as their Import Batch. A quote refused by then (ordered meanwhile by a user, changed in
  Xero) is logged and skipped; re-running the batch creates nothing twice.

Built on its own beside the invoice import (``import_runner``, ``import_writer``), whose pipeline it does not use;
it shares only the batch doctype and its statuses.
"""

import gzip
import json

import frappe
from frappe import _
from frappe.utils import getdate, now_datetime
from frappe.utils.background_jobs import is_job_enqueued

from xero_sales_orders.core.errors import QuoteRuleError, QuoteStatusError
from xero_sales_orders.core.quote_orders import ACCEPTED, quote_label, quote_order, quote_summary
from xero_sales_orders.exceptions import (
	ImportSettingsError,
	ImportStateError,
	NeedsReconnectError,
	NotConnectedError,
	XeroUnreachableError,
	throw,
)
from xero_sales_orders.services import quote_orders
from xero_sales_orders.services.import_settings import contact_ids
from xero_sales_orders.services.master_sync import sync_connection
from xero_sales_orders.services.order_invoicing import ORDER
from xero_sales_orders.services.xero_clients import client_for
from xero_sales_orders.xero.errors import XeroAPIError

BATCH = "Xero Import Batch"
SOURCE_QUOTES = "Quotes"
DRAFT, PREVIEWED, IMPORTING, COMPLETED, FAILED, STOPPED = (
	"Draft",
	"Previewed",
	"Importing",
	"Completed",
	"Failed",
	"Stopped",
)
ROWS_FILE = "quotes"  # the preview's rows: a private file attached to the batch
RUN = "xero_sales_orders.services.quote_import.run"
PROGRESS_TITLE = "Making orders from Xero quotes"
FETCH_ERRORS = (XeroAPIError, XeroUnreachableError, NeedsReconnectError, NotConnectedError)


def is_quote_batch(batch) -> bool:
	if isinstance(batch, str):
		return frappe.db.get_value(BATCH, batch, "source") == SOURCE_QUOTES
	return batch.get("source") == SOURCE_QUOTES


def _lock(batch_name: str):
	frappe.db.sql(f"select name from `tab{BATCH}` where name = %s for update", batch_name)
	return frappe.get_doc(BATCH, batch_name)


def fetch_quotes(batch) -> list[dict]:
	"""The batch's ACCEPTED quotes with their lines: 100 a call, one listing per contact it names."""
	if not batch.from_date or not batch.to_date or getdate(batch.from_date) > getdate(batch.to_date):
		throw(_("Give a date range: From Date on or before To Date"), ImportSettingsError)
	filters = {"status": ACCEPTED, "date_from": getdate(batch.from_date), "date_to": getdate(batch.to_date)}
	client = client_for(batch.connection, batch.tenant_id)
	try:
		found = {}
		for contact_id in contact_ids(batch) or [None]:
			for quote in client.quotes(contact_id=contact_id, **filters):
				found.setdefault(quote["QuoteID"], quote)
		return list(found.values())
	finally:
		client.close()


def _row(quote: dict, order: str | None, rates: dict, contacts: set) -> dict:
	"""One quote as the import preview shows a proposed order."""
	summary = quote_summary(quote)
	flags = []
	if order:
		flags.append(("already_imported", _("Already order {0}").format(order)))
	if (summary["contact_id"] or "").lower() not in contacts:
		flags.append(
			(
				"unknown_contact",
				_("Contact {0} is not in the synced Xero contacts yet").format(summary["contact_name"]),
			)
		)
	lines = []
	try:
		plan = quote_order(quote, rates)
		lines = [
			{
				"item_code": line.item_code,
				"description": line.description,
				"qty": str(line.qty),
				"invoiced_qty": "0",
				"unit_price": str(line.unit_price),
				"discount_rate": str(line.discount_rate),
				"tax_type": line.tax_type,
				"line_amount": str(line.line_amount),
				"tax_amount": str(line.tax_amount),
				"carried": line.carried,
			}
			for line in plan.lines
		]
	except (QuoteRuleError, QuoteStatusError) as e:
		flags.append(("bad_line", str(e)))
	blocking = [code for code, _reason in flags if code != "unknown_contact"]  # the import syncs contacts
	return {
		"key": summary["number"],
		"quote_id": summary["quote_id"],
		"contact": summary["contact_name"],
		"contact_id": summary["contact_id"],
		"currency": summary["currency"],
		"amount_type": summary["line_amount_type"],
		"date": summary["date"],
		"importable": not blocking,
		"conflict": False,
		"flags": [{"code": c, "reason": r, "blocking": c != "unknown_contact"} for c, r in flags],
		# The quote itself, where an invoice group lists its invoices.
		"invoices": [
			{
				"number": summary["number"],
				"status": summary["status"],
				"total": summary["total"],
				"date": summary["date"],
				"left_out": None,
			}
		],
		"lines": lines,
		"subtotal": summary["subtotal"],
		"total_tax": summary["total_tax"],
		"grand_total": summary["total"],
		"order": order,
	}


def preview(batch_name: str) -> dict:
	"""Dry run: which of the batch's ACCEPTED quotes become orders, and why the others do not."""
	batch = _lock(batch_name)
	if batch.status == IMPORTING and batch.job_id and is_job_enqueued(batch.job_id):
		throw(_("Batch {0} is importing; wait until it finishes").format(batch.name), ImportStateError)
	try:
		quotes = fetch_quotes(batch)
	except FETCH_ERRORS as e:
		_fail(batch.name, _("Xero refused while the quotes were fetched: {0}").format(e))
		raise
	ordered = quote_orders.orders_of_quotes([q["QuoteID"] for q in quotes])
	rates = quote_orders.tax_rates(batch.connection, batch.tenant_id, set(), sync=False)
	contacts = set(
		frappe.get_all(
			"Xero Contact", {"connection": batch.connection, "tenant_id": batch.tenant_id}, pluck="contact_id"
		)
	)
	rows = [_row(q, ordered.get(q["QuoteID"]), rates, contacts) for q in quotes]
	write_rows(batch.name, rows)
	to_create = sum(1 for r in rows if r["importable"])
	frappe.db.set_value(
		BATCH,
		batch.name,
		{
			"status": PREVIEWED,
			"error": None,
			"invoices_fetched": len(quotes),
			"groups_count": len(rows),
			"orders_to_create": to_create,
			"skipped_count": len(rows) - to_create,
			"conflicts_count": 0,
			"previewed_at": now_datetime(),
		},
	)
	frappe.db.commit()
	return {
		"batch": batch.name,
		"status": PREVIEWED,
		"summary": {"quotes": len(rows), "to_create": to_create, "skipped": len(rows) - to_create},
	}


def _fail(batch_name: str, message: str) -> None:
	frappe.db.rollback()
	frappe.db.set_value(BATCH, batch_name, {"status": FAILED, "error": message[:1000]}, update_modified=False)
	frappe.db.commit()


def job_id(batch_name: str) -> str:
	return f"xero-quote-import::{frappe.local.site}::{batch_name}"


def start(batch_name: str, now: bool = False) -> dict:
	"""Queues the import of a previewed quote batch; refused while it runs or before a preview."""
	batch = _lock(batch_name)
	if batch.status == IMPORTING and batch.job_id and is_job_enqueued(batch.job_id):
		throw(_("Batch {0} is already importing").format(batch.name), ImportStateError)
	if batch.status == DRAFT or not batch.previewed_at:
		throw(_("Preview batch {0} before importing it").format(batch.name), ImportStateError)
	job = job_id(batch.name)
	frappe.db.set_value(
		BATCH, batch.name, {"status": IMPORTING, "error": None, "job_id": job, "stop_requested": 0}
	)
	frappe.db.commit()
	frappe.enqueue(
		RUN, queue="long", timeout=3600, job_id=job, deduplicate=True, now=now, batch_name=batch.name
	)
	return {"batch": batch.name, "status": IMPORTING, "job_id": job}


def _progress(batch_name: str, done: int, total: int) -> None:
	frappe.publish_progress(
		100 if not total else round(done * 100 / total, 1),
		title=_(PROGRESS_TITLE),
		doctype=BATCH,
		docname=batch_name,
		description=_("{0} of {1} quotes").format(done, total),
	)


def run(batch_name: str) -> dict:
	"""The background job: an order per ACCEPTED quote of the batch that is not an order yet."""
	batch = frappe.get_doc(BATCH, batch_name)
	log, created = [], 0
	try:
		quotes = fetch_quotes(batch)
		ordered = quote_orders.orders_of_quotes([q["QuoteID"] for q in quotes])
		todo = [q for q in quotes if q["QuoteID"] not in ordered]
		# New contacts and tax rates are synced once for the whole batch, not once per quote.
		known = set(
			frappe.get_all(
				"Xero Contact",
				{"connection": batch.connection, "tenant_id": batch.tenant_id},
				pluck="contact_id",
			)
		)
		if any(str((q.get("Contact") or {}).get("ContactID") or "").lower() not in known for q in todo):
			sync_connection(batch.connection, kinds=["contacts"])
			frappe.db.commit()
		wanted = {line.get("TaxType") for q in todo for line in q.get("LineItems") or []}
		quote_orders.tax_rates(batch.connection, batch.tenant_id, wanted, sync=True)
		_progress(batch_name, 0, len(todo))
		for done, quote in enumerate(todo, start=1):
			if frappe.db.get_value(BATCH, batch_name, "stop_requested"):  # Stop: Import goes on from here
				log.append(_("Stopped after {0} orders at {1}").format(created, now_datetime()))
				return _stopped(batch, log, created)
			try:
				order = quote_orders.order_from_quote(
					batch.connection, batch.tenant_id, quote, import_batch=batch_name, sync=False
				)
				created += 1
				log.append(_("{0}: order {1}").format(quote_label(quote), order.name))
			except frappe.ValidationError as e:
				frappe.db.rollback()
				frappe.clear_last_message()
				log.append(_("{0}: not ordered: {1}").format(quote_label(quote), e))
			frappe.db.set_value(
				BATCH,
				batch_name,
				"orders_created",
				frappe.db.count(ORDER, {"import_batch": batch_name}),
				update_modified=False,
			)
			frappe.db.commit()
			_progress(batch_name, done, len(todo))
		log.append(_("{0} orders made from quotes at {1}").format(created, now_datetime()))
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
		frappe.db.commit()
		frappe.publish_realtime("xero_import_done", {"batch": batch_name}, doctype=BATCH, docname=batch_name)
		return {"created": created}
	except Exception as e:
		expected = isinstance(e, frappe.ValidationError | XeroAPIError)
		if not expected:
			frappe.log_error(title=f"Xero quote import {batch_name} failed")
		message = str(e) if expected else _("Import failed: {0}").format(e)
		frappe.db.rollback()
		frappe.db.set_value(
			BATCH,
			batch_name,
			{
				"status": FAILED,
				"error": message[:1000],
				"import_log": "\n".join(filter(None, [batch.import_log, *log])),
			},
			update_modified=False,
		)
		frappe.db.commit()
		frappe.publish_realtime("xero_import_done", {"batch": batch_name}, doctype=BATCH, docname=batch_name)
		return {"error": message, "created": created}


def _stopped(batch, log: list, created: int) -> dict:
	frappe.db.set_value(
		BATCH,
		batch.name,
		{
			"status": STOPPED,
			"stop_requested": 0,
			"orders_created": frappe.db.count(ORDER, {"import_batch": batch.name}),
			"import_log": "\n".join(filter(None, [batch.import_log, *log])),
		},
		update_modified=False,
	)
	frappe.db.commit()
	frappe.publish_realtime("xero_import_done", {"batch": batch.name}, doctype=BATCH, docname=batch.name)
	return {"created": created, "stopped": True}


# --- the preview's rows ------------------------------------------------------------------------------


VIEWS = {
	"all": lambda row: True,
	"importable": lambda row: row["importable"] and not row.get("order"),
	"flagged": lambda row: bool(row["flags"]),
	"conflicts": lambda row: row["conflict"],
	"skipped": lambda row: not row["importable"] or bool(row.get("order")),
}


def page(batch_name: str, view: str, search: str | None, start: int, page_length: int) -> dict:
	"""One page of a quote batch's preview, as ``import_groups.page`` answers for an invoice batch."""
	wanted = VIEWS.get(view, VIEWS["all"])
	needle = (search or "").strip().casefold()
	rows = [
		r
		for r in read_rows(batch_name)
		if wanted(r)
		and (not needle or needle in str(r["key"]).casefold() or needle in str(r["contact"]).casefold())
	]
	return {"total": len(rows), "start": start, "rows": rows[start : start + page_length]}


def _file_filters(batch_name: str) -> dict:
	return {"attached_to_doctype": BATCH, "attached_to_name": batch_name, "attached_to_field": ROWS_FILE}


def write_rows(batch_name: str, rows: list[dict]) -> None:
	for old in frappe.get_all("File", _file_filters(batch_name), pluck="name"):
		frappe.delete_doc("File", old, ignore_permissions=True, force=True)
	frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{batch_name}-{ROWS_FILE}.json.gz",
			**_file_filters(batch_name),
			"is_private": 1,
			"content": gzip.compress(json.dumps(rows, separators=(",", ":"), default=str).encode()),
		}
	).insert(ignore_permissions=True)


def read_rows(batch_name: str) -> list[dict]:
	name = frappe.db.get_value("File", _file_filters(batch_name))
	if not name:
		return []
	with open(frappe.get_doc("File", name).get_full_path(), "rb") as f:
		rows = json.loads(gzip.decompress(f.read()))
	ordered = quote_orders.orders_of_quotes([r["quote_id"] for r in rows if r.get("quote_id")])
	for row in rows:  # the orders made since the preview
		row["order"] = ordered.get(row.get("quote_id")) or row.get("order")
	return rows
