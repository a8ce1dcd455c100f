"""Fast bulk seeding of submitted orders for the report benchmarks (SQL inserts, no document per row).

cd ~/frappe-bench/sites && ../env/bin/python -m xso_devkit.execute --site SITE benchmarks.on_site_seed.seed_orders --kwargs "{'orders': 10000}"

Every other order is partially invoiced: its first five lines are half invoiced by one Pending invoice.
Figures are priced with the app's own core (Xero's arithmetic), so the reports see consistent orders.
"""

import random
import uuid
from datetime import timedelta
from decimal import Decimal

import frappe
from frappe.utils import add_days, getdate, now_datetime, nowdate

from xero_sales_orders.core.pricing import parse_line, price_line, totals

SEED_PREFIX = "XSO-SEED-"
LINES_PER_ORDER = 10
INVOICED_LINES = 5
CUSTOMERS = 200
CURRENCIES = ("NZD", "NZD", "NZD", "AUD", "USD")
CHUNK_ORDERS = 5000

ORDER_FIELDS = (
	"name", "creation", "modified", "modified_by", "owner", "docstatus", "idx", "customer", "customer_name",
	"po_number", "order_date", "expected_date", "currency", "line_amount_type", "status", "is_closed",
	"subtotal", "total_discount", "total_tax", "grand_total", "invoiced_amount", "outstanding_amount",
	"per_invoiced", "paid_amount", "invoiced_tax",
)  # fmt: skip
ITEM_FIELDS = (
	"name", "creation", "modified", "modified_by", "owner", "docstatus", "parent", "parenttype", "parentfield",
	"idx", "item_code", "description", "qty", "unit_price", "discount_rate", "tax_rate", "line_amount",
	"tax_amount", "invoiced_qty", "invoiced_amount", "invoiced_tax", "outstanding_qty", "outstanding_amount",
)  # fmt: skip
INVOICE_FIELDS = (
	"name", "creation", "modified", "modified_by", "owner", "docstatus", "idx", "sales_order", "customer",
	"invoice_number", "reference", "status", "push_state", "invoice_date", "currency", "line_amount_type",
	"idempotency_key", "subtotal", "total_discount", "total_tax", "total", "amount_paid", "amount_due",
)  # fmt: skip
INVOICE_ITEM_FIELDS = (
	"name", "creation", "modified", "modified_by", "owner", "docstatus", "parent", "parenttype", "parentfield",
	"idx", "sales_order_item", "item_code", "description", "qty", "unit_price", "discount_rate", "tax_rate",
	"line_amount", "tax_amount", "discount_amount",
)  # fmt: skip


def seed_customers(count: int) -> list[tuple[str, str]]:
	existing = frappe.get_all(
		"Xero Contact", {"contact_name": ["like", "Seed Customer %"]}, ["name", "contact_name"], limit=count
	)
	rows = [(c.name, c.contact_name) for c in existing]
	for n in range(len(rows), count):
		contact_id = str(uuid.uuid4())
		name = f"Seed Customer {n + 1:03d}"
		frappe.get_doc(
			{
				"doctype": "Xero Contact",
				"contact_id": contact_id,
				"contact_name": name,
				"contact_status": "ACTIVE",
			}
		).db_insert()
		rows.append((contact_id, name))
	return rows


def seed_orders(orders: int = 10000, seed: int = 7) -> dict:
	"""Inserts ``orders`` submitted orders of 10 lines each (names XSO-SEED-nnnnnn), replacing earlier seeds."""
	rng = random.Random(seed)
	clear_seed()
	customers = seed_customers(CUSTOMERS)
	started, user, today = now_datetime(), "Administrator", getdate(nowdate())
	order_rows, item_rows, invoice_rows, invoice_item_rows = [], [], [], []
	counts = {"orders": 0, "lines": 0, "invoices": 0}
	for n in range(1, orders + 1):
		if len(order_rows) >= CHUNK_ORDERS:
			_insert(counts, order_rows, item_rows, invoice_rows, invoice_item_rows)
		name = f"{SEED_PREFIX}{n:06d}"
		# Created one second apart in name order, so the list's newest-first order means something.
		now = started - timedelta(seconds=orders - n)
		customer, customer_name = customers[rng.randrange(len(customers))]
		currency = rng.choice(CURRENCIES)
		order_date = today - timedelta(days=rng.randrange(0, 400))
		partially_invoiced = n % 2 == 0
		lines, invoiced_lines = [], []
		for idx in range(1, LINES_PER_ORDER + 1):
			line = parse_line(
				rng.randint(2, 40), Decimal(rng.randint(100, 50000)) / 100, rng.choice((0, 0, 5, 10)), 15
			)
			priced = price_line(line)
			invoiced_qty = (line.qty // 2) if partially_invoiced and idx <= INVOICED_LINES else Decimal(0)
			invoiced = (
				price_line(parse_line(invoiced_qty, line.unit_price, line.discount_rate, 15))
				if invoiced_qty
				else None
			)
			lines.append(priced)
			row_name = f"{name}-{idx:02d}"
			item_rows.append(
				(
					row_name, now, now, user, user, 1, name, "Xero Sales Order", "items", idx, f"ITEM-{idx:02d}",
					f"Seeded item {idx}", line.qty, line.unit_price, line.discount_rate, line.tax_rate,
					priced.line_amount, priced.tax_amount, invoiced_qty,
					invoiced.line_amount if invoiced else 0, invoiced.tax_amount if invoiced else 0,
					line.qty - invoiced_qty, priced.line_amount - (invoiced.line_amount if invoiced else 0),
				)
			)  # fmt: skip
			if invoiced:
				invoiced_lines.append(invoiced)
				invoice_item_rows.append(
					(
						f"{row_name}-I", now, now, user, user, 0, f"{name}-1", "Xero Invoice", "items", idx, row_name,
						f"ITEM-{idx:02d}", f"Seeded item {idx}", invoiced_qty, line.unit_price, line.discount_rate,
						line.tax_rate, invoiced.line_amount, invoiced.tax_amount, invoiced.discount_amount,
					)
				)  # fmt: skip
		order_totals = totals(lines)
		invoiced_total = totals(invoiced_lines).grand_total if invoiced_lines else Decimal(0)
		# Every fourth order has its invoice paid in Xero, so the order book has paid amounts.
		paid = invoiced_total if n % 4 == 0 else Decimal(0)
		if invoiced_lines:
			invoice_totals = totals(invoiced_lines)
			invoice_rows.append(
				(
					f"{name}-1", now, now, user, user, 0, 0, name, customer, f"{name}-1", f"SEED-PO-{n:06d}",
					"PAID" if paid else "AUTHORISED", "Pending", add_days(order_date, 3), currency, "Exclusive",
					uuid.uuid4().hex, invoice_totals.subtotal, invoice_totals.total_discount,
					invoice_totals.total_tax, invoice_totals.grand_total, paid, invoice_totals.grand_total - paid,
				)
			)  # fmt: skip
		order_rows.append(
			(
				name, now, now, user, user, 1, 0, customer, customer_name, f"SEED-PO-{n:06d}", order_date,
				order_date + timedelta(days=rng.randrange(7, 90)), currency, "Exclusive",
				"Partially Invoiced" if partially_invoiced else "Open", 0, order_totals.subtotal,
				order_totals.total_discount, order_totals.total_tax, order_totals.grand_total, invoiced_total,
				order_totals.grand_total - invoiced_total,
				round(float(invoiced_total * 100 / order_totals.grand_total), 2), paid,
				totals(invoiced_lines).total_tax if invoiced_lines else 0,
			)
		)  # fmt: skip
	_insert(counts, order_rows, item_rows, invoice_rows, invoice_item_rows)
	return counts


def _insert(
	counts: dict, order_rows: list, item_rows: list, invoice_rows: list, invoice_item_rows: list
) -> None:
	"""Writes a chunk of seeded rows and empties the lists (memory stays flat at 100,000 orders)."""
	frappe.db.bulk_insert("Xero Sales Order", ORDER_FIELDS, order_rows)
	frappe.db.bulk_insert("Xero Sales Order Item", ITEM_FIELDS, item_rows)
	frappe.db.bulk_insert("Xero Invoice", INVOICE_FIELDS, invoice_rows)
	frappe.db.bulk_insert("Xero Invoice Item", INVOICE_ITEM_FIELDS, invoice_item_rows)
	frappe.db.commit()
	counts["orders"] += len(order_rows)
	counts["lines"] += len(item_rows)
	counts["invoices"] += len(invoice_rows)
	for rows in (order_rows, item_rows, invoice_rows, invoice_item_rows):
		rows.clear()


def clear_seed() -> None:
	like = f"{SEED_PREFIX}%"
	frappe.db.sql("delete from `tabXero Invoice Item` where parent like %s", like)
	frappe.db.sql("delete from `tabXero Invoice` where name like %s", like)
	frappe.db.sql("delete from `tabXero Sales Order Item` where parent like %s", like)
	frappe.db.sql("delete from `tabXero Sales Order` where name like %s", like)
	frappe.db.commit()


def seed_backlog(
	org,
	invoices: int,
	prefix: str,
	attempts: int = 0,
	invoices_per_order: int = 2,
	lines_per_invoice: int = 2,
	seed: int = 11,
) -> list[str]:
	"""Submitted orders of one organisation (``org`` as xso_devkit.sandbox.synced_organisation returns it)
	with ``invoices`` Pending invoices, each billing whole lines, as create_invoice leaves them before their
	push, priced with the organisation's own items, tax rates and accounts. ``attempts`` > 0 makes each look
	like an invoice whose push met an outage long ago (looked up in Xero before it is sent again).
	Orders have one line more than their invoices bill, so they are Partially Invoiced. Returns the invoice
	names, oldest first; ``clear_backlog(prefix)`` removes them."""
	rng = random.Random(seed)
	where = {"connection": org.name, "tenant_id": org.tenant_id}
	rates = {
		r.tax_type: r for r in frappe.get_all("Xero Tax Rate", where, ["name", "tax_type", "effective_rate"])
	}
	accounts = {
		a.account_code: a.name for a in frappe.get_all("Xero Account", where, ["name", "account_code"])
	}
	items = [
		i
		for i in frappe.get_all(
			"Xero Item",
			{**where, "is_sold": 1, "account_code": ["is", "set"], "tax_type": ["is", "set"]},
			["name", "item_code", "item_name", "description", "account_code", "tax_type"],
		)
		if i.tax_type in rates and i.account_code in accounts
	]
	customers = frappe.get_all(
		"Xero Contact", {**where, "contact_status": "ACTIVE"}, ["name", "contact_name"], limit=50
	)
	started, user, today = now_datetime(), "Administrator", getdate(nowdate())
	lines_per_order = invoices_per_order * lines_per_invoice + 1
	order_rows, item_rows, invoice_rows, invoice_item_rows, names = [], [], [], [], []
	orders = -(-invoices // invoices_per_order)
	for n in range(orders):
		name = f"{prefix}{n:06d}"
		created = started + timedelta(microseconds=n * 1000)
		customer = customers[n % len(customers)]
		lines, invoiced = [], []
		order_invoices = min(invoices_per_order, invoices - len(names))
		for idx in range(1, lines_per_order + 1):
			item = items[rng.randrange(len(items))]
			rate = rates[item.tax_type]
			line = parse_line(
				rng.randint(1, 12), Decimal(rng.randint(500, 20000)) / 100, 0, rate.effective_rate
			)
			priced = price_line(line)
			billed = idx <= order_invoices * lines_per_invoice
			lines.append(priced)
			row_name = f"{name}-{idx:02d}"
			item_rows.append(
				(
					row_name, created, created, user, user, 1, name, "Xero Sales Order", "items", idx, item.name,
					item.item_code, item.description or item.item_name, line.qty, line.unit_price, 0, rate.name,
					item.tax_type, line.tax_rate, accounts[item.account_code], item.account_code,
					priced.line_amount, priced.tax_amount, line.qty if billed else 0,
					priced.line_amount if billed else 0, priced.tax_amount if billed else 0,
					0 if billed else line.qty, 0 if billed else priced.line_amount,
				)
			)  # fmt: skip
			if billed:
				invoiced.append((idx, row_name, item, rate, line, priced))
		order_totals = totals(lines)
		invoiced_total = totals([p for *_, p in invoiced]).grand_total if invoiced else Decimal(0)
		count = 0
		for k in range(invoices_per_order):
			group = [i for i in invoiced if (i[0] - 1) // lines_per_invoice == k]
			if not group:
				continue
			count += 1
			number = f"{name}-{k + 1}"
			invoice_totals = totals([p for *_, p in group])
			invoice_rows.append(
				(
					number, created, created, user, user, 0, 0, name, customer.name, number, f"PO-{name}",
					"DRAFT", "Pending", today, org.currency, "Exclusive", uuid.uuid4().hex,
					invoice_totals.subtotal, invoice_totals.total_discount, invoice_totals.total_tax,
					invoice_totals.grand_total, 0, invoice_totals.grand_total, org.name, org.tenant_id,
					attempts, "2000-01-01 00:00:00" if attempts else None,
				)
			)  # fmt: skip
			names.append(number)
			for position, (_idx, row_name, item, _rate, line, priced) in enumerate(group, start=1):
				invoice_item_rows.append(
					(
						f"{row_name}-I", created, created, user, user, 0, number, "Xero Invoice", "items", position,
						row_name, item.item_code, item.description or item.item_name, line.qty, line.unit_price, 0,
						line.tax_rate, priced.line_amount, priced.tax_amount, 0, item.tax_type, item.account_code,
					)
				)  # fmt: skip
		order_rows.append(
			(
				name, created, created, user, user, 1, 0, customer.name, customer.contact_name, f"PO-{name}",
				today, today + timedelta(days=30), org.currency, "Exclusive",
				"Partially Invoiced" if invoiced else "Open", 0, order_totals.subtotal,
				order_totals.total_discount, order_totals.total_tax, order_totals.grand_total, invoiced_total,
				order_totals.grand_total - invoiced_total,
				round(float(invoiced_total * 100 / order_totals.grand_total), 2), 0,
				sum((p.tax_amount for *_, p in invoiced), Decimal(0)), org.name, org.tenant_id, count,
			)
		)  # fmt: skip
	frappe.db.bulk_insert("Xero Sales Order", (*ORDER_FIELDS, *BACKLOG_ORDER_FIELDS), order_rows)
	frappe.db.bulk_insert("Xero Sales Order Item", BACKLOG_ITEM_FIELDS, item_rows)
	frappe.db.bulk_insert("Xero Invoice", (*INVOICE_FIELDS, *BACKLOG_INVOICE_FIELDS), invoice_rows)
	frappe.db.bulk_insert(
		"Xero Invoice Item", (*INVOICE_ITEM_FIELDS, *BACKLOG_INVOICE_ITEM_FIELDS), invoice_item_rows
	)
	frappe.db.commit()
	return names


BACKLOG_ORDER_FIELDS = ("connection", "tenant_id", "invoice_counter")
BACKLOG_ITEM_FIELDS = (
	"name", "creation", "modified", "modified_by", "owner", "docstatus", "parent", "parenttype", "parentfield",
	"idx", "item", "item_code", "description", "qty", "unit_price", "discount_rate", "tax", "tax_type",
	"tax_rate", "account", "account_code", "line_amount", "tax_amount", "invoiced_qty", "invoiced_amount",
	"invoiced_tax", "outstanding_qty", "outstanding_amount",
)  # fmt: skip
BACKLOG_INVOICE_FIELDS = ("connection", "tenant_id", "push_attempts", "last_attempt_at")
BACKLOG_INVOICE_ITEM_FIELDS = ("tax_type", "account_code")


def clear_backlog(prefix: str) -> None:
	"""Removes what seed_backlog(prefix) made, with what became of it (comments, webhook events stay)."""
	like = f"{prefix}%"
	frappe.db.sql("delete from `tabXero Invoice Item` where parent like %s", like)
	frappe.db.sql("delete from `tabXero Invoice` where name like %s", like)
	frappe.db.sql("delete from `tabXero Sales Order Item` where parent like %s", like)
	frappe.db.sql("delete from `tabXero Sales Order` where name like %s", like)
	frappe.db.commit()
