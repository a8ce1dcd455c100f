"""Xero's credit notes applied here (Xero -> here), from CREDITNOTE webhooks, from an invoice's ``CreditNotes``
and from the reconciliation:

- a credit note of ours (raised by the app) takes Xero's status, remaining credit and totals where Xero's are
  newer; one voided in Xero no longer returns its quantities to the order (they count as invoiced again);
- a credit note raised in Xero directly and allocated to one of our invoices shows up as a credit note of that
  invoice (``raised_in_xero``: its quantities stay invoiced, Xero says nothing of which order lines it credits);
- the invoices they are allocated to are read back from Xero, so that their Amount Credited and Amount Due,
  and the order's Credited figure, are Xero's.

Each order's changes are committed under its lock (``order_invoicing.with_order_locked``); supplier credit notes
(ACCPAYCREDIT) are not the app's.
"""

from collections import defaultdict

import frappe
from frappe import _

from xero_sales_orders.core.money import ZERO, round_money, to_decimal
from xero_sales_orders.services import order_timeline
from xero_sales_orders.services.credit_note_push import credit_note_figures
from xero_sales_orders.services.invoice_updates import apply_xero_invoices
from xero_sales_orders.services.order_invoicing import (
	CREDIT_NOTE,
	INVOICE,
	ORDER,
	refresh_order_invoicing,
	with_order_locked,
)
from xero_sales_orders.xero.parsing import parse_xero_date

SALES_CREDIT = "ACCRECCREDIT"


def apply_xero_credit_notes(client, elements: list[dict], connection: str, tenant_id: str) -> dict[str, str]:
	"""Applies Xero's credit notes; returns the local credit note name of each CreditNoteID that concerns the
	app (ours, or allocated to one of our invoices). Reads back the invoices they are allocated to."""
	notes = {
		e["CreditNoteID"].lower(): e
		for e in elements
		if e.get("CreditNoteID") and e.get("Type") == SALES_CREDIT
	}
	if not notes:
		return {}
	local = _local_credit_notes(notes, connection, tenant_id)
	allocated_to = defaultdict(list)  # credit note id -> [(our invoice row, amount)]
	invoice_ids = {
		((a.get("Invoice") or {}).get("InvoiceID") or "").lower()
		for e in notes.values()
		for a in e.get("Allocations") or []
	} - {""}
	ours = {}
	if invoice_ids:
		for row in frappe.get_all(
			INVOICE,
			{"xero_invoice_id": ["in", list(invoice_ids)], "connection": connection, "tenant_id": tenant_id},
			["name", "xero_invoice_id", "sales_order", "customer"],
		):
			ours[row.xero_invoice_id.lower()] = row
	for note_id, element in notes.items():
		for a in element.get("Allocations") or []:
			row = ours.get(((a.get("Invoice") or {}).get("InvoiceID") or "").lower())
			if row:
				allocated_to[note_id].append((row, round_money(to_decimal(a.get("Amount")))))

	applied, to_read = {}, set()
	for note_id, element in notes.items():
		row = local.get(note_id)
		if row is not None:
			if row.push_state != "Pending":  # a Pending one is its pusher's to record
				with_order_locked(
					row.sales_order, lambda row=row, element=element: _apply_if_newer(row, element)
				)
			applied[element["CreditNoteID"]] = row.name
		elif allocated_to[note_id]:
			invoice = allocated_to[note_id][0][0]
			amount = sum((amount for _row, amount in allocated_to[note_id]), ZERO)
			name = with_order_locked(
				invoice.sales_order,
				lambda element=element, invoice=invoice, amount=amount: _insert_raised_in_xero(
					element, invoice, amount, connection, tenant_id
				),
			)
			if name:
				applied[element["CreditNoteID"]] = name
		to_read.update(row.xero_invoice_id for row, _amount in allocated_to[note_id])
	if to_read:
		apply_xero_invoices(list(client.invoices(ids=sorted(to_read))), connection, tenant_id)
	return applied


def follow_invoice_credit_notes(client, elements: list[dict], connection: str, tenant_id: str) -> dict:
	"""An invoice of ours that lists a credit note unknown here (``Invoice.CreditNotes``): that credit note is
	fetched and applied (one call for up to 25 of them). Invoices that are not ours are left alone."""
	listed = {
		(c.get("CreditNoteID") or "").lower(): e.get("InvoiceID")
		for e in elements
		for c in e.get("CreditNotes") or []
		if c.get("CreditNoteID")
	}
	if not listed:
		return {}
	ours = set(
		frappe.get_all(
			INVOICE,
			{
				"xero_invoice_id": ["in", list(set(listed.values()))],
				"connection": connection,
				"tenant_id": tenant_id,
			},
			pluck="xero_invoice_id",
		)
	)
	known = {
		(i or "").lower()
		for i in frappe.get_all(
			CREDIT_NOTE,
			{"xero_credit_note_id": ["in", list(listed)], "tenant_id": tenant_id},
			pluck="xero_credit_note_id",
		)
	}
	unknown = [
		note_id for note_id, invoice_id in listed.items() if invoice_id in ours and note_id not in known
	]
	if not unknown:
		return {}
	return apply_xero_credit_notes(client, list(client.credit_notes(ids=unknown)), connection, tenant_id)


def _local_credit_notes(notes: dict, connection: str, tenant_id: str) -> dict:
	fields = ["name", "sales_order", "push_state", "xero_updated_at", "returns_to_order", "status", "total"]
	fields += ["xero_credit_note_id", "credit_note_number", "subtotal", "total_tax", "totals_differ"]
	local = {}
	for row in frappe.get_all(
		CREDIT_NOTE, {"xero_credit_note_id": ["in", list(notes)], "tenant_id": tenant_id}, fields
	):
		local[row.xero_credit_note_id.lower()] = row
	# One whose push answer was lost is known here by its number only.
	numbers = {
		e.get("CreditNoteNumber"): note_id
		for note_id, e in notes.items()
		if note_id not in local and e.get("CreditNoteNumber")
	}
	if numbers:
		for row in frappe.get_all(
			CREDIT_NOTE,
			{
				"credit_note_number": ["in", list(numbers)],
				"connection": connection,
				"tenant_id": tenant_id,
				"xero_credit_note_id": ["is", "not set"],
			},
			fields,
		):
			local[numbers[row.credit_note_number]] = row
	return local


def _apply_if_newer(row, element: dict) -> None:
	current = frappe.db.get_value(CREDIT_NOTE, row.name, ["xero_updated_at", "status"], as_dict=True)
	updated = parse_xero_date(element.get("UpdatedDateUTC"))
	if current.xero_updated_at and updated and updated.replace(tzinfo=None) <= current.xero_updated_at:
		return  # an older or repeated event: what we hold is as new
	values = credit_note_figures(element, row)
	allocated = sum(
		(round_money(to_decimal(a.get("Amount"))) for a in element.get("Allocations") or []), ZERO
	)
	values["allocated_amount"] = allocated
	frappe.db.set_value(CREDIT_NOTE, row.name, values, update_modified=False)
	if values["status"] != current.status:
		if values["status"] in ("VOIDED", "DELETED") and row.returns_to_order:
			frappe.get_doc(ORDER, row.sales_order).add_comment(
				"Info",
				_(
					"Credit note {0} is {1} in Xero: the quantities it returned count as invoiced again"
				).format(row.name, values["status"]),
			)
		if row.returns_to_order:
			refresh_order_invoicing(row.sales_order)


def _insert_raised_in_xero(element: dict, invoice, allocated, connection: str, tenant_id: str) -> str | None:
	if frappe.db.exists(
		CREDIT_NOTE, {"xero_credit_note_id": element["CreditNoteID"], "tenant_id": tenant_id}
	):
		return None  # another drain or the reconciliation brought it meanwhile
	issued = parse_xero_date(element.get("Date"))
	theirs = {
		"subtotal": to_decimal(element.get("SubTotal")),
		"total_tax": to_decimal(element.get("TotalTax")),
		"total": to_decimal(element.get("Total")),
	}
	note = frappe.new_doc(CREDIT_NOTE)
	note.update(
		{
			"sales_order": invoice.sales_order,
			"invoice": invoice.name,
			"customer": invoice.customer,
			"connection": connection,
			"tenant_id": tenant_id,
			"credit_note_number": element.get("CreditNoteNumber") or element["CreditNoteID"],
			"reference": (element.get("Reference") or "")[:140],
			"credit_date": issued.date() if issued else None,
			"push_state": "Pushed",
			"raised_in_xero": 1,
			"returns_to_order": 0,
			"allocation_state": "Allocated",
			"allocated_amount": allocated,
			"currency": element.get("CurrencyCode"),
			"line_amount_type": element.get("LineAmountTypes") or "Exclusive",
			**theirs,
			**credit_note_figures(element, theirs),
		}
	)
	for line in element.get("LineItems") or []:
		note.append(
			"items",
			{
				"item_code": line.get("ItemCode"),
				"description": line.get("Description"),
				"qty": to_decimal(line.get("Quantity")),
				"unit_price": to_decimal(line.get("UnitAmount")),
				"tax_type": line.get("TaxType"),
				"account_code": line.get("AccountCode"),
				"line_amount": to_decimal(line.get("LineAmount")),
				"tax_amount": to_decimal(line.get("TaxAmount")),
			},
		)
	note.flags.created_by_crediting = True
	note.insert(ignore_permissions=True)
	order_timeline.invoice_credited(
		invoice.sales_order,
		invoice.name,
		note.name,
		allocated,
		note.currency,
		credit_note_doctype=CREDIT_NOTE,
		returned_to_order=False,
	)
	return note.name
