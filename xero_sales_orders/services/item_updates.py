"""Update items: changing a submitted order's lines after part of it is invoiced (the rules are
``core.item_changes``).

Frappe refuses any change to a submitted order's lines (none of its fields allows changes on submit) and the
order refuses its derived figures through every door; this service is the one way lines change once the order
is submitted. As ERPNext's ``update_child_qty_rate`` does, it changes the rows itself, under the order's row lock
(``order_invoicing.with_order_locked``), so a change and an invoice racing on one order run one after the other
and the change sees every invoice committed before it: a quantity can never drop below what is invoiced, nor an
invoice go past a lowered quantity. The order's totals are priced again, its invoiced figures and status derived
again (``refresh_order_invoicing``), and each change goes on the order's timeline with who made it, when, and
every figure before and after.
"""

import frappe
from frappe import _
from frappe.model import no_value_fields, table_fields
from frappe.utils import escape_html, flt

from xero_sales_orders.core.errors import InvoicingError, LineValidationError, StatusRuleError
from xero_sales_orders.core.item_changes import (
	FIGURE_FIELDS,
	StoredLine,
	WantedLine,
	ensure_can_change_items,
	plan_item_changes,
)
from xero_sales_orders.core.money import money_str, to_decimal
from xero_sales_orders.core.pricing import LineInput
from xero_sales_orders.exceptions import (
	DerivedFieldError,
	InvalidInvoiceRequestError,
	InvalidOrderError,
	OrderStateError,
	throw,
	throw_core_error,
)
from xero_sales_orders.services import order_deposits, order_timeline
from xero_sales_orders.services.order_invoicing import (
	ORDER,
	money,
	qty,
	refresh_order_invoicing,
	with_order_locked,
)

ITEM = "Xero Sales Order Item"
# Figures the invoices and the pricing set on a line; never from a request.
DERIVED = (
	"line_amount",
	"tax_amount",
	"amounts_from_xero",
	"invoiced_qty",
	"invoiced_amount",
	"invoiced_tax",
	"outstanding_qty",
	"outstanding_amount",
)
# Keys a desk row carries besides its fields; ignored.
ROW_KEYS = ("idx", "doctype", "parent", "parentfield", "parenttype", "docstatus", "__islocal", "__unsaved")


def line_fields() -> list[str]:
	"""The fields of an order line a request may give: every editable value field of Xero Sales Order Item."""
	meta = frappe.get_meta(ITEM)
	return [
		df.fieldname
		for df in meta.fields
		if df.fieldtype not in no_value_fields
		and df.fieldtype not in table_fields
		and not df.read_only
		and df.fieldname not in DERIVED
	]


def detail_fields(editable) -> list[str]:
	"""The texts and links compared and written beside the figures (the tax type follows the tax link)."""
	return [f for f in (*editable, "tax_type") if f not in FIGURE_FIELDS]


def parse_items_argument(items) -> list[dict]:
	"""The REST ``items`` argument (JSON text or a list of line objects), shape checked (400)."""
	if isinstance(items, str):
		try:
			items = frappe.parse_json(items)
		except ValueError:
			throw(_("items must be a JSON list of the order's lines"), InvalidInvoiceRequestError)
	if not isinstance(items, list):
		throw(
			_(
				'items must be a list of the order\'s lines: [{"name": <row>, "qty": ...}, {"description": ...}]'
			),
			InvalidInvoiceRequestError,
		)
	editable = set(line_fields())
	wanted = []
	for index, entry in enumerate(items, start=1):
		if not isinstance(entry, dict):
			throw(
				_("Line {0}: expected an object, got {1}").format(index, repr(entry)[:100]),
				InvalidInvoiceRequestError,
			)
		given = {}
		for key, value in entry.items():
			if key in ROW_KEYS or (key == "name" and value in (None, "")):
				continue
			if key in DERIVED:
				throw(
					_(
						"Line {0}: {1} is derived from the line's figures and invoices; it cannot be set"
					).format(index, key),
					DerivedFieldError,
					title=_("Derived figures"),
				)
			if key != "name" and key not in editable:
				throw(
					_("Line {0}: {1} is not a field of an order line that can be changed").format(index, key),
					InvalidInvoiceRequestError,
				)
			if key == "name" and not isinstance(value, str):
				throw(
					_("Line {0}: name must be the name of an order line").format(index),
					InvalidInvoiceRequestError,
				)
			if isinstance(value, dict | list):
				throw(
					_("Line {0}: {1} must be a single value").format(index, key), InvalidInvoiceRequestError
				)
			given[key] = value
		wanted.append(given)
	return wanted


def update_items(sales_order: str, items):
	"""Changes the lines of a submitted (Open or Partially Invoiced) order to ``items``: each stored line by its
	``name`` (keys left out keep their values), new lines without one; a stored line left out is removed.
	Returns the order and what changed."""
	wanted = parse_items_argument(items)
	return with_order_locked(sales_order, lambda: _update_items(sales_order, wanted))


def _stored_line(row, details) -> StoredLine:
	return StoredLine(
		name=row.name,
		idx=row.idx,
		figures=LineInput(
			qty(row.qty),
			to_decimal(flt(row.unit_price, 4)),
			to_decimal(flt(row.discount_rate, 4)),
			to_decimal(flt(row.tax_rate, 4)),
		),
		line_amount=money(row.line_amount),
		tax_amount=money(row.tax_amount),
		invoiced_qty=qty(row.invoiced_qty),
		invoiced_amount=money(row.invoiced_amount),
		invoiced_tax=money(row.invoiced_tax),
		details={f: row.get(f) for f in details},
	)


def _same(field: str, before, after) -> bool:
	"""Whether a value a request gives for ``field`` is the stored one (figures compared as numbers)."""
	if field in FIGURE_FIELDS:
		try:
			return to_decimal(flt(before, 9)) == to_decimal(after if after not in (None, "") else 0)
		except (ValueError, TypeError):
			return False
	return (
		str(before if before is not None else "").strip() == str(after if after is not None else "").strip()
	)


def _with_master_defaults(order, rows: list[dict]) -> list[dict]:
	"""New and changed lines completed from their Xero item, tax rate and account as the order's own validation
	does on a draft (``set_missing_line_values``), checked to be of the order's organisation."""
	if not rows:
		return []
	scratch = frappe.new_doc(ORDER)
	scratch.update(
		{
			"customer": order.customer,
			"connection": order.connection,
			"tenant_id": order.tenant_id,
			"currency": order.currency,
			"line_amount_type": order.line_amount_type,
		}
	)
	for field in ("tracking_option_1", "tracking_option_2"):
		if order.meta.has_field(field):
			scratch.set(field, order.get(field))
	for row in rows:
		scratch.append("items", row)
	scratch.set_organisation()
	scratch.set_missing_line_values()
	scratch.validate_masters_belong_to_organisation()
	for check in LINE_CHECKS:
		check(scratch)
	return [row.as_dict() for row in scratch.items]


# Further checks of new or changed lines that the order's validate() runs on a draft (e.g. tracking).
LINE_CHECKS: list = []


def _update_items(sales_order: str, wanted: list[dict]):
	order = frappe.get_doc(ORDER, sales_order)
	if order.docstatus != 1:
		throw(
			_("Update items changes a submitted order; {0} is {1}: edit and save it as usual").format(
				order.name, _("a Draft") if order.docstatus == 0 else _("Cancelled")
			),
			OrderStateError,
			title=_("Cannot update items"),
		)
	# What the invoices billed, summed under the lock (as create_invoice plans from).
	refresh_order_invoicing(order, notify=False)
	try:
		ensure_can_change_items(order.status)
	except StatusRuleError as e:
		throw_core_error(e, title=_("Cannot update items"))

	editable = line_fields()
	details = detail_fields(editable)
	stored_rows = {row.name: row for row in order.items}
	stored = [_stored_line(row, details) for row in order.items]
	merged, needs_defaults = [], []
	for given in wanted:
		row = stored_rows.get(given.get("name"))
		if given.get("name") and row is None:
			throw(
				_("Line {0} is not a line of {1} (it may have been removed meanwhile)").format(
					given["name"], order.name
				),
				InvalidInvoiceRequestError,
			)
		values = {f: row.get(f) for f in (*editable, "tax_type")} if row else {}
		values.update({k: v for k, v in given.items() if k != "name"})
		values["name"] = row.name if row else None
		changed = row is None or any(not _same(k, row.get(k), v) for k, v in given.items() if k != "name")
		if changed and (row is None or not flt(row.invoiced_qty)):
			needs_defaults.append(len(merged))
		merged.append(values)
	completed = _with_master_defaults(
		order, [{k: v for k, v in merged[i].items() if k != "name"} for i in needs_defaults]
	)
	for i, values in zip(needs_defaults, completed, strict=True):
		merged[i].update({f: values.get(f) for f in (*editable, "tax_type")})

	held = order_deposits.deposit_position(order)
	remaining = held.total(order.line_amount_type) if held else 0
	try:
		result = plan_item_changes(
			stored,
			[
				WantedLine(
					v["name"],
					v.get("qty"),
					v.get("unit_price"),
					v.get("discount_rate"),
					v.get("tax_rate"),
					{f: v.get(f) for f in details},
				)
				for v in merged
			],
			order.line_amount_type,
			deposit_remaining=money(max(remaining, 0)),
		)
	except LineValidationError as e:
		throw(str(e), InvalidOrderError, title=_("Invalid order line"))
	except (InvoicingError, StatusRuleError) as e:
		throw_core_error(e, title=_("Cannot update items"))
	if not result.changes:
		return {"order": order.as_dict(), "changes": []}

	before_total = money(order.grand_total)
	_write(order, result, details)
	order = frappe.get_doc(ORDER, sales_order)
	refresh_order_invoicing(order, notify=False)
	_record_on_timeline(order, result, before_total)
	order.notify_update()
	return {"order": order.as_dict(), "changes": [_change_as_dict(c) for c in result.changes]}


def _write(order, result, details) -> None:
	"""Writes the changed, new and removed rows and the order's totals (the row lock is held)."""
	for name in result.removed:
		frappe.db.delete(ITEM, {"name": name, "parent": order.name, "parenttype": ORDER})
	for idx, line in enumerate(result.lines, start=1):
		f = line.figures
		values = {
			"idx": idx,
			"qty": flt(f.qty, 4),
			"unit_price": flt(f.unit_price, 4),
			"discount_rate": flt(f.discount_rate, 4),
			"tax_rate": flt(f.tax_rate, 4),
			"line_amount": flt(line.line_amount, 2),
			"tax_amount": flt(line.tax_amount, 2),
			**{k: line.details.get(k) for k in details},
		}
		if line.name is None:
			row = frappe.new_doc(ITEM, parent_doc=order, parentfield="items")
			row.update(
				{
					**values,
					"parent": order.name,
					"parenttype": ORDER,
					"parentfield": "items",
					"docstatus": order.docstatus,
					"amounts_from_xero": 0,
					"invoiced_qty": 0,
					"invoiced_amount": 0,
					"invoiced_tax": 0,
					"outstanding_qty": values["qty"],
					"outstanding_amount": values["line_amount"],
				}
			)
			row.db_insert()
		elif line.changed:
			frappe.db.set_value(ITEM, line.name, {**values, "amounts_from_xero": 0}, update_modified=False)
		else:
			frappe.db.set_value(ITEM, line.name, "idx", idx, update_modified=False)
	t = result.totals
	frappe.db.set_value(
		ORDER,
		order.name,
		{
			"subtotal": flt(t.subtotal, 2),
			"total_discount": flt(t.total_discount, 2),
			"total_tax": flt(t.total_tax, 2),
			"grand_total": flt(t.grand_total, 2),
		},
	)


def _labels():
	meta = frappe.get_meta(ITEM)
	return lambda field: _(meta.get_label(field)) if meta.has_field(field) else field


def _change_as_dict(change) -> dict:
	return {
		"kind": change.kind,
		"line": change.label,
		"fields": [{"field": f, "before": before, "after": after} for f, before, after in change.fields],
	}


def _record_on_timeline(order, result, before_total) -> None:
	"""One timeline entry for the change: each line's fields before and after (the entry's author and time
	are who made it and when)."""
	label = _labels()
	verbs = {"changed": _("Changed"), "added": _("Added"), "removed": _("Removed")}
	items = []
	for change in result.changes:
		parts = []
		for field, before, after in change.fields:
			if change.kind == "changed":
				parts.append(
					_("{0} {1} → {2}").format(
						escape_html(label(field)), escape_html(before or "—"), escape_html(after or "—")
					)
				)
			else:
				parts.append(f"{escape_html(label(field))} {escape_html(before if after is None else after)}")
		items.append(f"<li>{verbs[change.kind]} {escape_html(change.label)}: {', '.join(parts)}</li>")
	total = money(order.grand_total)
	order_timeline.record(
		order.name,
		_("Items updated (status {0}):").format(escape_html(_(order.status)))
		+ f"<ul>{''.join(items)}</ul>"
		+ _("Total {0} → {1}").format(
			escape_html(f"{order.currency} {money_str(before_total)}"),
			escape_html(f"{order.currency} {money_str(total)}"),
		),
	)
