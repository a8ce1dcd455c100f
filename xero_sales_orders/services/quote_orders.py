"""Orders from Xero quotes, one at a time: an organisation's quotes listed from Xero (100 a call, filtered by
status, contact and dates), and an order made from an ACCEPTED one, submitted at once.

The order's lines, prices, discounts, tax and tracking are the quote's (``core.quote_orders``: its totals are
Xero's to the cent, lines Xero priced otherwise keep Xero's figures). It keeps the quote's number, id and link
(``xero_quote_number``, ``xero_quote_id``, ``xero_quote_url``), and its reference (else the quote's number) as
the order's Customer PO, which its invoices carry to Xero. When the order is Fully Invoiced the quote is set to
INVOICED in Xero (``quote_invoicing``).

A quote that is not ACCEPTED, or that is already a live order (a cancelled one does not count), is refused with
the reason (409). One quote becomes one order however many requests ask at once: the check and the insert run
in one transaction that first locks the quote's customer (its Xero Contact row), so two requests for a quote
run one after the other and the second sees the first's order.
"""

import uuid

import frappe
from frappe import _
from frappe.utils import cint, getdate

from xero_sales_orders.core.errors import QuoteRuleError, QuoteStatusError
from xero_sales_orders.core.links import safe_link
from xero_sales_orders.core.money import to_decimal
from xero_sales_orders.core.quote_orders import (
	ACCEPTED,
	QUOTE_STATUSES,
	ensure_accepted,
	quote_label,
	quote_order,
	quote_summary,
)
from xero_sales_orders.exceptions import (
	InvalidQuoteRequestError,
	QuoteConversionError,
	QuoteNotFoundError,
	QuoteStateError,
	throw,
)
from xero_sales_orders.services.master_sync import sync_connection
from xero_sales_orders.services.order_invoicing import ORDER
from xero_sales_orders.services.xero_clients import client_for
from xero_sales_orders.services.xero_endpoints import CONNECTION
from xero_sales_orders.xero.client import QUOTES_PER_PAGE
from xero_sales_orders.xero.errors import XeroNotFoundError

TENANT = "Xero Connection Tenant"
ITEM = "Xero Sales Order Item"
TRACKING = "Xero Tracking Option"
MAX_PAGE = 10_000


def organisation(connection, tenant_id=None) -> tuple[str, str]:
	"""(connection, tenant id) checked to exist: the connection's default organisation when none is given."""
	if not isinstance(connection, str) or not connection or not frappe.db.exists(CONNECTION, connection):
		throw(_("Xero Connection {0} not found").format(connection), frappe.DoesNotExistError)
	tenants = frappe.get_all(
		TENANT, {"parent": connection, "parenttype": CONNECTION}, ["tenant_id", "is_default"], order_by="idx"
	)
	if tenant_id:
		if tenant_id not in {t.tenant_id for t in tenants}:
			throw(
				_("Organisation {0} is not part of Xero Connection {1}").format(tenant_id, connection),
				InvalidQuoteRequestError,
			)
		return connection, tenant_id
	default = next((t for t in tenants if t.is_default), tenants[0] if tenants else None)
	if default is None:
		throw(
			_("Xero Connection {0} has no organisation; connect it first").format(connection), QuoteStateError
		)
	return connection, default.tenant_id


def orders_of_quotes(quote_ids: list[str]) -> dict[str, str]:
	"""QuoteID -> the live order (not cancelled) made from it."""
	if not quote_ids:
		return {}
	rows = frappe.get_all(
		ORDER,
		{"xero_quote_id": ["in", list(quote_ids)], "docstatus": ["<", 2]},
		["xero_quote_id", "name"],
		order_by="creation asc",
	)
	found = {}
	for row in rows:
		found.setdefault(row.xero_quote_id, row.name)
	return found


def _date_argument(value, label: str):
	if value in (None, ""):
		return None
	try:
		return getdate(value)
	except Exception:
		throw(_("{0} must be a date (YYYY-MM-DD), not {1!r}").format(label, value), InvalidQuoteRequestError)


def _contact_id(connection: str, tenant_id: str, contact) -> str | None:
	"""A Xero Contact (its name here is its ContactID) of the organisation, or None."""
	if contact in (None, ""):
		return None
	if not isinstance(contact, str):
		throw(_("contact must be the name of a Xero Contact"), InvalidQuoteRequestError)
	row = frappe.db.get_value(
		"Xero Contact", contact, ["contact_id", "connection", "tenant_id"], as_dict=True
	)
	if not row or (row.connection, row.tenant_id) != (connection, tenant_id):
		throw(
			_("Xero Contact {0} is not a contact of this organisation").format(contact),
			InvalidQuoteRequestError,
		)
	return row.contact_id


def list_quotes(
	connection,
	tenant_id=None,
	status=ACCEPTED,
	contact=None,
	date_from=None,
	date_to=None,
	page=1,
) -> dict:
	"""One page (up to 100, one Xero call) of the organisation's quotes, each with the order made from it, if
	any, and whether it can become one (``can_order``, else ``reason``)."""
	connection, tenant_id = organisation(connection, tenant_id)
	status = (status or "").strip().upper() or None
	if status and status not in QUOTE_STATUSES:
		throw(
			_("status must be one of {0}, or empty for every quote").format(", ".join(QUOTE_STATUSES)),
			InvalidQuoteRequestError,
		)
	page = cint(page)
	if not 1 <= page <= MAX_PAGE:
		throw(_("page must be a whole number from 1 to {0}").format(MAX_PAGE), InvalidQuoteRequestError)
	filters = {
		"status": status,
		"contact_id": _contact_id(connection, tenant_id, contact),
		"date_from": _date_argument(date_from, "date_from"),
		"date_to": _date_argument(date_to, "date_to"),
	}
	if filters["date_from"] and filters["date_to"] and filters["date_from"] > filters["date_to"]:
		throw(_("date_from cannot be after date_to"), InvalidQuoteRequestError)
	client = client_for(connection, tenant_id)
	try:
		records = client.quote_page(page, **filters)
	finally:
		client.close()
	ordered = orders_of_quotes([q.get("QuoteID") for q in records if q.get("QuoteID")])
	quotes = []
	for quote in records:
		row = quote_summary(quote)
		row["order"] = ordered.get(quote.get("QuoteID"))
		row["can_order"], row["reason"] = True, None
		if row["order"]:
			row["can_order"], row["reason"] = False, _("Already order {0}").format(row["order"])
		elif quote.get("Status") != ACCEPTED:
			row["can_order"] = False
			row["reason"] = _("{0}: only an ACCEPTED quote can become an order").format(quote.get("Status"))
		quotes.append(row)
	return {
		"connection": connection,
		"tenant_id": tenant_id,
		"page": page,
		"more": len(records) == QUOTES_PER_PAGE,
		"quotes": quotes,
	}


def fetch_quote(connection: str, tenant_id: str, quote_id) -> dict:
	if not isinstance(quote_id, str) or not _is_uuid(quote_id):
		throw(_("quote must be a Xero QuoteID, not {0!r}").format(quote_id), InvalidQuoteRequestError)
	client = client_for(connection, tenant_id)
	try:
		return client.quote(quote_id)
	except XeroNotFoundError:
		throw(_("Xero has no quote {0} in this organisation").format(quote_id), QuoteNotFoundError)
	finally:
		client.close()


def create_order(connection, tenant_id, quote_id):
	"""The order made from the ACCEPTED quote ``quote_id`` of the organisation, submitted (its document)."""
	connection, tenant_id = organisation(connection, tenant_id)
	return order_from_quote(connection, tenant_id, fetch_quote(connection, tenant_id, quote_id))


def order_from_quote(
	connection: str, tenant_id: str, quote: dict, import_batch: str | None = None, sync: bool = True
):
	"""An order from a quote Xero returned (refusing one that is not ACCEPTED or is an order already). With
	``sync`` a contact, tax rate or tracking option new here is synced from Xero first (a batch syncs once)."""
	label = quote_label(quote)
	try:
		ensure_accepted(quote)
	except QuoteStatusError as e:
		throw(str(e), QuoteStateError, title=_("Cannot make an order"))
	_refuse_if_ordered(quote, label)
	contact = _customer(connection, tenant_id, quote, label, sync)
	rates = tax_rates(
		connection, tenant_id, {line.get("TaxType") for line in quote.get("LineItems") or []}, sync
	)
	try:
		plan = quote_order(quote, rates)
	except QuoteStatusError as e:
		throw(str(e), QuoteStateError, title=_("Cannot make an order"))
	except QuoteRuleError as e:
		throw(str(e), QuoteConversionError, title=_("Cannot make an order"))
	tracking = _tracking(connection, tenant_id, plan, label, sync)
	doc = frappe.get_doc(_order_fields(connection, tenant_id, contact, plan, import_batch, tracking))
	doc.flags.from_xero_quote = True  # the controller keeps the quote link and Xero's carried figures
	doc.flags.xero_quote_amounts = True
	return _insert_once(doc, contact, plan.quote_id, label)


def _refuse_if_ordered(quote: dict, label: str) -> None:
	holder = orders_of_quotes([quote.get("QuoteID")]).get(quote.get("QuoteID"))
	if holder:
		throw(_("Quote {0} is already order {1}").format(label, holder), QuoteStateError)


def _customer(connection: str, tenant_id: str, quote: dict, label: str, sync: bool = True) -> str:
	"""The quote's contact as a synced Xero Contact; contacts are synced once when it is new here."""
	contact_id = str((quote.get("Contact") or {}).get("ContactID") or "").lower()
	org = {"connection": connection, "tenant_id": tenant_id}
	found = frappe.db.get_value("Xero Contact", {"contact_id": contact_id, **org}) if contact_id else None
	if not found and contact_id and sync:
		sync_connection(connection, kinds=["contacts"])
		frappe.db.commit()
		found = frappe.db.get_value("Xero Contact", {"contact_id": contact_id, **org})
	if not found:
		name = (quote.get("Contact") or {}).get("Name") or contact_id
		throw(
			_("The contact {0} of quote {1} is not among this organisation's Xero contacts").format(
				name, label
			),
			QuoteConversionError,
		)
	return found


def tax_rates(connection: str, tenant_id: str, wanted: set, sync: bool = True) -> dict:
	"""Tax type -> effective rate of the organisation; tax rates are synced once when one is unknown here."""

	def read():
		rows = frappe.get_all(
			"Xero Tax Rate",
			{"connection": connection, "tenant_id": tenant_id},
			["tax_type", "effective_rate"],
		)
		return {r.tax_type: to_decimal(r.effective_rate) for r in rows}

	rates = read()
	if sync and {t for t in wanted if t} - set(rates):
		sync_connection(connection, kinds=["tax_rates"])
		frappe.db.commit()
		rates = read()
	return rates


def _masters(doctype: str, key: str, connection: str, tenant_id: str, values: set) -> dict:
	values = {v for v in values if v}
	if not values:
		return {}
	return dict(
		frappe.get_all(
			doctype,
			{"connection": connection, "tenant_id": tenant_id, key: ["in", list(values)]},
			[key, "name"],
			as_list=True,
		)
	)


def quote_url(connection: str, tenant_id: str, quote_id: str) -> str | None:
	short_code = frappe.db.get_value(
		TENANT, {"parent": connection, "parenttype": CONNECTION, "tenant_id": tenant_id}, "short_code"
	)
	if not short_code:
		return None
	return safe_link(f"https://go.xero.com/app/{short_code}/quotes/view/{quote_id}")


def _tracking(connection: str, tenant_id: str, plan, label: str, sync: bool = True) -> list[dict]:
	"""Each line's tracking options as the order line's ``tracking_option_1`` / ``_2`` (Xero Tracking Options,
	named by their TrackingOptionID), found by id, else by category and option name; the tracking options are
	synced once when one is new here. Nothing while the order lines have no tracking fields."""
	if not frappe.get_meta(ITEM).has_field("tracking_option_1") or not any(
		line.tracking for line in plan.lines
	):
		return [{} for _line in plan.lines]

	def find(entry: dict) -> str | None:
		option_id = str(entry.get("TrackingOptionID") or "").lower()
		if option_id and frappe.db.exists(TRACKING, {"name": option_id, **org}):
			return option_id
		if entry.get("Name") and entry.get("Option"):
			return frappe.db.get_value(
				TRACKING, {"category_name": entry["Name"], "option_name": entry["Option"], **org}
			)
		return None

	org = {"connection": connection, "tenant_id": tenant_id}
	entries = [[t for t in line.tracking][:2] for line in plan.lines]
	if sync and any(find(t) is None for line in entries for t in line):
		sync_connection(connection, kinds=["tracking_options"])
		frappe.db.commit()
	result = []
	for index, line in enumerate(entries, start=1):
		values = {}
		for position, entry in enumerate(line, start=1):
			found = find(entry)
			if found is None:
				throw(
					_(
						"Quote {0} line {1}: its tracking {2}: {3} is not among this organisation's tracking options"
					).format(
						label,
						index,
						entry.get("Name") or "?",
						entry.get("Option") or entry.get("TrackingOptionID"),
					),
					QuoteConversionError,
				)
			values[f"tracking_option_{position}"] = found
		result.append(values)
	return result


def _order_fields(
	connection: str, tenant_id: str, contact: str, plan, import_batch: str | None, tracking: list[dict]
) -> dict:
	items = _masters("Xero Item", "item_code", connection, tenant_id, {line.item_code for line in plan.lines})
	taxes = _masters(
		"Xero Tax Rate", "tax_type", connection, tenant_id, {line.tax_type for line in plan.lines}
	)
	accounts = _masters(
		"Xero Account", "account_code", connection, tenant_id, {line.account_code for line in plan.lines}
	)
	fields = {
		"doctype": ORDER,
		"customer": contact,
		"po_number": plan.po_number,
		"order_date": plan.date,
		"line_amount_type": plan.line_amount_type,
		"connection": connection,
		"tenant_id": tenant_id,
		"remarks": plan.remarks,
		"xero_quote_id": plan.quote_id,
		"xero_quote_number": plan.number,
		"xero_quote_url": quote_url(connection, tenant_id, plan.quote_id),
		"xero_quote_status": ACCEPTED,
		"items": [
			{
				"item": items.get(line.item_code),
				"item_code": line.item_code,
				"description": line.description,
				"qty": line.qty,
				"unit_price": line.unit_price,
				"discount_rate": line.discount_rate,
				"tax": taxes.get(line.tax_type),
				"tax_type": line.tax_type,
				"tax_rate": line.tax_rate,
				"account": accounts.get(line.account_code),
				"account_code": line.account_code,
				"line_amount": line.line_amount,
				"tax_amount": line.tax_amount,
				"amounts_from_xero": int(line.carried),
				**line_tracking,
			}
			for line, line_tracking in zip(plan.lines, tracking, strict=True)
		],
	}
	if plan.currency:
		fields["currency"] = plan.currency
	if import_batch:
		fields["import_batch"] = import_batch
	return fields


def _insert_once(doc, contact: str, quote_id: str, label: str):
	"""Inserts and submits the order unless a live order holds the quote, in a transaction of its own that first
	locks the customer's row: requests for one quote run one after the other, the second refused."""
	frappe.db.commit()
	try:
		frappe.db.sql("select name from `tabXero Contact` where name = %s for update", contact)
		holder = orders_of_quotes([quote_id]).get(quote_id)
		if holder:
			throw(_("Quote {0} is already order {1}").format(label, holder), QuoteStateError)
		import_batch = doc.get("import_batch")
		doc.insert()
		if import_batch:  # the controller keeps what is stored: the batch is the app's to write
			frappe.db.set_value(ORDER, doc.name, "import_batch", import_batch, update_modified=False)
			doc.import_batch = import_batch
		doc.submit()
		doc.add_comment("Info", _("Made from Xero quote {0}").format(label))
		frappe.db.commit()
	except BaseException:
		frappe.db.rollback()
		raise
	return doc


def _is_uuid(value: str) -> bool:
	try:
		uuid.UUID(value)
	except ValueError:
		return False
	return len(value) == 36
