"""The background preview of a batch: fetch, then group, each resumable, neither holding the whole fetch.

1. **Fetch**: Xero's invoices a page of 1,000 at a time (``import_fetch.fetch_page``, in a thread one page
   ahead), each page stored as it comes (``import_staging.page_statements``, with each invoice's group id) in
   the same transaction as the cursor of the next page (``xero.paging``), so a stop or a crash loses at most
   the pages in flight and the fetch goes on with exactly the requests it would have made.
2. **Group**: the stored invoices read back one group at a time in group id order
   (``core.import_grouping.read_in_groups``), proposed a run at a time with the site's lookups
   (``stream_proposed_orders``) and stored as group rows (``import_groups``, an importable one with the plan
   the import takes) ``GROUP_CHUNK`` at a time with the id of the last group stored, from which a resumed
   pass goes on.

Pages and groups are written by ``import_sql.BackgroundWriter`` (a thread with a connection of its own, one
unit in flight) while the next are made, so MariaDB's work runs beside this one's.
3. The batch's summary comes from the group rows (one aggregate query).

Progress goes to the batch form (``frappe.publish_progress``) and onto the batch, for a form that polls.
"""

import json
import queue
import threading
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
from xero_sales_orders.services.import_fetch import (
	TokenRejected,
	compact_invoice,
	fetch_page,
	source_invoice,
	thread_client,
	where_clause,
)
from xero_sales_orders.services.import_lookups import imported_invoices, taken_numbers, tax_rates, text_limits
from xero_sales_orders.services.import_runner import (
	check_stop,
	finished,
	publish,
	record_end,
	settings_signature,
)
from xero_sales_orders.services.import_settings import BATCH, PREVIEWED
from xero_sales_orders.services.import_sql import BackgroundWriter, delete_batch_rows, run
from xero_sales_orders.services.xero_clients import rate_figures_key
from xero_sales_orders.services.xero_tokens import get_access_token
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
		log = []
		# Pages and groups are written and committed by a thread of their own while the next are made.
		background = BackgroundWriter()
		try:
			if not cursor.done:
				started = time.monotonic()
				_fetch(batch, state, cursor, background)
				background.settle()
				frappe.db.commit()  # a new snapshot, which sees what the writer committed
				fetched = frappe.db.get_value(BATCH, batch_name, ["invoices_fetched", "pages_fetched"])
				publish(
					batch_name,
					_(FETCH_TITLE),
					fetched[0],
					fetched[0],
					_("{0} of {1} invoices ({2} pages)").format(fetched[0], fetched[0], fetched[1]),
				)
				log.append(
					_("{0} invoices fetched from Xero in {1} pages, {2:.0f} s").format(
						fetched[0], fetched[1], time.monotonic() - started
					)
				)
			started = time.monotonic()
			_group(batch, background)
			background.settle()
			frappe.db.commit()
			grouped = frappe.db.get_value(BATCH, batch_name, "invoices_grouped") or 0
			publish(
				batch_name,
				_(GROUP_TITLE),
				grouped,
				grouped,
				_("{0} of {1} invoices grouped").format(grouped, grouped),
			)
		except Exception as e:
			raise background.settle(e) from None
		finally:
			background.close()
		return _finish(batch_name, log, time.monotonic() - started)
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


def _fetch(batch, state: dict, cursor: Cursor, background: BackgroundWriter) -> None:
	"""Three at once: a thread fetches the next page from Xero, this one compacts the page and makes its rows
	and a third writes and commits the page before, with the cursor of the page after it
	(``BackgroundWriter``). Only the fetching thread calls Xero, only the writing one writes; a stop or a crash at most loses a page fetched
	ahead or not yet committed, never stored, which the resumed fetch asks for again."""
	pattern = compile_po_pattern(batch.po_pattern) if batch.grouping == GROUP_BY_PATTERN else None
	pages, total = batch.pages_fetched or 0, batch.invoices_total or 0
	statuses, where = batch.statuses.split(","), where_clause(batch)
	written = {"fetched": batch.invoices_fetched or 0}
	while not cursor.done:
		fetcher = _Fetcher(batch, statuses, where, cursor)
		try:
			for page_cursor, records, pagination, following in fetcher.pages():
				invoices = [compact_invoice(raw) for raw in records]
				del records  # one page held in Xero's form at a time
				statements = import_staging.page_statements(
					batch.name,
					invoices,
					group_ids([_Reference(i) for i in invoices], batch.grouping, pattern),
				)
				pages += 1
				if page_cursor.since is None and page_cursor.page == 1:
					total = pagination.get("itemCount") or len(invoices)
				cursor = following
				state["cursor"] = cursor.to_json()
				background.submit(
					_page_unit(batch.name, statements, json.dumps(state), pages, total, written)
				)
				frappe.db.commit()  # a new snapshot: what the writer committed, and a Stop asked for
				fetcher.keep_figures()
				fetched = written["fetched"]  # as of the page before, committed
				publish(
					batch.name,
					_(FETCH_TITLE),
					fetched,
					max(total, fetched),
					_("{0} of {1} invoices ({2} pages)").format(fetched, max(total, fetched), pages - 1),
				)
				check_stop(batch.name)
		except TokenRejected:
			# The token expired or was rotated while the thread fetched: a fresh one, then on from the cursor.
			get_access_token(batch.connection, force_refresh=True, rejected_token=fetcher.token)
			frappe.db.commit()
		finally:
			fetcher.close()


def _page_unit(
	batch_name: str, statements: list[str], cursor_json: str, pages: int, total: int, written: dict
):
	"""What the writing thread does for one page: its rows, and the batch's cursor and counts, in one
	transaction."""

	def write() -> None:
		run(statements)
		fetched = import_staging.stored_count(batch_name)
		frappe.db.set_value(
			BATCH,
			batch_name,
			{
				"fetch_cursor": cursor_json,
				"pages_fetched": pages,
				"invoices_fetched": fetched,
				"invoices_total": max(total, fetched),
			},
			update_modified=False,
		)
		return lambda: written.update(fetched=fetched)  # once committed

	return write


class _Fetcher:
	"""The thread that asks Xero for the pages, one ahead of the one being stored."""

	def __init__(self, batch, statuses: list[str], where: str, cursor: Cursor):
		self.batch_name, self.connection = batch.name, batch.connection
		self.token = get_access_token(batch.connection)
		self.figures: dict = {}
		self.client = thread_client(batch, self.token, self.figures)
		self.statuses, self.where, self.start = statuses, where, cursor
		self.queue: queue.Queue = queue.Queue(maxsize=1)
		# The thread asks for a page only once the page before has been taken: one page ahead, never more.
		self.taken = threading.Semaphore(1)
		self.stopping = threading.Event()
		self.thread = threading.Thread(target=self._run, name=f"xero-fetch-{batch.name}", daemon=True)
		self.thread.start()

	def _run(self) -> None:
		cursor = self.start
		try:
			while not cursor.done and self._may_ask():
				invoices, pagination, following = self._page(cursor)
				self._put((cursor, invoices, pagination, following))
				cursor = following
			self._put(None)
		except BaseException as e:  # handed to the storing thread, which raises it
			self._put(e)

	def _may_ask(self) -> bool:
		while not self.stopping.is_set():
			if self.taken.acquire(timeout=0.5):
				return not self.stopping.is_set()
		return False

	def _put(self, item) -> None:
		while not self.stopping.is_set():
			try:
				self.queue.put(item, timeout=0.5)
				return
			except queue.Full:
				continue

	def _page(self, cursor: Cursor):
		"""One page; while Xero's (or the shared limiter's) minute limit holds it back, waits and asks again."""
		waited = 0.0
		while True:
			try:
				return fetch_page(self.client, self.statuses, self.where, cursor)
			except XeroRateLimitError as e:
				if e.problem == "day" or waited >= MAX_LIMIT_WAIT or self.stopping.is_set():
					raise
				pause = min(max(e.retry_after or 5.0, 1.0), 60.0)
				self.stopping.wait(pause)
				waited += pause

	def pages(self):
		while True:
			item = self.queue.get()
			self.taken.release()
			if item is None:
				return
			if isinstance(item, BaseException):
				raise item
			yield item

	def keep_figures(self) -> None:
		"""Xero's last rate figures, for the connection's health (as every other client keeps them)."""
		if self.figures:
			frappe.cache.set_value(
				rate_figures_key(self.connection),
				{**self.figures, "at": now_datetime().isoformat(sep=" ", timespec="seconds")},
			)

	def close(self) -> None:
		self.stopping.set()
		self.thread.join(timeout=120)
		self.client.close()


def _group(batch, background: BackgroundWriter) -> None:
	pattern = compile_po_pattern(batch.po_pattern) if batch.grouping == GROUP_BY_PATTERN else None
	rates, limits = tax_rates(batch), text_limits()
	voided_as_demand = bool(batch.get("voided_as_demand"))
	# The import takes an importable group's plan as it is while these rules stay the same.
	digest = Rules.of(rates, text_limits=limits, voided_as_demand=voided_as_demand).digest

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
			grouped = _store(batch.name, pending, grouped, fetched, background, digest)
			pending = []
	if pending:
		_store(batch.name, pending, grouped, fetched, background, digest)


def _store(
	batch_name: str, groups: list, grouped: int, fetched: int, background: BackgroundWriter, digest: str
) -> int:
	"""Hands a run of proposed orders (with their plans) to the writing thread, with the group id to resume
	after."""
	rows = import_groups.group_rows(batch_name, groups, digest)
	statements = import_groups.row_statements(rows)
	done = grouped + sum(len(group.invoices) for group in groups)
	cursor = rows[-1]["group_id"]

	def write() -> None:
		run(statements)
		frappe.db.set_value(
			BATCH, batch_name, {"group_cursor": cursor, "invoices_grouped": done}, update_modified=False
		)

	background.submit(write)
	frappe.db.commit()  # a new snapshot: what the writer committed, and a Stop asked for
	check_stop(batch_name)
	publish(
		batch_name,
		_(GROUP_TITLE),
		grouped,
		fetched,
		_("{0} of {1} invoices grouped").format(grouped, fetched),
	)
	return done


def _finish(batch_name: str, log: list[str], grouping_seconds: float) -> dict:
	summary = import_groups.summary(batch_name)
	log.append(
		_("{0} invoices grouped into {1} proposed orders in {2:.0f} s, previewed at {3}").format(
			summary["invoices"], summary["groups"], grouping_seconds, now_datetime()
		)
	)
	previous = frappe.db.get_value(BATCH, batch_name, "import_log")
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
			"import_log": "\n".join(filter(None, [previous, *log])),
		},
	)
	frappe.db.commit()
	finished(batch_name, "preview")
	return {"batch": batch_name, "status": PREVIEWED, "summary": summary}
