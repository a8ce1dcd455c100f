"""Bulk import of existing Xero invoices into orders: fetch, preview (dry run) and the background import.

The preview fetches the batch's ACCREC invoices with their lines (pages of 1,000, so 10,000 invoices cost
10 calls) and keeps them as a private file of the batch: the import then works on exactly what was
previewed, without asking Xero again. Grouping and pricing are ``core.import_grouping``; the import writes
orders, invoices and their lines with bulk inserts, lets ``services.order_invoicing.refresh_order_invoicing``
derive invoiced quantities and statuses, and commits every ``CHUNK`` orders. Every invoice records its
Xero InvoiceID and batch, so a re-run (after a crash, a stop or on purpose) skips what exists.
"""

import gzip
import json
import re
from decimal import Decimal

import frappe
from frappe import _
from frappe.model.naming import set_new_name
from frappe.utils import getdate, now_datetime
from frappe.utils.background_jobs import is_job_enqueued

from xero_sales_orders.core import import_grouping
from xero_sales_orders.core.errors import ImportRuleError
from xero_sales_orders.core.money import to_decimal
from xero_sales_orders.core.order_status import INVOICE_STATUSES, OPEN
from xero_sales_orders.exceptions import (
	XeroRateLimitedError,
	XeroReconnectError,
	XeroRefusedError,
	XeroUnreachableError,
	answer_for,
	keep_retry_after,
	throw,
)
from xero_sales_orders.services import connection as connections
from xero_sales_orders.services.order_invoicing import INVOICE, ORDER, refresh_order_invoicing
from xero_sales_orders.services.sync import sync_connection
from xero_sales_orders.xero.errors import XeroAPIError
from xero_sales_orders.xero.parsing import parse_xero_date

BATCH = "Xero Import Batch"
# Files of a batch, told apart by the field they are attached to (Frappe may rename a file to keep names unique).
SNAPSHOT_FILE = "snapshot"
PREVIEW_FILE = "preview"
# Orders per transaction: a crash loses at most this many orders' work, each commit costs little.
CHUNK = 250
PAGE_SIZE = 1000
# Lookups with IN (...) lists are split so that no query grows without bound.
IN_CHUNK = 2000
# Characters kept free in an imported invoice's name for the suffix that tells two organisations' numbers apart.
NAME_SUFFIX_ROOM = 4
PROGRESS_TITLE = "Importing Xero invoices"
DRAFT, PREVIEWED, IMPORTING, COMPLETED, FAILED = "Draft", "Previewed", "Importing", "Completed", "Failed"
SETTINGS = (
	"connection",
	"tenant_id",
	"from_date",
	"to_date",
	"statuses",
	"contacts",
	"grouping",
	"po_pattern",
	"voided_as_demand",
)
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class ImportSettingsError(frappe.ValidationError):
	"""Batch settings that cannot work: a bad pattern, an empty date range, an unknown status or contact."""

	http_status_code = 400


class ImportFetchError(frappe.ValidationError):
	"""Xero (or the connection) refused while the invoices were fetched; nothing was imported."""

	http_status_code = 502


class ImportRateLimitedError(ImportFetchError, XeroRateLimitedError):
	"""The fetch met Xero's rate limit (429 with Retry-After)."""

	http_status_code = 429


class ImportXeroUnreachableError(ImportFetchError, XeroUnreachableError):
	"""Xero did not answer the fetch after the client's retries (503)."""

	http_status_code = 503


class ImportReconnectError(ImportFetchError, XeroReconnectError):
	"""The connection must be reconnected before anything can be fetched (409)."""

	http_status_code = 409


class ImportRefusedError(ImportFetchError, XeroRefusedError):
	"""Xero refused the fetch itself (417 with Xero's message)."""

	http_status_code = 417


# What a failed fetch answers, by the Xero condition behind it (exceptions.answer_for).
FETCH_FAILURES = {
	XeroRateLimitedError: ImportRateLimitedError,
	XeroUnreachableError: ImportXeroUnreachableError,
	XeroReconnectError: ImportReconnectError,
	XeroRefusedError: ImportRefusedError,
}


def fetch_failure(error: Exception) -> type[ImportFetchError]:
	"""The answer to a fetch that ``error`` stopped; its Retry-After is kept for the response."""
	if isinstance(error, connections.NeedsReconnectError | connections.NotConnectedError):
		return ImportReconnectError
	if isinstance(error, XeroUnreachableError):  # the token refresh found Xero's identity server down
		return ImportXeroUnreachableError
	answer = answer_for(error)
	if answer is None:
		return ImportFetchError
	keep_retry_after(answer[2])
	return FETCH_FAILURES[answer[0]]


class ImportStateError(frappe.ValidationError):
	"""The batch's status does not allow the action, e.g. a second Import while one runs."""

	http_status_code = 409


# ---- settings ------------------------------------------------------------------------------------


def validate_settings(batch) -> None:
	"""Normalises and checks the batch's filters and grouping (called by the doctype's validate)."""
	if not batch.from_date or not batch.to_date:
		throw(_("Give a date range: both From Date and To Date"), ImportSettingsError)
	if getdate(batch.from_date) > getdate(batch.to_date):
		throw(
			_("The date range is empty: From Date {0} is after To Date {1}").format(
				batch.from_date, batch.to_date
			),
			ImportSettingsError,
		)
	statuses = [s.strip().upper() for s in (batch.statuses or "").replace("\n", ",").split(",") if s.strip()]
	unknown = [s for s in statuses if s not in INVOICE_STATUSES]
	if unknown or not statuses:
		throw(
			_("Xero Statuses must be a comma-separated list of {0}; {1} is not").format(
				", ".join(INVOICE_STATUSES), ", ".join(unknown) or _("an empty list")
			),
			ImportSettingsError,
		)
	batch.statuses = ",".join(dict.fromkeys(statuses))
	if batch.grouping not in import_grouping.GROUPINGS:
		throw(
			_("Group By must be one of {0}").format(", ".join(import_grouping.GROUPINGS)), ImportSettingsError
		)
	if batch.grouping == import_grouping.GROUP_BY_PATTERN:
		try:
			import_grouping.compile_po_pattern(batch.po_pattern)
		except ImportRuleError as e:
			throw(str(e), ImportSettingsError, title=_("Invalid PO pattern"))
	if batch.connection:
		conn = frappe.get_doc(connections.CONNECTION, batch.connection)
		tenants = {t.tenant_id for t in conn.tenants}
		if batch.tenant_id and batch.tenant_id not in tenants:
			throw(
				_("Organisation {0} is not part of Xero Connection {1}").format(batch.tenant_id, conn.name),
				ImportSettingsError,
			)
		if not batch.tenant_id and conn.tenants:
			batch.tenant_id = connections.default_tenant(conn)
	contact_ids(batch)


def contact_ids(batch) -> list[str]:
	"""The batch's contact filter as Xero ContactIDs; entries may be local contact names or ContactIDs."""
	entries = [e.strip() for e in re.split(r"[\n,]", batch.contacts or "") if e.strip()]
	ids = []
	for entry in entries:
		if GUID.match(entry):
			ids.append(entry.lower())
			continue
		found = frappe.get_all(
			"Xero Contact",
			{"contact_name": entry, "connection": batch.connection, "tenant_id": batch.tenant_id},
			pluck="contact_id",
			limit=2,
		)
		if len(found) != 1:
			throw(
				_("Contact {0!r} is {1} in the synced Xero contacts; give its ContactID").format(
					entry, _("not found") if not found else _("ambiguous")
				),
				ImportSettingsError,
			)
		ids.append(found[0])
	return list(dict.fromkeys(ids))


def settings_changed(batch) -> bool:
	before = batch.get_doc_before_save()
	return bool(before) and any(str(before.get(f) or "") != str(batch.get(f) or "") for f in SETTINGS)


# ---- fetching --------------------------------------------------------------------------------------


def where_clause(batch) -> str:
	start, end = getdate(batch.from_date), getdate(batch.to_date)
	clauses = [
		'Type=="ACCREC"',
		f"Date>=DateTime({start.year},{start.month:02d},{start.day:02d})",
		f"Date<=DateTime({end.year},{end.month:02d},{end.day:02d})",
	]
	ids = contact_ids(batch)
	if ids:
		clauses.append("(" + " OR ".join(f'Contact.ContactID==Guid("{i}")' for i in ids) + ")")
	return " AND ".join(clauses)


def _text(value) -> str:
	return str(value) if value is not None else ""


def _day(value) -> str:
	parsed = parse_xero_date(value) if isinstance(value, str) else value
	return parsed.date().isoformat() if hasattr(parsed, "date") else _text(parsed)


def compact_invoice(raw: dict) -> dict:
	"""The fields of a Xero invoice the import uses, JSON-ready (decimals as strings)."""
	contact = raw.get("Contact") or {}
	return {
		"id": raw["InvoiceID"],
		"number": raw.get("InvoiceNumber") or raw["InvoiceID"],
		"reference": raw.get("Reference") or "",
		"contact_id": contact.get("ContactID") or "",
		"contact": contact.get("Name") or "",
		"currency": raw.get("CurrencyCode") or "",
		"amount_type": raw.get("LineAmountTypes") or "Exclusive",
		"status": raw.get("Status") or "DRAFT",
		"date": _day(raw.get("Date")),
		"due_date": _day(raw.get("DueDate")) if raw.get("DueDate") else None,
		"updated": _text(raw.get("UpdatedDateUTC")),
		"subtotal": _text(raw.get("SubTotal") or 0),
		"tax": _text(raw.get("TotalTax") or 0),
		"discount": _text(raw.get("TotalDiscount") or 0),
		"total": _text(raw.get("Total") or 0),
		"paid": _text(raw.get("AmountPaid") or 0),
		"credited": _text(raw.get("AmountCredited") or 0),
		"due": _text(raw.get("AmountDue") or 0),
		"lines": [
			[
				line.get("ItemCode") or "",
				line.get("Description") or "",
				_text(line.get("Quantity") or 0),
				_text(line.get("UnitAmount") or 0),
				_text(line.get("DiscountRate") or 0),
				line.get("TaxType") or "",
				line.get("AccountCode") or "",
				_text(line.get("LineAmount") or 0),
				_text(line.get("TaxAmount") or 0),
				_text(line.get("DiscountAmount") or 0),
			]
			for line in raw.get("LineItems") or []
		],
	}


def _line_values(values: list) -> list:
	"""A compact line's ten values (snapshots written before DiscountAmount was kept have nine)."""
	return [*values, "0"] if len(values) == 9 else values


def source_invoice(compact: dict) -> import_grouping.SourceInvoice:
	return import_grouping.SourceInvoice(
		invoice_id=compact["id"],
		number=compact["number"],
		reference=compact["reference"],
		contact_id=compact["contact_id"],
		contact_name=compact["contact"],
		currency=compact["currency"],
		line_amount_type=compact["amount_type"],
		status=compact["status"],
		date=compact["date"],
		total=Decimal(compact["total"]),
		subtotal=Decimal(compact["subtotal"]),
		total_tax=Decimal(compact["tax"]),
		lines=tuple(
			import_grouping.SourceLine(
				item_code=code,
				description=description,
				qty=Decimal(qty),
				unit_price=Decimal(price),
				discount_rate=Decimal(discount),
				tax_type=tax_type,
				account_code=account,
				line_amount=Decimal(amount),
				tax_amount=Decimal(tax),
				discount_amount=Decimal(discount_amount),
			)
			for code, description, qty, price, discount, tax_type, account, amount, tax, discount_amount in (
				_line_values(values) for values in compact["lines"]
			)
		),
	)


def fetch_invoices(batch) -> list[dict]:
	"""Every matching ACCREC invoice with its lines, in pages of 1,000 (Xero sends lines only when paged)."""
	client = connections.client_for(batch.connection, batch.tenant_id)
	try:
		return [
			compact_invoice(raw)
			for raw in client.invoices(
				where=where_clause(batch), statuses=batch.statuses.split(","), page_size=PAGE_SIZE
			)
		]
	finally:
		client.close()


# ---- masters and existing records ---------------------------------------------------------------------


def _chunks(values: list, size: int = IN_CHUNK):
	for start in range(0, len(values), size):
		yield values[start : start + size]


def tax_rates(batch) -> dict[str, Decimal]:
	rows = frappe.get_all(
		"Xero Tax Rate",
		{"connection": batch.connection, "tenant_id": batch.tenant_id},
		["tax_type", "effective_rate"],
	)
	return {r.tax_type: to_decimal(r.effective_rate) for r in rows}


def imported_invoices(invoice_ids: list[str]) -> dict[str, str]:
	"""Xero InvoiceID -> order, for invoices already linked here (by any batch or by the invoicing)."""
	found = {}
	for chunk in _chunks(invoice_ids):
		for row in frappe.get_all(
			INVOICE, {"xero_invoice_id": ["in", chunk]}, ["xero_invoice_id", "sales_order"]
		):
			found[row.xero_invoice_id] = row.sales_order
	return found


def taken_numbers(invoices: list[dict], tenant_id: str) -> set[str]:
	"""Numbers of these invoices that another invoice of the same organisation uses here (two
	organisations may both have an INV-0001)."""
	ids = {i["number"]: i["id"] for i in invoices}
	taken = set()
	for chunk in _chunks(list(ids)):
		for row in frappe.get_all(
			INVOICE,
			{"tenant_id": tenant_id, "invoice_number": ["in", chunk]},
			["invoice_number", "xero_invoice_id"],
		):
			if row.xero_invoice_id != ids.get(row.invoice_number):
				taken.add(row.invoice_number)
	return taken


def free_invoice_names(numbers: list[str]) -> dict[str, str]:
	"""The document name for each new invoice: its number, or, where another organisation's invoice has
	that name already, the number with the first free suffix (INV-0001-2). One query per chunk and
	suffix tried, however many numbers clash (a second organisation's import may clash on every one)."""
	names, wanted, suffix = {}, list(dict.fromkeys(numbers)), 1
	while wanted:
		candidates = {number: number if suffix == 1 else f"{number}-{suffix}" for number in wanted}
		used = set()
		for chunk in _chunks(list(candidates.values())):
			used.update(frappe.get_all(INVOICE, {"name": ["in", chunk]}, pluck="name"))
		names.update({number: name for number, name in candidates.items() if name not in used})
		wanted = [number for number, name in candidates.items() if name in used]
		suffix += 1
	return names


def known_contacts(contact_ids_: set[str]) -> set[str]:
	known = set()
	for chunk in _chunks(sorted(contact_ids_)):
		known.update(frappe.get_all("Xero Contact", {"name": ["in", chunk]}, pluck="name"))
	return known


# Where the import writes each of Xero's texts: (doctype, field) per key of import_grouping.TEXT_LIMITS.
TEXT_COLUMNS = {
	"po_number": (ORDER, "po_number"),
	"reference": (INVOICE, "reference"),
	"invoice_number": (INVOICE, "invoice_number"),
	"contact_name": (ORDER, "customer_name"),
	"item_code": ("Xero Sales Order Item", "item_code"),
	"account_code": ("Xero Sales Order Item", "account_code"),
	"tax_type": ("Xero Sales Order Item", "tax_type"),
}


def text_limits() -> dict[str, int]:
	"""The lengths of the columns the import writes Xero's texts to, from the doctypes (140 by default)."""
	from frappe.database.database import Database

	limits = {}
	for key, (doctype, fieldname) in TEXT_COLUMNS.items():
		df = frappe.get_meta(doctype).get_field(fieldname)
		limits[key] = (df and df.length) or Database.VARCHAR_LEN
	# An invoice's document name is its number, sometimes with a suffix (INV-0001-2): keep room for it.
	limits["invoice_number"] = min(limits["invoice_number"], Database.VARCHAR_LEN - NAME_SUFFIX_ROOM)
	return limits


def propose(
	batch, invoices: list[dict], contacts: set[str] | None = None
) -> list[import_grouping.ProposedOrder]:
	pattern = (
		import_grouping.compile_po_pattern(batch.po_pattern)
		if batch.grouping == import_grouping.GROUP_BY_PATTERN
		else None
	)
	return import_grouping.build_proposed_orders(
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


# ---- files of the batch ---------------------------------------------------------------------------------


def _file_filters(batch_name: str, kind: str) -> dict:
	return {"attached_to_doctype": BATCH, "attached_to_name": batch_name, "attached_to_field": kind}


def _write_file(batch_name: str, kind: str, value) -> None:
	for old in frappe.get_all("File", _file_filters(batch_name, kind), pluck="name"):
		frappe.delete_doc("File", old, ignore_permissions=True, force=True)
	content = gzip.compress(json.dumps(value, separators=(",", ":")).encode(), compresslevel=5)
	frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{batch_name}-{kind}.json.gz",
			"attached_to_doctype": BATCH,
			"attached_to_name": batch_name,
			"attached_to_field": kind,
			"is_private": 1,
			"content": content,
		}
	).insert(ignore_permissions=True)


def _read_file(batch_name: str, kind: str):
	name = frappe.db.get_value("File", _file_filters(batch_name, kind))
	if not name:
		return None
	with open(frappe.get_doc("File", name).get_full_path(), "rb") as f:
		return json.loads(gzip.decompress(f.read()))


def preview_rows(batch_name: str) -> list[dict]:
	return _read_file(batch_name, PREVIEW_FILE) or []


# ---- preview ---------------------------------------------------------------------------------------------


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


def _fetch_error_message(error: Exception) -> str:
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
		connections.NeedsReconnectError,
		connections.NotConnectedError,
	) as e:
		frappe.clear_last_message()
		_fail(batch.name, _fetch_error_message(e), fetch_failure(e))
	try:
		groups = propose(batch, invoices)
	except ImportRuleError as e:  # a PO pattern that took too long over these references
		_fail(batch.name, str(e), ImportSettingsError)
	_write_file(batch.name, SNAPSHOT_FILE, invoices)
	_write_file(batch.name, PREVIEW_FILE, [import_grouping.preview_row(g) for g in groups])
	summary = import_grouping.summarise(groups)
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


# ---- import ----------------------------------------------------------------------------------------------


def job_id(batch_name: str) -> str:
	return f"xero-import::{frappe.local.site}::{batch_name}"


def start(batch_name: str, now: bool = False) -> dict:
	"""Queues the import of a previewed batch; refused while an import of it runs."""
	batch = _lock(batch_name)
	if is_running(batch):
		throw(_("Batch {0} is already importing").format(batch.name), ImportStateError)
	if batch.status == DRAFT or not frappe.db.exists("File", _file_filters(batch.name, SNAPSHOT_FILE)):
		throw(_("Preview batch {0} before importing it").format(batch.name), ImportStateError)
	job = job_id(batch.name)
	frappe.db.set_value(BATCH, batch.name, {"status": IMPORTING, "error": None, "job_id": job})
	frappe.db.commit()
	frappe.enqueue(
		"xero_sales_orders.services.importing.run_import",
		queue="long",
		timeout=3600,
		job_id=job,
		deduplicate=True,
		now=now,
		batch_name=batch.name,
	)
	return {"batch": batch.name, "status": IMPORTING, "job_id": job}


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
		invoices = _read_file(batch_name, SNAPSHOT_FILE)
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
		for done, chunk in enumerate(_chunks(groups, CHUNK), start=1):
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
		message = _fetch_error_message(e) if expected else _("Import failed: {0}").format(e)
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
	_write_file(batch_name, PREVIEW_FILE, rows)


class OrderWriter:
	"""Writes proposed orders, their lines, invoices and invoice lines with one multi-row INSERT per table.

	Order lines are written with the invoiced figures of their live invoices already filled in, so that
	``refresh_order_invoicing`` (which derives them again from the invoices, as the authority) finds the
	lines right and only writes the order's header and status.
	"""

	def __init__(self, batch):
		self.batch = batch
		org = {"connection": batch.connection, "tenant_id": batch.tenant_id}
		self.items = dict(frappe.get_all("Xero Item", org, ["item_code", "name"], as_list=True))
		self.taxes = dict(frappe.get_all("Xero Tax Rate", org, ["tax_type", "name"], as_list=True))
		self.accounts = dict(frappe.get_all("Xero Account", org, ["account_code", "name"], as_list=True))

	def write(self, groups: list[import_grouping.ProposedOrder], by_number: dict) -> list[str]:
		now, user = now_datetime(), frappe.session.user
		self.standard = {"owner": user, "modified_by": user, "creation": now, "modified": now}
		contact_names = dict(
			frappe.get_all(
				"Xero Contact",
				{"name": ["in", list({g.contact_id for g in groups})]},
				["name", "contact_name"],
				as_list=True,
			)
		)
		orders, order_items, invoices, invoice_items = [], [], [], []
		self.names = free_invoice_names(
			[
				source.number
				for group in groups
				for index, source in enumerate(group.invoices)
				if index not in group.left_out
			]
		)
		for group in groups:
			order = self._order_row(group, contact_names)
			rows = [self._order_item_row(order["name"], idx, line) for idx, line in enumerate(group.lines, 1)]
			for invoice_index, source in enumerate(group.invoices):
				if invoice_index in group.left_out:
					continue  # voided or deleted, not asked for as demand: not part of the order
				raw = by_number[source.number]
				invoices.append(self._invoice_row(raw, order["name"], group))
				for line_index, values in enumerate(raw["lines"]):
					position = group.line_of.get((invoice_index, line_index))
					if position is None:
						continue
					item = self._invoice_item_row(
						raw, line_index, values, rows[position], group.lines[position]
					)
					invoice_items.append(item)
					if source.is_live:
						rows[position]["invoiced_amount"] += Decimal(item["line_amount"])
						rows[position]["invoiced_tax"] += Decimal(item["tax_amount"])
			for row in rows:
				row["outstanding_amount"] = row["line_amount"] - row["invoiced_amount"]
			orders.append(order)
			order_items.extend(rows)
		_bulk_insert(ORDER, orders)
		_bulk_insert("Xero Sales Order Item", order_items)
		_bulk_insert(INVOICE, invoices)
		_bulk_insert("Xero Invoice Item", invoice_items)
		items_by_order = {}
		for row in order_items:
			items_by_order.setdefault(row["parent"], []).append(row)
		for order in orders:
			# The rows just written, as a document: no need to read them back.
			doc = frappe.get_doc({**order, "doctype": ORDER, "items": items_by_order[order["name"]]})
			refresh_order_invoicing(doc)
		return [order["name"] for order in orders]

	def _order_row(self, group, contact_names: dict) -> dict:
		t = group.totals
		return {
			**self.standard,
			"name": self._order_name(),
			"docstatus": 1,
			"customer": group.contact_id,
			"customer_name": contact_names.get(group.contact_id) or group.contact_name,
			"po_number": group.key,
			"order_date": group.order_date,
			"currency": group.currency,
			"line_amount_type": group.line_amount_type,
			"status": OPEN,
			"is_closed": 0,
			"connection": self.batch.connection,
			"tenant_id": self.batch.tenant_id,
			"subtotal": t.subtotal,
			"total_discount": t.total_discount,
			"total_tax": t.total_tax,
			"grand_total": t.grand_total,
			"outstanding_amount": t.grand_total,
			"import_batch": self.batch.name,
			"remarks": self._remarks(group),
		}

	def _remarks(self, group) -> str:
		included = [i.number for n, i in enumerate(group.invoices) if n not in group.left_out]
		text = _("Imported from Xero invoices {0}").format(", ".join(included))
		left_out = [f"{i.number} ({i.status})" for n, i in enumerate(group.invoices) if n in group.left_out]
		if left_out:
			text += ". " + _("Left out (they bill nothing): {0}").format(", ".join(left_out))
		return text

	def _order_item_row(self, order_name: str, idx: int, line: import_grouping.OrderLine) -> dict:
		return {
			**self.standard,
			"name": frappe.generate_hash(length=10),
			"docstatus": 1,
			"parent": order_name,
			"parenttype": ORDER,
			"parentfield": "items",
			"idx": idx,
			"item": self.items.get(line.item_code),
			"item_code": line.item_code,
			"description": line.description,
			"qty": line.qty,
			"unit_price": line.unit_price,
			"discount_rate": line.discount_rate,
			"tax": self.taxes.get(line.tax_type),
			"tax_type": line.tax_type,
			"tax_rate": line.tax_rate,
			"account": self.accounts.get(line.account_code),
			"account_code": line.account_code,
			"line_amount": line.priced.line_amount,
			"tax_amount": line.priced.tax_amount,
			"amounts_from_xero": int(line.carried),
			"invoiced_qty": line.invoiced_qty,
			"invoiced_amount": Decimal(0),
			"invoiced_tax": Decimal(0),
			"outstanding_qty": max(line.qty - line.invoiced_qty, Decimal(0)),
		}

	def _invoice_item_row(self, raw: dict, line_index: int, values: list, order_row: dict, line) -> dict:
		code, description, qty, price, discount, tax_type, account, amount, tax, discount_amount = (
			_line_values(values)
		)
		return {
			**self.standard,
			"name": frappe.generate_hash(length=10),
			"parent": self.names[raw["number"]],
			"parenttype": INVOICE,
			"parentfield": "items",
			"idx": line_index + 1,
			"sales_order_item": order_row["name"],
			"item_code": code,
			"description": description,
			"qty": qty,
			"unit_price": price,
			"discount_rate": discount,
			"tax_type": tax_type,
			"tax_rate": line.tax_rate,
			"account_code": account,
			"line_amount": amount,
			"tax_amount": tax,
			"discount_amount": discount_amount,
		}

	def _order_name(self) -> str:
		# The order's own naming rule (its series), so imported orders number like the others.
		doc = frappe.new_doc(ORDER)
		set_new_name(doc)
		return doc.name

	def _invoice_row(self, raw: dict, order_name: str, group) -> dict:
		return {
			**self.standard,
			"name": self.names[raw["number"]],
			"docstatus": 0,
			"sales_order": order_name,
			"customer": group.contact_id,
			"invoice_number": raw["number"],
			"reference": raw["reference"],
			"status": raw["status"],
			"push_state": "Pushed",
			"invoice_date": raw["date"],
			"due_date": raw["due_date"],
			"connection": self.batch.connection,
			"tenant_id": self.batch.tenant_id,
			"xero_invoice_id": raw["id"],
			"xero_updated_at": _naive_utc(raw["updated"]),
			"import_batch": self.batch.name,
			"currency": raw["currency"],
			"line_amount_type": raw["amount_type"],
			"subtotal": raw["subtotal"],
			"total_discount": raw["discount"],
			"total_tax": raw["tax"],
			"total": raw["total"],
			# Imported figures are Xero's own: they agree with Xero by definition.
			"xero_subtotal": raw["subtotal"],
			"xero_total_tax": raw["tax"],
			"xero_total": raw["total"],
			"totals_differ": 0,
			"amount_paid": raw["paid"],
			"amount_credited": raw["credited"],
			"amount_due": raw["due"],
		}


def _naive_utc(value: str):
	moment = parse_xero_date(value) if value else None
	return moment.replace(tzinfo=None) if moment else None


def _bulk_insert(doctype: str, rows: list[dict], chunk_size: int = 2000) -> None:
	"""Multi-row INSERTs with driver-escaped parameters (pypika's builder, used by frappe.db.bulk_insert,
	costs more than the database for rows this wide)."""
	if not rows:
		return
	columns = list(dict.fromkeys(key for row in rows for key in row))
	placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
	head = f"insert into `tab{doctype}` ({', '.join(f'`{c}`' for c in columns)}) values "
	for start in range(0, len(rows), chunk_size):
		chunk = rows[start : start + chunk_size]
		values = [_db_value(row.get(c)) for row in chunk for c in columns]
		frappe.db.sql(head + ", ".join([placeholders] * len(chunk)), values)


def _db_value(value):
	# Decimals go in as their exact text; MariaDB converts to the column's DECIMAL without float noise.
	return str(value) if isinstance(value, Decimal) else value
