"""The background preview of a batch: fetch, then group, each resumable, neither holding the whole fetch.

1. **Fetch**: Xero's invoices a page of 1,000 at a time (``import_fetch.fetch_page``), each page stored as
   it comes (``import_staging.store_page``, with each invoice's group id) in the same transaction as the
   cursor of the next page (``xero.paging``), so a stop or a crash loses at most the page in flight and the
   fetch goes on with exactly the requests it would have made.
2. **Group**: the stored invoices read back one group at a time in group id order
   (``core.import_grouping.read_in_groups``), proposed a run at a time with the site's lookups
   (``stream_proposed_orders``) and stored as group rows (``import_groups``) ``GROUP_CHUNK`` at a time with
   the id of the last group stored, from which a resumed pass goes on.
3. The batch's summary comes from the group rows (one aggregate query).

Progress goes to the batch form (``frappe.publish_progress``) and onto the batch, for a form that polls.
"""

import json
import time

import frappe
from frappe import _
from frappe.utils import now_datetime

from xero_sales_orders.core.import_grouping import (
	GROUP_BY_PATTERN,
	Rules,
	compile_po_pattern,
	group_ids,
	read_in_groups,
	stream_proposed_orders,
)
from xero_sales_orders.services import import_groups, import_staging
from xero_sales_orders.services.import_fetch import fetch_page, source_invoice
from xero_sales_orders.services.import_lookups import imported_invoices, taken_numbers, tax_rates, text_limits
from xero_sales_orders.services.import_runner import (
	check_stop,
	finished,
	publish,
	record_end,
	settings_signature,
)
from xero_sales_orders.services.import_settings import BATCH, PREVIEWED
from xero_sales_orders.services.import_sql import delete_batch_rows
from xero_sales_orders.services.xero_clients import client_for
from xero_sales_orders.xero.errors import XeroRateLimitError
from xero_sales_orders.xero.paging import Cursor

FETCH_TITLE = "Fetching invoices from Xero"
GROUP_TITLE = "Grouping invoices"
# Stored invoices per read of the second pass, and group rows per transaction.
READ_CHUNK = 2000
GROUP_CHUNK = 500
# A fetch waits out Xero's minute limit (it is the background): at most this long for one page.
MAX_LIMIT_WAIT = 600.0


class _Reference:
	"""What a group id is made of (``core.import_grouping.group_ids`` reads these two attributes)."""

	__slots__ = ("invoice_id", "reference")

	def __init__(self, compact: dict):
		self.invoice_id, self.reference = compact["id"], compact["reference"]


def run_preview(batch_name: str) -> dict:
	"""The background job queued by ``import_runner.preview``."""
	batch = frappe.get_doc(BATCH, batch_name)
	try:
		state = json.loads(batch.fetch_cursor or "{}")
		if state.get("fresh") or state.get("settings") != settings_signature(batch):
			state = _start_over(batch)
		cursor = Cursor.from_json(state.get("cursor"))
		if not cursor.done:
			_fetch(batch, state, cursor)
		_group(batch)
		return _finish(batch_name)
	except Exception as e:
		return record_end(batch_name, e, "preview")


def _start_over(batch) -> dict:
	"""Forgets the last preview's invoices and groups (a chunk of rows per transaction) and starts the fetch."""
	for doctype in (import_groups.GROUP, import_staging.STAGING):
		delete_batch_rows(doctype, batch.name)
	state = {"settings": settings_signature(batch), "cursor": Cursor().to_json()}
	values = {
		"fetch_cursor": json.dumps(state),
		"group_cursor": None,
		"pages_fetched": 0,
		"invoices_fetched": 0,
		"invoices_total": 0,
		"invoices_grouped": 0,
		"groups_count": 0,
		"orders_to_create": 0,
		"skipped_count": 0,
		"conflicts_count": 0,
		"previewed_at": None,
	}
	frappe.db.set_value(BATCH, batch.name, values, update_modified=False)
	frappe.db.commit()
	batch.update(values)
	return state


def _fetch(batch, state: dict, cursor: Cursor) -> None:
	pattern = compile_po_pattern(batch.po_pattern) if batch.grouping == GROUP_BY_PATTERN else None
	pages, total = batch.pages_fetched or 0, batch.invoices_total or 0
	client = client_for(batch.connection, batch.tenant_id)
	try:
		while not cursor.done:
			check_stop(batch.name)
			invoices, pagination, following = _page(client, batch, cursor)
			import_staging.store_page(
				batch.name, invoices, group_ids([_Reference(i) for i in invoices], batch.grouping, pattern)
			)
			pages += 1
			if cursor.since is None and cursor.page == 1:
				total = pagination.get("itemCount") or len(invoices)
			cursor = following
			fetched = import_staging.stored_count(batch.name)
			total = max(total, fetched)
			state["cursor"] = cursor.to_json()
			frappe.db.set_value(
				BATCH,
				batch.name,
				{
					"fetch_cursor": json.dumps(state),
					"pages_fetched": pages,
					"invoices_fetched": fetched,
					"invoices_total": total,
				},
				update_modified=False,
			)
			frappe.db.commit()
			publish(
				batch.name,
				_(FETCH_TITLE),
				fetched,
				total,
				_("{0} of {1} invoices ({2} pages)").format(fetched, total, pages),
			)
	finally:
		client.close()


def _page(client, batch, cursor: Cursor):
	"""One page; while Xero's (or the shared limiter's) minute limit holds it back, waits and asks again."""
	waited = 0.0
	while True:
		try:
			return fetch_page(client, batch, cursor)
		except XeroRateLimitError as e:
			if e.problem == "day" or waited >= MAX_LIMIT_WAIT:
				raise
			pause = min(max(e.retry_after or 5.0, 1.0), 60.0)
			time.sleep(pause)
			waited += pause
			check_stop(batch.name)


def _group(batch) -> None:
	pattern = compile_po_pattern(batch.po_pattern) if batch.grouping == GROUP_BY_PATTERN else None
	rates, limits = tax_rates(batch), text_limits()
	voided_as_demand = bool(batch.get("voided_as_demand"))

	def rules_for(invoices) -> Rules:
		raws = [invoice.raw for invoice in invoices]
		return Rules.of(
			rates,
			imported=imported_invoices([raw["id"] for raw in raws]),
			taken_numbers=taken_numbers(raws, batch.tenant_id),
			text_limits=limits,
			voided_as_demand=voided_as_demand,
		)

	resume_after = batch.group_cursor or None

	def read(after, limit):
		return import_staging.read_groups(batch.name, after if after is not None else resume_after, limit)

	stored = read_in_groups(read, READ_CHUNK)
	groups = stream_proposed_orders(
		([source_invoice(compact) for compact in members] for members in stored),
		batch.grouping,
		pattern,
		rules_for,
	)
	grouped = batch.invoices_grouped or 0
	fetched = frappe.db.get_value(BATCH, batch.name, "invoices_fetched") or 0
	pending = []
	for group in groups:
		pending.append(group)
		if len(pending) >= GROUP_CHUNK:
			grouped = _store(batch.name, pending, grouped, fetched)
			pending = []
	if pending:
		_store(batch.name, pending, grouped, fetched)


def _store(batch_name: str, groups: list, grouped: int, fetched: int) -> int:
	check_stop(batch_name)
	rows = import_groups.store_groups(batch_name, groups)
	grouped += sum(len(group.invoices) for group in groups)
	frappe.db.set_value(
		BATCH,
		batch_name,
		{"group_cursor": rows[-1]["group_id"], "invoices_grouped": grouped},
		update_modified=False,
	)
	frappe.db.commit()
	publish(
		batch_name,
		_(GROUP_TITLE),
		grouped,
		fetched,
		_("{0} of {1} invoices grouped").format(grouped, fetched),
	)
	return grouped


def _finish(batch_name: str) -> dict:
	summary = import_groups.summary(batch_name)
	frappe.db.set_value(
		BATCH,
		batch_name,
		{
			"status": PREVIEWED,
			"error": None,
			"stop_requested": 0,
			"invoices_fetched": import_staging.stored_count(batch_name),
			"groups_count": summary["groups"],
			"orders_to_create": summary["to_create"],
			"skipped_count": summary["skipped"],
			"conflicts_count": summary["conflicts"],
			"previewed_at": now_datetime(),
		},
	)
	frappe.db.commit()
	finished(batch_name, "preview")
	return {"batch": batch_name, "status": PREVIEWED, "summary": summary}
