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

ORDER_FIELDS = (
	"name", "creation", "modified", "modified_by", "owner", "docstatus", "idx", "customer", "customer_name",
	"po_number", "order_date", "expected_date", "currency", "line_amount_type", "status", "is_closed",
	"subtotal", "total_discount", "total_tax", "grand_total", "invoiced_amount", "outstanding_amount",
	"per_invoiced", "paid_amount",
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
	now, user, today = now_datetime(), "Administrator", getdate(nowdate())
	order_rows, item_rows, invoice_rows, invoice_item_rows = [], [], [], []
	for n in range(1, orders + 1):
		name = f"{SEED_PREFIX}{n:06d}"
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
			)
		)  # fmt: skip
	frappe.db.bulk_insert("Xero Sales Order", ORDER_FIELDS, order_rows)
	frappe.db.bulk_insert("Xero Sales Order Item", ITEM_FIELDS, item_rows)
	frappe.db.bulk_insert("Xero Invoice", INVOICE_FIELDS, invoice_rows)
	frappe.db.bulk_insert("Xero Invoice Item", INVOICE_ITEM_FIELDS, invoice_item_rows)
	frappe.db.commit()
	return {"orders": len(order_rows), "lines": len(item_rows), "invoices": len(invoice_rows)}


def clear_seed() -> None:
	like = f"{SEED_PREFIX}%"
	frappe.db.sql("delete from `tabXero Invoice Item` where parent like %s", like)
	frappe.db.sql("delete from `tabXero Invoice` where name like %s", like)
	frappe.db.sql("delete from `tabXero Sales Order Item` where parent like %s", like)
	frappe.db.sql("delete from `tabXero Sales Order` where name like %s", like)
	frappe.db.commit()
