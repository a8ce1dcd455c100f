"""Demo orders for a new site: `bench --site SITE execute xero_sales_orders.demo.make_demo_data`."""

import frappe

from xero_sales_orders.services import invoicing

DEMO_PO = "DEMO-PO-"

DEMO_ORDERS = [
	(
		"Ridgeway University",
		"NZD",
		"Exclusive",
		[
			("DESK-OAK", "Oak standing desk", 12, 849.0, 5, 15),
			("CHAIR-ERG", "Ergonomic chair", 24, 389.5, 0, 15),
		],
	),
	(
		"City Limousines",
		"NZD",
		"Exclusive",
		[("SRV-HOUR", "Consulting hour", 37.5, 165.0, 0, 15), ("TRAVEL", "Travel (km)", 412, 0.79, 0, 15)],
	),
	("Bayside Club", "AUD", "Inclusive", [("CATER-PP", "Catering per person", 140, 42.0, 10, 10)]),
	(
		"Marine Systems",
		"USD",
		"NoTax",
		[("PUMP-3", "Bilge pump Mk3", 6, 1250.0, 2.5, 0), ("SEAL-KIT", "Seal kit", 18, 0.3333, 0, 0)],
	),
]


def complete_setup():
	"""Finishes Frappe's setup wizard without creating a user, so the desk opens on a new site."""
	from frappe.desk.page.setup_wizard.setup_wizard import setup_complete

	setup_complete(
		{"language": "English", "country": "New Zealand", "timezone": "Pacific/Auckland", "currency": "NZD"}
	)
	frappe.db.commit()


def make_demo_data():
	"""Creates the demo orders once: one Draft, one Open, one Partially Invoiced, one Closed."""
	if frappe.db.exists("Xero Sales Order", {"po_number": ["like", f"{DEMO_PO}%"]}):
		print("demo orders already exist")
		return
	for index, (customer, currency, lat, lines) in enumerate(DEMO_ORDERS, start=1):
		order = frappe.get_doc(
			{
				"doctype": "Xero Sales Order",
				"customer": customer,
				"customer_name": customer,
				"po_number": f"{DEMO_PO}{1000 + index}",
				"currency": currency,
				"line_amount_type": lat,
				"items": [
					{
						"item_code": c,
						"description": d,
						"qty": q,
						"unit_price": p,
						"discount_rate": disc,
						"tax_rate": tax,
					}
					for c, d, q, p, disc, tax in lines
				],
			}
		).insert()
		if index == 1:
			continue
		order.submit()
		if index >= 3:
			first = order.items[0]
			invoicing.create_invoice(order.name, [{"item": first.name, "qty": first.qty / 2}])
		if index == 4:
			invoicing.close_order(order.name)
	frappe.db.commit()
	print(f"created {len(DEMO_ORDERS)} demo orders")
