"""Crediting a pushed invoice: chosen lines and quantities, never more than invoiced and not yet credited, either
returned to the order (to be invoiced again) or only credited (a return or a discount).

The arithmetic is ``core.credit_plans``. The local Xero Credit Note is committed first, under the order's lock
(``order_invoicing.with_order_locked``: one order per transaction), with an app-assigned number (the invoice's
number with -CN1, -CN2, ...) and an idempotency key, so that it is never lost and never doubled when it is
pushed (``credit_note_push``). Nothing goes to Xero when the request is refused.
"""

import uuid
from collections import defaultdict

import frappe
from frappe import _
from frappe.query_builder.functions import Sum
from frappe.utils import cint, flt, nowdate

from xero_sales_orders.core.credit_plans import CreditableLine, parse_credit_lines, plan_credit
from xero_sales_orders.core.errors import InvoicingError
from xero_sales_orders.core.money import ZERO, to_decimal
from xero_sales_orders.core.order_status import DEAD_INVOICE_STATUSES
from xero_sales_orders.exceptions import InvalidInvoiceRequestError, OrderStateError, throw, throw_core_error
from xero_sales_orders.services.order_invoicing import (
	CREDIT_NOTE,
	INVOICE,
	money,
	qty,
	refresh_order_invoicing,
	with_order_locked,
)

CREDIT_NOTE_ITEM = "Xero Credit Note Item"
# Xero allocates credit to an invoice it has approved: AUTHORISED (something due) or PAID (the credit then stays
# on the credit note, to be refunded or allocated in Xero).
CREDITABLE_STATUSES = ("AUTHORISED", "PAID")


def parse_credit_request(lines, returns_to_order):
	"""The REST arguments: ``lines`` as JSON text or a list (None or empty: everything not yet credited) and
	``returns_to_order`` as 0/1 (or true/false)."""
	if lines in (None, "", "null"):
		requested = None
	else:
		if isinstance(lines, str):
			try:
				lines = frappe.parse_json(lines)
			except ValueError:
				throw(_("lines must be a JSON list"), InvalidInvoiceRequestError)
		try:
			requested = parse_credit_lines(lines)
		except InvoicingError as e:
			throw_core_error(e)
	if isinstance(returns_to_order, str):
		returns_to_order = returns_to_order.strip().lower()
		if returns_to_order not in ("0", "1", "true", "false"):
			throw(_("returns_to_order must be 0 or 1"), InvalidInvoiceRequestError)
		returns_to_order = returns_to_order in ("1", "true")
	elif returns_to_order not in (None, 0, 1, True, False):
		throw(_("returns_to_order must be 0 or 1"), InvalidInvoiceRequestError)
	return requested, bool(returns_to_order)


def create_credit_note(invoice_name: str, lines=None, returns_to_order=False):
	"""Creates and commits a Pending Xero Credit Note for ``lines`` ([{"item": <invoice line row>, "qty": q}])
	of a pushed invoice (or everything not yet credited), under its order's lock."""
	requested, returns = parse_credit_request(lines, returns_to_order)
	order = frappe.db.get_value(INVOICE, invoice_name, "sales_order")
	if not order:
		throw(
			_("Invoice {0} belongs to no order here; credit it in Xero").format(invoice_name), OrderStateError
		)
	return with_order_locked(order, lambda: _create(invoice_name, requested, returns))


def preview_credit_note(invoice_name: str, lines=None) -> dict:
	"""The credit note's lines and totals as Xero will hold them, without writing anything (for the dialog)."""
	requested, _returns = parse_credit_request(lines, False)
	invoice = frappe.get_doc(INVOICE, invoice_name)
	plan = _plan(invoice, requested)
	return {
		"lines": [
			{"item": p.line.name, "qty": p.qty, "line_amount": p.line_amount, "tax_amount": p.tax_amount}
			for p in plan.lines
		],
		"subtotal": plan.totals.subtotal,
		"total_tax": plan.totals.total_tax,
		"total": plan.totals.grand_total,
		"currency": invoice.currency,
	}


def creditable_lines(invoice_name: str) -> list[dict]:
	"""The invoice's lines with what is invoiced, credited by live credit notes and still creditable."""
	invoice = frappe.get_doc(INVOICE, invoice_name)
	credited = credited_by_line(invoice.name)
	out = []
	for row in invoice.items:
		c = credited.get(row.name) or {}
		out.append(
			{
				"item": row.name,
				"idx": row.idx,
				"item_code": row.item_code,
				"description": row.description,
				"qty": flt(row.qty, 4),
				"credited_qty": flt(c.get("qty"), 4),
				"creditable_qty": flt(max(qty(row.qty) - qty(c.get("qty")), ZERO), 4),
				"unit_price": row.unit_price,
				"line_amount": row.line_amount,
			}
		)
	return out


def credited_by_line(invoice_name: str) -> dict:
	"""Per invoice line, what the invoice's credit notes credit of it: every one that is not VOIDED or DELETED
	in Xero, Pending and Failed ones included (a Failed one holds its quantities until it is deleted, as a
	Failed invoice does, so that sending it again can never over-credit)."""
	note = frappe.qb.DocType(CREDIT_NOTE)
	item = frappe.qb.DocType(CREDIT_NOTE_ITEM)
	sums = (
		frappe.qb.from_(item)
		.join(note)
		.on(item.parent == note.name)
		.select(
			item.invoice_item,
			Sum(item.qty).as_("qty"),
			Sum(item.line_amount).as_("amount"),
			Sum(item.tax_amount).as_("tax"),
		)
		.where((note.invoice == invoice_name) & (note.status.notin(list(DEAD_INVOICE_STATUSES))))
		.groupby(item.invoice_item)
	).run(as_dict=True)
	return {s.invoice_item: s for s in sums if s.invoice_item}


def ensure_creditable(invoice) -> None:
	"""409 unless the invoice is one Xero holds and has approved (AUTHORISED or PAID)."""
	reasons = {
		"DRAFT": _("it is a DRAFT in Xero: approve it first (Approve & Email), or change it in Xero"),
		"SUBMITTED": _("it is awaiting approval in Xero: approve it first"),
		"VOIDED": _("it is VOIDED in Xero: there is nothing to credit"),
		"DELETED": _("it is DELETED in Xero: there is nothing to credit"),
	}
	if invoice.push_state != "Pushed" or not invoice.xero_invoice_id:
		reason = _("it is not in Xero yet ({0})").format(_(invoice.push_state))
	elif invoice.status not in CREDITABLE_STATUSES:
		reason = reasons.get(invoice.status, _("its Xero status is {0}").format(invoice.status))
	else:
		return
	throw(
		_("Cannot credit invoice {0}: {1}").format(invoice.name, reason),
		OrderStateError,
		title=_("Cannot credit"),
	)


def _plan(invoice, requested):
	ensure_creditable(invoice)
	credited = credited_by_line(invoice.name)
	lines = []
	for row in invoice.items:
		c = credited.get(row.name) or {}
		lines.append(
			CreditableLine(
				name=row.name,
				qty=qty(row.qty),
				unit_price=to_decimal(flt(row.unit_price, 4)),
				discount_rate=to_decimal(flt(row.discount_rate, 4)),
				tax_rate=to_decimal(flt(row.tax_rate, 4)),
				line_amount=money(row.line_amount),
				tax_amount=money(row.tax_amount),
				credited_qty=qty(c.get("qty")),
				credited_amount=money(c.get("amount")),
				credited_tax=money(c.get("tax")),
				label=f"row {row.idx} ({row.item_code or (row.description or '')[:40]})",
			)
		)
	try:
		return plan_credit(lines, requested, invoice.line_amount_type)
	except InvoicingError as e:
		throw_core_error(e, title=_("Cannot credit"))


def _create(invoice_name: str, requested, returns: bool):
	invoice = frappe.get_doc(INVOICE, invoice_name)
	plan = _plan(invoice, requested)
	note = frappe.new_doc(CREDIT_NOTE)
	note.update(
		{
			"sales_order": invoice.sales_order,
			"invoice": invoice.name,
			"customer": invoice.customer,
			"connection": invoice.connection,
			"tenant_id": invoice.tenant_id,
			"credit_note_number": next_credit_note_number(invoice),
			"reference": invoice.invoice_number,
			"credit_date": nowdate(),
			"status": "AUTHORISED",
			"push_state": "Pending",
			"allocation_state": "Pending",
			"returns_to_order": cint(returns),
			"idempotency_key": uuid.uuid4().hex,
			"currency": invoice.currency,
			"line_amount_type": invoice.line_amount_type,
			"subtotal": plan.totals.subtotal,
			"total_tax": plan.totals.total_tax,
			"total": plan.totals.grand_total,
		}
	)
	rows = {row.name: row for row in invoice.items}
	for planned in plan.lines:
		row = rows[planned.line.name]
		note.append(
			"items",
			{
				"invoice_item": row.name,
				"sales_order_item": row.sales_order_item,
				"item_code": row.item_code,
				"description": row.description,
				"qty": planned.qty,
				"unit_price": row.unit_price,
				"discount_rate": row.discount_rate,
				"tax_type": row.tax_type,
				"tax_rate": row.tax_rate,
				"account_code": row.account_code,
				"line_amount": planned.line_amount,
				"tax_amount": planned.tax_amount,
			},
		)
	note.flags.created_by_crediting = True
	note.insert(ignore_permissions=True)
	if returns:
		refresh_order_invoicing(invoice.sales_order)
	return note


def next_credit_note_number(invoice) -> str:
	"""The invoice's number with a suffix per credit note (-CN1, -CN2, ...), from the invoice's own counter,
	advanced under the order's lock: it never goes back, so a deleted credit note's number is never given again."""
	counter = cint(frappe.db.get_value(INVOICE, invoice.name, "credit_note_counter")) + 1
	frappe.db.set_value(INVOICE, invoice.name, "credit_note_counter", counter, update_modified=False)
	return f"{invoice.invoice_number}-CN{counter}"


def credit_notes_of(filters: dict) -> list[dict]:
	"""Credit notes (newest last) for the desk's lists."""
	rows = frappe.get_all(
		CREDIT_NOTE,
		filters=filters,
		fields=[
			"name",
			"invoice",
			"credit_note_number",
			"status",
			"push_state",
			"returns_to_order",
			"raised_in_xero",
			"allocation_state",
			"allocated_amount",
			"remaining_credit",
			"total",
			"currency",
			"last_error",
			"xero_url",
			"creation",
		],
		order_by="creation asc",
	)
	lines = defaultdict(list)
	if rows:
		for item in frappe.get_all(
			CREDIT_NOTE_ITEM,
			filters={"parent": ["in", [r.name for r in rows]], "parenttype": CREDIT_NOTE},
			fields=["parent", "item_code", "description", "qty"],
			order_by="idx asc",
		):
			lines[item.parent].append(item)
	for row in rows:
		row["lines"] = lines.get(row.name, [])
	return rows
