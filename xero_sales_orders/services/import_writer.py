"""The import's writer: proposed orders, their lines, their invoices and the invoices' lines written with one
multi-row INSERT per table and chunk (``_bulk_insert`` says why not ``frappe.db.bulk_insert``), then each
order's invoicing derived by ``refresh_order_invoicing``."""

from decimal import Decimal

import frappe
from frappe import _
from frappe.model.naming import set_new_name
from frappe.utils import now_datetime

from xero_sales_orders.core.import_grouping import OrderLine, ProposedOrder
from xero_sales_orders.core.order_status import OPEN
from xero_sales_orders.services.import_fetch import line_values
from xero_sales_orders.services.import_lookups import free_invoice_names
from xero_sales_orders.services.order_invoicing import INVOICE, ORDER, refresh_order_invoicing
from xero_sales_orders.xero.parsing import parse_xero_date

# Rows per INSERT: a statement of 2,000 invoice lines stays well under MariaDB's max_allowed_packet.
BULK_CHUNK = 2000


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

	def write(self, groups: list[ProposedOrder], by_number: dict) -> list[str]:
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

	def _order_item_row(self, order_name: str, idx: int, line: OrderLine) -> dict:
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
			line_values(values)
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


def _bulk_insert(doctype: str, rows: list[dict]) -> None:
	"""One multi-row INSERT per ``BULK_CHUNK`` rows, every value a parameter escaped by the database driver.

	Not ``frappe.db.bulk_insert``: it builds each value through pypika's query builder, about 4 µs a value
	(27,000 invoice lines of 21 columns: 2.6 s that way, 0.6 s this way, the database's own work included),
	which would add some 6 s to the 10,000-invoice import's 1.5 million values. Like it, this writes the
	given columns only (no document hooks, no defaults): each row carries its name, docstatus and the
	standard fields (``OrderWriter.standard``).
	"""
	if not rows:
		return
	columns = list(dict.fromkeys(key for row in rows for key in row))
	placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
	head = f"insert into `tab{doctype}` ({', '.join(f'`{c}`' for c in columns)}) values "
	for start in range(0, len(rows), BULK_CHUNK):
		chunk = rows[start : start + BULK_CHUNK]
		values = [_db_value(row.get(c)) for row in chunk for c in columns]
		frappe.db.sql(head + ", ".join([placeholders] * len(chunk)), values)


def _db_value(value):
	# Decimals go in as their exact text; MariaDB converts to the column's DECIMAL without float noise.
	return str(value) if isinstance(value, Decimal) else value
