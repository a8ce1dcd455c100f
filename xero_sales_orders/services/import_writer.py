"""The import's writer: proposed orders, their lines, their invoices and the invoices' lines written with one
multi-row INSERT per table and chunk (``import_sql.insert_statements``), each order with its invoicing figures
already derived.

An imported order is new and no one else can see it before the chunk commits, and every invoice it will have
is written with it: so its invoiced, outstanding and paid figures and its status are derived here, in bulk,
from exactly what ``refresh_order_invoicing`` would sum (the live invoices' lines and amounts paid), instead
of asking the database once per order. The tests run ``refresh_order_invoicing`` over imported orders and
require that it changes nothing.
"""

import secrets
from dataclasses import dataclass
from decimal import Decimal

import frappe
from frappe import _
from frappe.model.base_document import get_controller
from frappe.model.naming import BRACED_PARAMS_PATTERN, getseries, parse_naming_series, set_new_name

from xero_sales_orders.core.currencies import base_amount
from xero_sales_orders.core.import_grouping import OrderLine, ProposedOrder
from xero_sales_orders.core.money import EXCLUSIVE, ZERO, round_money, round_qty
from xero_sales_orders.core.order_status import derive_status, is_live_invoice
from xero_sales_orders.services.import_fetch import line_values
from xero_sales_orders.services.import_lookups import free_invoice_names
from xero_sales_orders.services.import_sql import insert_statements, run, standard_fields
from xero_sales_orders.services.order_invoicing import INVOICE, ORDER, invoiced_percent
from xero_sales_orders.services.order_org_settings import base_currency_of
from xero_sales_orders.xero.parsing import parse_xero_date


@dataclass
class Prepared:
	"""A chunk's orders: their names and the statements that insert them with their lines and invoices."""

	names: list[str]
	statements: list[str]


def row_name() -> str:
	"""A child row's name: twenty random hex characters. Frappe names child rows with ten
	(``frappe.generate_hash(length=10)``), 40 bits: among the million rows an import of 100,000 invoices
	writes, two would share one about half the time (the benchmark met it: a duplicate primary key); 80 bits
	never will."""
	return secrets.token_hex(10)


class OrderWriter:
	"""Writes proposed orders, their lines, invoices and invoice lines with one multi-row INSERT per table,
	every order with its invoicing figures and status derived (see the module's docstring)."""

	def __init__(self, batch):
		self.batch = batch
		org = {"connection": batch.connection, "tenant_id": batch.tenant_id}
		self.items = dict(frappe.get_all("Xero Item", org, ["item_code", "name"], as_list=True))
		self.taxes = dict(frappe.get_all("Xero Tax Rate", org, ["tax_type", "name"], as_list=True))
		self.accounts = dict(frappe.get_all("Xero Account", org, ["account_code", "name"], as_list=True))
		# Xero's tracking of the lines, as the organisation's synced options (named by TrackingOptionID).
		self.options = set(frappe.get_all("Xero Tracking Option", org, pluck="name"))
		self.base_currency = base_currency_of(batch.connection, batch.tenant_id)
		# Derived by refresh_order_invoicing where the order has it.
		self.credited = frappe.get_meta(ORDER).has_field("credited_amount")

	def write(self, groups: list[ProposedOrder]) -> list[str]:
		"""Writes the groups' orders (importable ones; the caller checked) and returns their names."""
		prepared = self.prepare(groups)
		self.insert(prepared)
		return prepared.names

	def prepare(self, groups: list[ProposedOrder]) -> "Prepared":
		"""The rows of the groups' orders, lines, invoices and invoice lines, named, nothing written: it reads
		the site and takes the orders' names from their series (see ``reserve_order_names``)."""
		self.standard = standard_fields()
		contact_names = dict(
			frappe.get_all(
				"Xero Contact",
				{"name": ["in", list({g.contact_id for g in groups})]},
				["name", "contact_name"],
				as_list=True,
			)
		)
		orders, order_items, invoices, invoice_items = [], [], [], []
		self.order_names = iter(reserve_order_names(len(groups)))
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
			paid = credited = due = ZERO
			first_invoice = len(invoices)  # this order's invoices are the ones appended from here
			for invoice_index, source in enumerate(group.invoices):
				if invoice_index in group.left_out:
					continue  # voided or deleted, not asked for as demand: not part of the order
				raw = source.raw
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
				if source.is_live:
					paid += Decimal(raw["paid"])
					credited += Decimal(raw["credited"])
					due += Decimal(raw["due"])
			self._derive(order, rows, paid, credited)
			order["due_amount"] = round_money(due)
			self._base_figures(order, invoices[first_invoice:])
			orders.append(order)
			order_items.extend(rows)
		statements = [
			statement
			for doctype, rows in (
				(ORDER, orders),
				("Xero Sales Order Item", order_items),
				(INVOICE, invoices),
				("Xero Invoice Item", invoice_items),
			)
			for statement in insert_statements(doctype, rows)
		]
		return Prepared([order["name"] for order in orders], statements)

	@staticmethod
	def insert(prepared: "Prepared") -> None:
		"""Writes prepared rows: one multi-row INSERT per table and chunk, written beforehand."""
		run(prepared.statements)

	def _derive(self, order: dict, rows: list[dict], paid: Decimal, credited: Decimal) -> None:
		"""The order's and its lines' invoicing figures and status, as ``refresh_order_invoicing`` derives them
		from the live invoices written with it."""
		invoiced_total = ZERO
		for row in rows:
			row["invoiced_qty"] = round_qty(row["invoiced_qty"])
			row["invoiced_amount"] = round_money(row["invoiced_amount"])
			row["invoiced_tax"] = round_money(row["invoiced_tax"])
			row["outstanding_qty"] = max(round_qty(row["qty"]) - row["invoiced_qty"], ZERO)
			row["outstanding_amount"] = round_money(row["line_amount"]) - row["invoiced_amount"]
			invoiced_total += row["invoiced_amount"] + (
				row["invoiced_tax"] if order["line_amount_type"] == EXCLUSIVE else ZERO
			)
		grand_total = round_money(order["grand_total"])
		lines = [frappe._dict(qty=row["qty"], invoiced_qty=row["invoiced_qty"]) for row in rows]
		order["invoiced_amount"] = invoiced_total
		order["invoiced_tax"] = sum((row["invoiced_tax"] for row in rows), ZERO)
		order["outstanding_amount"] = grand_total - invoiced_total
		order["per_invoiced"] = invoiced_percent(frappe._dict(items=lines), grand_total, invoiced_total)
		order["paid_amount"] = round_money(paid)
		if self.credited:
			order["credited_amount"] = round_money(credited)
		order["status"] = derive_status(1, False, [(line.qty, line.invoiced_qty) for line in lines])

	def _base_figures(self, order: dict, invoices: list[dict]) -> None:
		"""The order's total in its organisation's base currency at the rate of its latest live invoice, as
		``order_org_settings.refresh_base_figures`` derives it."""
		order["base_currency"] = self.base_currency
		if self.base_currency and order["currency"] == self.base_currency:
			order["exchange_rate"], order["base_grand_total"] = 1, order["grand_total"]
			return
		rated = [i for i in invoices if is_live_invoice(i["status"]) and i.get("currency_rate")]
		rate = Decimal(max(rated, key=lambda i: i["name"])["currency_rate"]) if rated else None
		order["exchange_rate"] = rate or 0
		order["base_grand_total"] = base_amount(Decimal(order["grand_total"]), rate) if rate else 0

	def _order_row(self, group, contact_names: dict) -> dict:
		t = group.totals
		return {
			**self.standard,
			"name": next(self.order_names),
			"docstatus": 1,
			"customer": group.contact_id,
			"customer_name": contact_names.get(group.contact_id) or group.contact_name,
			"po_number": group.key,
			"order_date": group.order_date,
			"currency": group.currency,
			"line_amount_type": group.line_amount_type,
			"is_closed": 0,
			"connection": self.batch.connection,
			"tenant_id": self.batch.tenant_id,
			"subtotal": t.subtotal,
			"total_discount": t.total_discount,
			"total_tax": t.total_tax,
			"grand_total": t.grand_total,
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
			"name": row_name(),
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
			"invoiced_amount": ZERO,
			"invoiced_tax": ZERO,
			**self._tracking(line.tracking),
		}

	def _tracking(self, option_ids) -> dict:
		"""The two tracking fields of a line from Xero's TrackingOptionIDs (only options synced here)."""
		known = [o for o in option_ids if o in self.options][:2]
		return {f"tracking_option_{n}": known[n - 1] if len(known) >= n else None for n in (1, 2)}

	def _invoice_item_row(self, raw: dict, line_index: int, values: list, order_row: dict, line) -> dict:
		code, description, qty, price, discount, tax_type, account, amount, tax, discount_amount, tracking = (
			line_values(values)
		)
		return {
			**self.standard,
			"name": row_name(),
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
			**self._tracking(tracking),
		}

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
			"currency_rate": raw.get("rate") or None,
		}


def reserve_order_names(count: int) -> list[str]:
	"""``count`` names by the order's own naming rule (its series), so imported orders number like the others.

	When the rule is the doctype's ``format:`` with one series in it (``XSO-{#####}``) and nothing else names
	orders (no Document Naming Rule, no ``autoname`` in the controller), the first number is taken as Frappe
	takes every one (``getseries``, which locks the series' row until the caller commits) and the series is
	advanced past the other ``count - 1`` in one statement: one round trip for a chunk, not two per order
	(10,000 invoices: 3.5 of the import's 10.6 s went to naming 2,500 orders one by one). Otherwise each
	order is named by Frappe's ``set_new_name``. The import commits the names before it writes the chunk.
	"""
	if count <= 0:
		return []
	template = _series_template()
	if template is None:
		names = []
		for _ in range(count):
			doc = frappe.new_doc(ORDER)
			set_new_name(doc)
			names.append(doc.name)
		return names
	brace = BRACED_PARAMS_PATTERN.search(template).group()
	hashes = brace[1:-1]
	taken = {}

	def first_of_block(key: str, digits: int) -> str:
		first = int(getseries(key, digits))
		if count > 1:
			frappe.db.sql(
				"update `tabSeries` set `current` = `current` + %s where `name` = %s", (count - 1, key)
			)
		taken.update(first=first, digits=digits)
		return str(first).zfill(digits)

	parse_naming_series([hashes], number_generator=first_of_block)
	first, digits = taken["first"], taken["digits"]
	return [template.replace(brace, str(number).zfill(digits)) for number in range(first, first + count)]


def _series_template() -> str | None:
	"""The order's ``format:`` template when its only part that varies is one series, else None."""
	autoname = frappe.get_meta(ORDER).autoname or ""
	if not autoname.startswith("format:"):
		return None
	template = autoname[len("format:") :]
	params = BRACED_PARAMS_PATTERN.findall(template)
	if len(params) != 1 or not set(params[0][1:-1]) == {"#"}:
		return None
	controller = get_controller(ORDER)
	if hasattr(controller, "autoname") or hasattr(controller, "before_naming"):
		return None
	if frappe.get_all("Document Naming Rule", {"document_type": ORDER, "disabled": 0}, limit=1):
		return None
	return template


def _naive_utc(value: str):
	moment = parse_xero_date(value) if value else None
	return moment.replace(tzinfo=None) if moment else None
