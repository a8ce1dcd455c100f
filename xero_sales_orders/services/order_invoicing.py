"""Line-item invoicing of Xero Sales Orders inside Frappe.

The arithmetic and rules live in ``xero_sales_orders.core``; this module loads rows, locks the
order row so that concurrent requests cannot over-invoice, and writes the results.
"""

import random
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import frappe
from frappe import _
from frappe.query_builder.functions import Sum
from frappe.utils import flt, getdate, nowdate

from xero_sales_orders.core.errors import InvoicingError, StatusRuleError
from xero_sales_orders.core.invoice_options import InvoiceOptions, parse_invoice_options
from xero_sales_orders.core.invoice_plans import OrderLine, parse_requested, plan_invoice
from xero_sales_orders.core.money import ZERO, round_money, round_qty, to_decimal
from xero_sales_orders.core.order_status import (
	DEAD_INVOICE_STATUSES,
	INVOICE_STATUSES,
	ensure_can_close,
	ensure_can_invoice,
	ensure_can_reopen,
)
from xero_sales_orders.exceptions import InvalidInvoiceRequestError, throw, throw_core_error
from xero_sales_orders.services import order_deposits, order_timeline
from xero_sales_orders.services.order_org_settings import refresh_base_figures
from xero_sales_orders.services.quote_invoicing import note_order_status

ORDER = "Xero Sales Order"
INVOICE = "Xero Invoice"
CREDIT_NOTE = "Xero Credit Note"
# MariaDB may still pick a transaction as a deadlock victim (e.g. under Frappe's own writes); it is run again.
DEADLOCK_RETRIES = 3
T = TypeVar("T")


def with_order_locked(sales_order: str, work: Callable[[], T]) -> T:
	"""Runs ``work`` in a transaction of its own that holds the order's row lock, and commits it.

	Everything that changes an order's quantities, invoices or figures runs here, one order per
	transaction. The lock is the transaction's first statement, so the snapshot its plain reads see is
	taken after the previous holder committed; and since nothing else is locked but this order's own
	rows (no locking reads over index ranges that other orders share), two orders never wait on each
	other. The caller's earlier work is committed first. ``work`` must load what it changes itself, so
	that a deadlock victim can be run again from the start.
	"""
	for attempt in range(DEADLOCK_RETRIES + 1):
		frappe.db.commit()
		try:
			frappe.db.sql("select name from `tabXero Sales Order` where name = %s for update", sales_order)
			result = work()
			frappe.db.commit()
			return result
		except frappe.QueryDeadlockError:
			frappe.db.rollback()
			if attempt == DEADLOCK_RETRIES:
				raise
			time.sleep(random.uniform(0.02, 0.1) * (attempt + 1))
		except BaseException:
			frappe.db.rollback()
			raise


def money(value):
	return round_money(to_decimal(value))


def qty(value):
	return round_qty(to_decimal(value))


def order_line(row) -> OrderLine:
	return OrderLine(
		name=row.name,
		qty=qty(row.qty),
		unit_price=to_decimal(flt(row.unit_price, 4)),
		discount_rate=to_decimal(flt(row.discount_rate, 4)),
		tax_rate=to_decimal(flt(row.tax_rate, 4)),
		line_amount=money(row.line_amount),
		tax_amount=money(row.tax_amount),
		invoiced_qty=qty(row.invoiced_qty),
		invoiced_amount=money(row.invoiced_amount),
		invoiced_tax=money(row.invoiced_tax),
		label=f"row {row.idx} ({row.item_code or (row.description or '')[:40]})",
	)


def parse_lines_argument(lines):
	"""Accepts the REST ``lines`` argument as JSON text or a list; None or empty means everything outstanding."""
	if lines in (None, "", "null"):
		return None
	if isinstance(lines, str):
		try:
			lines = frappe.parse_json(lines)
		except ValueError:
			throw(_("lines must be a JSON list"), InvalidInvoiceRequestError)
	if isinstance(lines, list) and not lines:
		return None
	try:
		return parse_requested(lines)
	except InvoicingError as e:
		throw_core_error(e)


def parse_options(invoice_date=None, due_date=None, status=None, currency_rate=None) -> InvoiceOptions:
	"""The invoice's chosen date, due date, DRAFT / AUTHORISED and exchange rate, checked (400 with the reason)."""
	try:
		return parse_invoice_options(
			invoice_date, due_date, status, today=getdate(nowdate()), currency_rate=currency_rate
		)
	except InvoicingError as e:
		throw_core_error(e)


def create_invoice(sales_order: str, lines=None, options: InvoiceOptions | None = None):
	"""Creates and commits a Xero Invoice for chosen lines (or everything outstanding) of a submitted order,
	dated and sent as ``options`` say (the organisation's defaults where they say nothing).

	Runs under the order's row lock (``with_order_locked``), so concurrent requests for the same order run
	one after another and each re-checks what is left; requests for other orders do not wait.
	"""
	requested = parse_lines_argument(lines)
	return with_order_locked(sales_order, lambda: _create_invoice(sales_order, requested, options))


def preview_invoice(sales_order: str, lines=None):
	"""The invoice ``create_invoice`` would raise now, priced as Xero will compute it, with nothing written:
	(order, plan). The plan starts from the order's invoiced figures as last derived; the invoice itself is
	planned again under the order's lock when it is created."""
	requested = parse_lines_argument(lines)
	order = frappe.get_doc(ORDER, sales_order)
	try:
		ensure_can_invoice(order.status)
		return order, plan_invoice(
			[order_line(row) for row in order.items],
			requested,
			order.line_amount_type,
			order_deposits.deposit_position(order),
		)
	except (InvoicingError, StatusRuleError) as e:
		throw_core_error(e, title=_("Cannot invoice"))


def _create_invoice(sales_order: str, requested, options: InvoiceOptions | None = None):
	options = options or InvoiceOptions()
	order = frappe.get_doc(ORDER, sales_order)
	# Plan from the invoices themselves, summed under the lock, not from figures stored on the lines.
	refresh_order_invoicing(order, notify=False)
	try:
		ensure_can_invoice(order.status)
		# It deducts its part of the order's deposits (core.deposit_plans; services.order_deposits).
		deposits = order_deposits.deposit_position(order)
		plan = plan_invoice(
			[order_line(row) for row in order.items], requested, order.line_amount_type, deposits
		)
	except (InvoicingError, StatusRuleError) as e:
		throw_core_error(e, title=_("Cannot invoice"))

	invoice = frappe.new_doc(INVOICE)
	invoice.update(
		{
			"sales_order": order.name,
			"customer": order.customer,
			"connection": order.connection,
			"tenant_id": order.tenant_id,
			"invoice_number": next_invoice_number(order),
			"reference": order.po_number or order.name,
			"invoice_date": options.invoice_date or nowdate(),
			"due_date": options.due_date,
			"requested_status": options.status,
			"currency_rate": _currency_rate(order, options.currency_rate),
			"currency": order.currency,
			"line_amount_type": order.line_amount_type,
			"status": "DRAFT",
			"push_state": "Pending",
			"idempotency_key": uuid.uuid4().hex,
			"subtotal": plan.totals.subtotal,
			"total_discount": plan.totals.total_discount,
			"total_tax": plan.totals.total_tax,
			"total": plan.totals.grand_total,
			"amount_due": plan.totals.grand_total,
		}
	)
	rows = {row.name: row for row in order.items}
	for planned in plan.lines:
		row = rows[planned.order_line.name]
		invoice.append(
			"items",
			{
				"sales_order_item": row.name,
				"item_code": row.item_code,
				"description": row.description,
				"qty": planned.qty,
				"unit_price": row.unit_price,
				"discount_rate": row.discount_rate,
				"discount_amount": planned.discount_amount,
				"tax_type": row.tax_type,
				"tax_rate": row.tax_rate,
				"account_code": row.account_code,
				"line_amount": planned.line_amount,
				"tax_amount": planned.tax_amount,
				# The line's Xero tracking goes with each of its invoices (services.invoice_terms).
				"tracking_option_1": row.get("tracking_option_1"),
				"tracking_option_2": row.get("tracking_option_2"),
			},
		)
	for values in order_deposits.deduction_rows(order, plan.deposit_lines):
		invoice.append("items", values)
	invoice.flags.created_by_invoicing = True
	invoice.insert(ignore_permissions=True)
	refresh_order_invoicing(order)
	order_timeline.invoice_raised(invoice)
	return invoice


def _currency_rate(order, rate):
	"""An exchange rate given for the invoice: only a foreign-currency order's invoice has one."""
	if rate is None:
		return None
	if order.get("base_currency") and order.currency == order.base_currency:
		throw(
			_(
				"{0} is in {1}, the Xero organisation's base currency: its invoices have no exchange rate"
			).format(order.name, order.currency),
			InvalidInvoiceRequestError,
		)
	return rate


def next_invoice_number(order) -> str:
	"""The order's number with a suffix per invoice (XSO-00001-1, -2, ...), unique in Xero.

	The suffix comes from the order's own counter, advanced under the order's row lock: it never goes
	back, so deleting a local invoice never makes the next number one that exists or that Xero holds.
	"""
	order.invoice_counter = (order.invoice_counter or 0) + 1
	frappe.db.set_value(ORDER, order.name, "invoice_counter", order.invoice_counter, update_modified=False)
	return f"{order.name}-{order.invoice_counter}"


def refresh_order_invoicing(order, notify: bool = True) -> None:
	"""Re-derives invoiced and outstanding figures and the status from the order's live invoices.

	Sums are taken in SQL over every invoice that is not VOIDED or DELETED, so a void returns its
	quantities without any bookkeeping of its own; the quantities of credit notes that return them to the
	order (``returned_by_line``) are taken off again, so they are invoiceable once more. The caller holds
	the order's row lock in a transaction that took it first (``with_order_locked``), or created the order
	in this transaction (the import), so plain reads see every invoice committed for it.
	"""
	if isinstance(order, str):
		order = frappe.get_doc(ORDER, order)
	invoice = frappe.qb.DocType(INVOICE)
	item = frappe.qb.DocType("Xero Invoice Item")
	sums = (
		frappe.qb.from_(item)
		.join(invoice)
		.on(item.parent == invoice.name)
		.select(
			item.sales_order_item,
			Sum(item.qty).as_("qty"),
			Sum(item.line_amount).as_("amount"),
			Sum(item.tax_amount).as_("tax"),
		)
		.where((invoice.sales_order == order.name) & (invoice.status.notin(list(DEAD_INVOICE_STATUSES))))
		.groupby(item.sales_order_item)
	).run(as_dict=True)
	by_row = {s.sales_order_item: s for s in sums}
	returned = returned_by_line(order.name)

	invoiced_total = invoiced_tax_total = ZERO
	for row in order.items:
		s = by_row.get(row.name) or {}
		r = returned.get(row.name) or {}
		invoiced_qty = qty(s.get("qty")) - qty(r.get("qty"))
		invoiced_amount = money(s.get("amount")) - money(r.get("amount"))
		invoiced_tax = money(s.get("tax")) - money(r.get("tax"))
		values = {
			"invoiced_qty": invoiced_qty,
			"invoiced_amount": invoiced_amount,
			"invoiced_tax": invoiced_tax,
			"outstanding_qty": max(qty(row.qty) - invoiced_qty, ZERO),
			"outstanding_amount": money(row.line_amount) - invoiced_amount,
		}
		changed = {k: v for k, v in values.items() if to_decimal(row.get(k)) != v}
		if changed:
			row.update(changed)
			frappe.db.set_value(
				row.doctype, row.name, {k: flt(v, 9) for k, v in changed.items()}, update_modified=False
			)
		invoiced_total += invoiced_amount + (invoiced_tax if order.line_amount_type == "Exclusive" else ZERO)
		invoiced_tax_total += invoiced_tax

	paid, credited, due = frappe.db.sql(
		"""select coalesce(sum(amount_paid), 0), coalesce(sum(amount_credited), 0),
			coalesce(sum(amount_due), 0)
		from `tabXero Invoice` where sales_order = %s and status not in %s""",
		(order.name, list(DEAD_INVOICE_STATUSES)),
	)[0]
	grand_total = money(order.grand_total)
	order.paid_amount = money(paid)
	order.credited_amount = money(credited)
	order.due_amount = money(due)
	order.invoiced_amount = invoiced_total
	order.invoiced_tax = invoiced_tax_total  # the lines' sum, so reports need not read every line
	order.outstanding_amount = grand_total - invoiced_total
	order.per_invoiced = invoiced_percent(order, grand_total, invoiced_total)
	order.set_status()
	frappe.db.set_value(
		ORDER,
		order.name,
		{
			"invoiced_amount": flt(order.invoiced_amount, 2),
			"invoiced_tax": flt(order.invoiced_tax, 2),
			"outstanding_amount": flt(order.outstanding_amount, 2),
			"per_invoiced": order.per_invoiced,
			"paid_amount": flt(order.paid_amount, 2),
			"credited_amount": flt(order.credited_amount, 2),
			"due_amount": flt(order.due_amount, 2),
			"status": order.status,
		},
	)
	refresh_base_figures(order)  # its total in the organisation's base currency, at Xero's latest rate
	order_deposits.refresh_deposit_figures(order)  # deposit invoiced, received, deducted, remaining
	# An order made from a Xero quote: once Fully Invoiced, its quote is set to INVOICED (queued after the commit).
	note_order_status(order)
	if notify:
		order.notify_update()


def returned_by_line(sales_order: str) -> dict:
	"""Per order line, the qty, amount and tax that credit notes return to the order (to be invoiced again):
	those raised with ``returns_to_order`` that Xero did not refuse (Pending or Pushed) and that are not VOIDED
	or DELETED in Xero. A credit note voided in Xero gives its quantities back to the invoices."""
	note = frappe.qb.DocType(CREDIT_NOTE)
	item = frappe.qb.DocType("Xero Credit Note Item")
	sums = (
		frappe.qb.from_(item)
		.join(note)
		.on(item.parent == note.name)
		.select(
			item.sales_order_item,
			Sum(item.qty).as_("qty"),
			Sum(item.line_amount).as_("amount"),
			Sum(item.tax_amount).as_("tax"),
		)
		.where(
			(note.sales_order == sales_order)
			& (note.returns_to_order == 1)
			& (note.push_state != "Failed")
			& (note.status.notin(list(DEAD_INVOICE_STATUSES)))
		)
		.groupby(item.sales_order_item)
	).run(as_dict=True)
	return {s.sales_order_item: s for s in sums if s.sales_order_item}


def invoiced_percent(order, grand_total, invoiced_total) -> float:
	if grand_total > 0:
		return flt(invoiced_total * 100 / grand_total, 2)
	ordered = sum((qty(r.qty) for r in order.items), ZERO)
	invoiced = sum((qty(r.invoiced_qty) for r in order.items), ZERO)
	return flt(invoiced * 100 / ordered, 2) if ordered else 0.0


def set_invoice_status(invoice_name: str, status: str) -> None:
	"""Applies a Xero status to the local invoice; a void or delete returns its quantities to the order."""
	if status not in INVOICE_STATUSES:
		throw(
			_("Invoice status must be one of {0}, not {1}").format(", ".join(INVOICE_STATUSES), status),
			InvalidInvoiceRequestError,
		)
	order = frappe.db.get_value(INVOICE, invoice_name, "sales_order")

	def apply():
		invoice = frappe.get_doc(INVOICE, invoice_name)
		if invoice.status == status:
			return
		before = {"status": invoice.status, "amount_paid": invoice.amount_paid}
		invoice.db_set("status", status)
		invoice.add_comment("Info", _("Xero status changed to {0}").format(status))
		refresh_order_invoicing(order)
		order_timeline.invoice_changed_in_xero(
			invoice_name,
			order,
			before,
			{"status": status, "amount_paid": invoice.amount_paid, "amount_due": invoice.amount_due},
			invoice.currency,
		)

	with_order_locked(order, apply)


def close_order(sales_order: str):
	return _set_closed(sales_order, True)


def reopen_order(sales_order: str):
	return _set_closed(sales_order, False)


def _set_closed(sales_order: str, closed: bool):
	"""Short-closes or re-opens the order under its row lock; the status is derived again."""
	check, title, comment = (
		(ensure_can_close, _("Cannot close"), _("Closed; the remainder will not be invoiced"))
		if closed
		else (ensure_can_reopen, _("Cannot re-open"), _("Re-opened"))
	)

	def apply():
		order = frappe.get_doc(ORDER, sales_order)
		try:
			check(order.status)
		except StatusRuleError as e:
			throw_core_error(e, title=title)
		order.is_closed = int(closed)
		order.set_status()
		frappe.db.set_value(ORDER, order.name, {"is_closed": order.is_closed, "status": order.status})
		order.notify_update()
		order.add_comment("Info", comment)
		return order

	return with_order_locked(sales_order, apply)


def has_live_invoices(sales_order: str) -> bool:
	return bool(
		frappe.db.exists(
			INVOICE, {"sales_order": sales_order, "status": ["not in", list(DEAD_INVOICE_STATUSES)]}
		)
	)
