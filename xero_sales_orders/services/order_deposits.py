"""An order's deposits on the Frappe side: what its live invoices leave to deduct, the order's deposit figures,
and the invoice rows of deposit and deduction lines (the rules are ``core.deposit_plans``).

A deposit invoice (``is_deposit``) has one row per tax of the order, of kind *Deposit*, on the organisation's
deposit account; an invoice of the order's lines carries its deductions as rows of kind *Deposit Deduction*
(negative; positive when it gives back what a voided deposit had let it deduct). None of these rows bills an
order line (no ``sales_order_item``), so the order's invoiced quantities and amounts never count them. Like
every figure of the order they are summed over its live invoices only: a voided deposit is no longer deducted.
The caller holds the order's lock (``order_invoicing.with_order_locked``).
"""

import frappe
from frappe import _
from frappe.utils import flt

from xero_sales_orders.core.deposit_plans import DepositLine, DepositPosition, line_total, position
from xero_sales_orders.core.money import ZERO, money_str, round_money, to_decimal
from xero_sales_orders.core.order_status import DEAD_INVOICE_STATUSES
from xero_sales_orders.exceptions import OrderStateError, throw

DEPOSIT = "Deposit"
DEDUCTION = "Deposit Deduction"
DEPOSIT_FIGURES = ("deposit_amount", "deposit_paid", "deposit_deducted", "deposit_remaining")


def _money(value):
	return round_money(to_decimal(value))


def live_deposit_rows(sales_order: str) -> list:
	"""The deposit and deduction rows of the order's live invoices, and (negated) what credit notes Xero did not
	refuse and did not void took off those rows: a deposit credited back is no longer deducted, as a voided one."""
	dead = list(DEAD_INVOICE_STATUSES)
	rows = frappe.db.sql(
		"""select item.line_kind, item.account_code, item.tax_type, item.tax_rate, item.line_amount,
			item.tax_amount, invoice.name as invoice, invoice.invoice_number, invoice.is_deposit
		from `tabXero Invoice Item` item join `tabXero Invoice` invoice on item.parent = invoice.name
		where invoice.sales_order = %s and invoice.status not in %s and item.parenttype = 'Xero Invoice'
			and item.line_kind in %s
		order by invoice.creation, item.idx""",
		(sales_order, dead, [DEPOSIT, DEDUCTION]),
		as_dict=True,
	)
	if not rows:  # no deposit on a live invoice: nothing a credit note could have taken off
		return rows
	credited = frappe.db.sql(
		"""select item.line_kind, credit.account_code, credit.tax_type, credit.tax_rate,
			-credit.line_amount as line_amount, -credit.tax_amount as tax_amount, invoice.name as invoice,
			invoice.invoice_number, invoice.is_deposit
		from `tabXero Credit Note Item` credit
			join `tabXero Credit Note` note on credit.parent = note.name
			join `tabXero Invoice Item` item on item.name = credit.invoice_item
			join `tabXero Invoice` invoice on item.parent = invoice.name
		where note.sales_order = %s and note.status not in %s and note.push_state != 'Failed'
			and invoice.status not in %s and item.line_kind in %s""",
		(sales_order, dead, dead, [DEPOSIT, DEDUCTION]),
		as_dict=True,
	)
	return rows + credited


def as_line(row) -> DepositLine:
	return DepositLine(
		row.tax_type or "",
		to_decimal(flt(row.tax_rate, 4)),
		_money(row.line_amount),
		_money(row.tax_amount),
		row.account_code or "",
	)


def deposit_position(order, rows=None) -> DepositPosition | None:
	"""What the order's live deposit invoices leave to deduct (None: the order has none), with its choice of
	how later invoices deduct it."""
	rows = live_deposit_rows(order.name) if rows is None else rows
	return position((as_line(r) for r in rows), order.get("deposit_deduction"))


def refresh_deposit_figures(order) -> None:
	"""Sets the order's Deposit Invoiced, Received, Deducted and Remaining from its live invoices (called by
	``refresh_order_invoicing``, which holds the order's lock)."""
	lat = order.line_amount_type
	rows = live_deposit_rows(order.name)
	invoiced = deducted = paid = ZERO
	for row in rows:
		total = line_total(_money(row.line_amount), _money(row.tax_amount), lat)
		if row.line_kind == DEPOSIT:
			invoiced += total
		else:
			deducted -= total
	if rows:
		paid = _money(
			frappe.db.sql(
				"""select coalesce(sum(amount_paid), 0) from `tabXero Invoice`
				where sales_order = %s and is_deposit = 1 and status not in %s""",
				(order.name, list(DEAD_INVOICE_STATUSES)),
			)[0][0]
		)
	values = {
		"deposit_amount": invoiced,
		"deposit_paid": paid,
		"deposit_deducted": deducted,
		"deposit_remaining": invoiced - deducted,
	}
	changed = {k: v for k, v in values.items() if _money(order.get(k)) != v}
	if changed:
		order.update(changed)
		frappe.db.set_value(
			order.doctype, order.name, {k: flt(v, 2) for k, v in changed.items()}, update_modified=False
		)


def still_to_invoice(order, held: DepositPosition | None) -> object:
	"""The order's outstanding amount less the deposits it has not deducted yet (as last derived)."""
	return _money(order.outstanding_amount) - (held.total(order.line_amount_type) if held else ZERO)


def deposit_account(order) -> str:
	"""The deposit account of the order's organisation (409 when it has none, or Xero does not list it as an
	active account of the organisation)."""
	row = frappe.db.get_value(
		"Xero Connection Tenant",
		{"parent": order.connection, "parenttype": "Xero Connection", "tenant_id": order.tenant_id},
		["deposit_account_code", "tenant_name"],
		as_dict=True,
	)
	code = ((row or {}).get("deposit_account_code") or "").strip()
	organisation = (row or {}).get("tenant_name") or order.tenant_id or _("its organisation")
	if not order.connection or not order.tenant_id or not code:
		throw(
			_(
				"{0} cannot take a deposit: set a Deposit Account Code for the Xero organisation {1} on the "
				"Xero Connection {2} first"
			).format(order.name, organisation, order.connection or _("(none)")),
			OrderStateError,
			title=_("No deposit account"),
		)
	org = {"connection": order.connection, "tenant_id": order.tenant_id}
	if frappe.db.exists("Xero Account", org) and not frappe.db.exists(
		"Xero Account", {**org, "account_code": code, "status": "ACTIVE"}
	):
		throw(
			_(
				"The deposit account {0} is not an active account of the Xero organisation {1}: pick another on "
				"the Xero Connection {2}, or sync it"
			).format(code, organisation, order.connection),
			OrderStateError,
			title=_("No deposit account"),
		)
	return code


def invoice_row(line: DepositLine, kind: str, description: str) -> dict:
	"""A Xero Invoice Item for a deposit or deduction line: one unit at its amount on the deposit account."""
	return {
		"line_kind": kind,
		"sales_order_item": None,
		"description": description,
		"qty": 1,
		"unit_price": line.line_amount,
		"discount_rate": 0,
		"discount_amount": 0,
		"tax_type": line.tax_type or None,
		"tax_rate": line.tax_rate,
		"account_code": line.account_code or None,
		"line_amount": line.line_amount,
		"tax_amount": line.tax_amount,
	}


def deduction_rows(order, lines, rows=None) -> list[dict]:
	"""The invoice rows of an invoice's deposit lines (``InvoicePlan.deposit_lines``)."""
	if not lines:
		return []
	rows = live_deposit_rows(order.name) if rows is None else rows
	numbers = ", ".join(dict.fromkeys(r.invoice_number for r in rows if r.is_deposit and r.invoice_number))
	out = []
	for line in lines:
		if line.total(order.line_amount_type) < 0:
			text = _("Less deposit {0} on order {1}").format(numbers, order.name).replace("  ", " ")
		else:
			text = _("Deposit deducted earlier and since voided in Xero, on order {0}").format(order.name)
		out.append(invoice_row(line, DEDUCTION, text))
	return out


def deposit_description(order, total, percent) -> str:
	reference = f" ({order.po_number})" if order.po_number else ""
	if percent not in (None, ""):
		return _("Deposit of {0}% on order {1}{2}").format(
			format(to_decimal(percent).normalize(), "f"), order.name, reference
		)
	return _("Deposit of {0} {1} on order {2}{3}").format(
		order.currency, money_str(total), order.name, reference
	)
