"""Tracking categories, currencies, branding themes and payment terms from Xero, against the sandbox:
synced per organisation, picked on orders, checked, sent on every invoice, and what Xero changes later."""

import uuid
from datetime import timedelta
from decimal import Decimal

import frappe
import requests
from frappe.desk.query_report import run
from frappe.tests.utils import FrappeTestCase
from frappe.utils import getdate, nowdate

from xero_sales_orders.api import orders as api
from xero_sales_orders.core.payment_terms import due_date
from xero_sales_orders.exceptions import InvalidOrderError, InvalidReportFilterError
from xero_sales_orders.services import import_runner, invoice_push
from xero_sales_orders.services.master_sync import sync_connection
from xero_sales_orders.services.order_invoicing import refresh_order_invoicing
from xero_sales_orders.tests.factories import make_user
from xero_sandbox.invoices import render_invoice, write_invoice
from xso_devkit.sandbox import reset_calls, sandbox_calls, start_sandbox, synced_organisation

CONNECTION = "Org Settings Test"
OPTION = "Xero Tracking Option"
THEME = "Xero Branding Theme"
SALES_USER = "xso-org-settings-user@example.com"


def money(value):
	return Decimal(str(value)).quantize(Decimal("0.01"))


class TestXeroOrgSettings(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.sandbox = start_sandbox(tenants=2, rate_limits=False)
		# DRAFT invoices: a push is one Xero call (no online invoice link to fetch), so the tests stay well
		# inside the app's own limit of 60 calls a minute per organisation.
		org = synced_organisation(cls.sandbox, CONNECTION, invoice_status="DRAFT")
		cls.tenant, cls.currency = org.tenant_id, org.currency
		cls.items = org.items_with_tax
		conn = frappe.get_doc("Xero Connection", CONNECTION)
		cls.tenant_row = conn.tenants[0]
		cls.other_tenant = conn.tenants[1].tenant_id
		cls.org = {"connection": CONNECTION, "tenant_id": cls.tenant}
		contacts = frappe.get_all(
			"Xero Contact",
			{**cls.org, "contact_status": "ACTIVE"},
			["name", "branding_theme", "sales_terms_type", "sales_terms_day"],
			order_by="contact_name asc",
		)
		cls.plain = next(c.name for c in contacts if not c.branding_theme and not c.sales_terms_type)
		cls.themed = next(c for c in contacts if c.branding_theme)
		cls.termed = next(c for c in contacts if c.sales_terms_type == "DAYSAFTERBILLDATE")

	@classmethod
	def tearDownClass(cls):
		cls.sandbox.stop()
		super().tearDownClass()

	def setUp(self):
		frappe.set_user("Administrator")

	# --- helpers ------------------------------------------------------------------------------------

	def option(self, category, name, tenant=None):
		return frappe.get_value(
			OPTION,
			{
				"connection": CONNECTION,
				"tenant_id": tenant or self.tenant,
				"category_name": category,
				"option_name": name,
			},
		)

	def theme(self, name, tenant=None):
		return frappe.get_value(
			THEME, {"connection": CONNECTION, "tenant_id": tenant or self.tenant, "theme_name": name}
		)

	def order(self, lines=None, customer=None, submit=True, **fields):
		doc = frappe.get_doc(
			{
				"doctype": "Xero Sales Order",
				"customer": customer or self.plain,
				"po_number": f"PO-{uuid.uuid4().hex[:6]}",
				"currency": fields.pop("currency", self.currency),
				"items": lines or [{"item": self.items[0], "qty": 4}, {"item": self.items[1], "qty": 2}],
				**fields,
			}
		).insert()
		if submit:
			doc.submit()
		frappe.db.commit()
		return doc

	def in_xero(self, invoice_id):
		"""The invoice as the sandbox (Xero) holds it, read in-process: no call spent from the app's budget."""
		self.assertTrue(invoice_id, "the invoice was not pushed")
		with self.sandbox.lock:
			tenant = self.sandbox.tenants[self.tenant.lower()]
			return render_invoice(tenant, tenant.invoices[invoice_id], lines=True, unitdp=4)

	def control(self, method, path, body=None):
		answer = requests.request(method, f"{self.sandbox.url}/_sandbox/{path}", json=body, timeout=10)
		answer.raise_for_status()
		return answer.json()

	def sync(self, *kinds):
		summary = sync_connection(CONNECTION, kinds=list(kinds) or None)
		frappe.db.commit()
		return summary[self.tenant]

	def refused(self, make, *expected, error=InvalidOrderError):
		orders = frappe.db.count("Xero Sales Order")
		with self.assertRaises(error) as raised:
			make()
		frappe.db.rollback()
		for text in expected:
			self.assertIn(text, str(raised.exception))
		self.assertEqual(frappe.db.count("Xero Sales Order"), orders)  # nothing written

	# --- sync ---------------------------------------------------------------------------------------

	def test_a_sync_keeps_each_organisations_lists_and_costs_one_call_per_list(self):
		reset_calls(self.sandbox)
		summary = self.sync()
		calls = sandbox_calls(self.sandbox)["by_endpoint"]
		per_sync = {
			k: v
			for k, v in calls.items()
			if k.split("/")[-1] in ("TrackingCategories", "BrandingThemes", "Currencies")
		}
		print(
			f"\nXero calls per sync of tracking categories, currencies and branding themes (2 organisations): {per_sync}"
		)
		self.assertEqual(
			per_sync,
			{
				"GET /api.xro/2.0/TrackingCategories": 2,
				"GET /api.xro/2.0/Currencies": 2,
				"GET /api.xro/2.0/BrandingThemes": 2,
			},
		)
		# Nothing changed in Xero: nothing is written again.
		for kind in ("tracking_options", "currencies", "branding_themes"):
			self.assertEqual((summary[kind]["created"], summary[kind]["updated"]), (0, 0), kind)
		options = frappe.get_all(OPTION, self.org, ["title", "is_active", "status", "category_status"])
		self.assertEqual(len(options), 8)
		self.assertEqual(
			sorted(o.title for o in options if o.is_active),
			[
				"Department: Sales",
				"Department: Services",
				"Region: Eastside",
				"Region: North",
				"Region: South",
			],
		)
		self.assertIn(("Region: West", "ARCHIVED"), [(o.title, o.status) for o in options])
		self.assertEqual(
			sorted(frappe.get_all("Xero Currency", self.org, pluck="currency_code")), ["AUD", "NZD", "USD"]
		)
		self.assertEqual(frappe.db.count(THEME, self.org), 3)
		# The organisation's theme is Xero's default (SortOrder 0) until another is picked.
		self.assertEqual(
			frappe.db.get_value("Xero Connection Tenant", self.tenant_row.name, "branding_theme"),
			self.theme("Standard"),
		)
		self.assertTrue(self.themed.branding_theme)
		self.assertEqual(
			frappe.db.get_value(THEME, self.themed.branding_theme, "theme_name"), "Special Projects"
		)

	def test_an_option_archived_or_deleted_in_xero_is_no_longer_active_here(self):
		services = self.option("Department", "Services")
		self.control("POST", f"tracking/{services}", {"status": "ARCHIVED"})
		self.assertEqual(self.sync("tracking_options")["tracking_options"]["updated"], 1)
		self.assertEqual(frappe.db.get_value(OPTION, services, ["status", "is_active"]), ("ARCHIVED", 0))
		self.control("POST", f"tracking/{services}", {"status": "DELETED"})
		self.assertEqual(self.sync("tracking_options")["tracking_options"]["deleted"], 1)
		self.assertEqual(frappe.db.get_value(OPTION, services, ["status", "is_active"]), ("DELETED", 0))
		self.control("POST", f"tracking/{services}", {"status": "ACTIVE"})
		self.sync("tracking_options")
		self.assertEqual(frappe.db.get_value(OPTION, services, ["status", "is_active"]), ("ACTIVE", 1))

	# --- tracking -----------------------------------------------------------------------------------

	def test_lines_take_the_orders_tracking_of_each_category_they_do_not_name(self):
		north, south = self.option("Region", "North"), self.option("Region", "South")
		sales = self.option("Department", "Sales")
		order = self.order(
			[
				{"item": self.items[0], "qty": 1},
				{"item": self.items[1], "qty": 1, "tracking_option_1": sales},
				{"item": self.items[0], "qty": 1, "tracking_option_1": south},
			],
			tracking_option_1=north,
			submit=False,
		)
		self.assertEqual(
			[(r.tracking_option_1, r.tracking_option_2) for r in order.items],
			[(north, None), (sales, north), (south, None)],
		)

	def test_tracking_xero_would_not_take_is_refused_and_nothing_is_written(self):
		north, south = self.option("Region", "North"), self.option("Region", "South")
		west = self.option("Region", "West")
		elsewhere = self.option("Region", "North", tenant=self.other_tenant)
		line = {"item": self.items[0], "qty": 1}
		self.refused(
			lambda: self.order([{**line, "tracking_option_1": west}], submit=False),
			"Row 1: tracking option Region: West cannot be used: it is archived in Xero",
		)
		self.refused(
			lambda: self.order([{**line, "tracking_option_1": elsewhere}], submit=False),
			"belongs to another Xero organisation than this order",
		)
		self.refused(
			lambda: self.order(
				[{**line, "tracking_option_1": north, "tracking_option_2": south}], submit=False
			),
			"Region: North and Region: South are both options of Region",
		)
		self.refused(
			lambda: self.order([line], tracking_option_1="no-such-option", submit=False),
			"no-such-option",
			error=frappe.LinkValidationError,
		)

	def test_invoices_carry_the_lines_tracking_to_xero_and_an_option_archived_since_is_left_off(self):
		north, sales = self.option("Region", "Eastside"), self.option("Department", "Sales")
		order = self.order(
			[
				{"item": self.items[0], "qty": 4, "tracking_option_1": sales},
				{"item": self.items[1], "qty": 2},
			],
			tracking_option_1=north,
		)
		first = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 2}])
		self.assertEqual(first["push_state"], "Pushed", first.get("last_error"))
		self.assertEqual(
			[(i["tracking_option_1"], i["tracking_option_2"]) for i in first["items"]], [(sales, north)]
		)
		[line] = self.in_xero(first["xero_invoice_id"])["LineItems"]
		self.assertEqual(
			sorted((t["Name"], t["Option"], t["TrackingOptionID"]) for t in line["Tracking"]),
			[("Department", "Sales", sales), ("Region", "Eastside", north)],
		)
		# Eastside is archived in Xero after the order was submitted: Xero would refuse it, so it is left off.
		self.control("POST", f"tracking/{north}", {"status": "ARCHIVED"})
		try:
			self.sync("tracking_options")
			second = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 2}])
			self.assertEqual(second["push_state"], "Pushed", second.get("last_error"))
			[line] = self.in_xero(second["xero_invoice_id"])["LineItems"]
			self.assertEqual([t["Option"] for t in line["Tracking"]], ["Sales"])
			self.assertTrue(
				frappe.db.exists(
					"Comment",
					{
						"reference_name": order.name,
						"content": ["like", "%Region: Eastside is no longer active%"],
					},
				)
			)
		finally:
			self.control("POST", f"tracking/{north}", {"status": "ACTIVE"})
			self.sync("tracking_options")

	def test_the_reports_filter_by_a_tracking_option(self):
		services = self.option("Department", "Services")
		tracked = self.order(
			[
				{"item": self.items[0], "qty": 3, "tracking_option_1": services},
				{"item": self.items[1], "qty": 1},
			]
		)
		untracked = self.order()
		lines = run("Order Invoicing Status", {"tracking_option": services})["result"]
		rows = [r for r in lines if isinstance(r, dict)]
		self.assertEqual({r["sales_order"] for r in rows}, {tracked.name})
		self.assertEqual([r["ordered_qty"] for r in rows], [3])
		uninvoiced = [
			r
			for r in run("Uninvoiced Orders", {"tracking_option": services})["result"]
			if isinstance(r, dict)
		]
		self.assertIn(tracked.name, {r["sales_order"] for r in uninvoiced})
		self.assertNotIn(untracked.name, {r["sales_order"] for r in uninvoiced})
		with self.assertRaises(InvalidReportFilterError):
			run("Order Book by Customer", {"tracking_option": "no-such-option"})

	# --- currencies ---------------------------------------------------------------------------------

	def test_the_orders_currency_must_be_enabled_in_its_organisation(self):
		self.refused(
			lambda: self.order(currency="EUR", submit=False),
			"Currency EUR is not enabled in the Xero organisation",
			"AUD, NZD, USD",
		)
		self.assertEqual(self.order(currency="USD", submit=False).base_currency, self.currency)

	def test_an_exchange_rate_goes_to_xero_and_the_order_shows_its_total_in_the_base_currency(self):
		order = self.order(currency="USD")
		order.reload()  # a foreign-currency order has no Xero rate before Xero has priced one of its invoices
		self.assertEqual((order.base_currency, order.exchange_rate, order.base_grand_total), ("NZD", 0, 0))
		# The Create Invoice dialog's preview shows the invoice's total in NZD at the rate given.
		preview = api.preview_invoice(
			order.name, [{"item": order.items[0].name, "qty": 1}], currency_rate="0.5"
		)
		self.assertEqual(
			(preview["base_currency"], money(preview["base_total"])), ("NZD", money(preview["total"] * 2))
		)
		given = api.create_invoice(
			order.name, [{"item": order.items[0].name, "qty": 1}], currency_rate="0.6125"
		)
		self.assertEqual(given["push_state"], "Pushed", given.get("last_error"))
		self.assertEqual(
			Decimal(str(self.in_xero(given["xero_invoice_id"])["CurrencyRate"])), Decimal("0.6125")
		)
		self.assertEqual(Decimal(str(given["currency_rate"])), Decimal("0.6125"))
		order.reload()
		self.assertEqual(Decimal(str(order.exchange_rate)), Decimal("0.6125"))
		self.assertEqual(
			money(order.base_grand_total), money(Decimal(str(order.grand_total)) / Decimal("0.6125"))
		)
		# None given: Xero's own rate (the sandbox's XE rate, 1 / 1.65), which the order then follows.
		xeros = api.create_invoice(order.name, [{"item": order.items[1].name, "qty": 1}])
		self.assertEqual(Decimal(str(xeros["currency_rate"])), Decimal("0.606061"))
		order.reload()
		self.assertEqual(Decimal(str(order.exchange_rate)), Decimal("0.606061"))
		for bad in ("-1", "abc", "0.1234567"):
			with self.assertRaises(frappe.ValidationError) as raised:
				api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}], currency_rate=bad)
			self.assertEqual(raised.exception.http_status_code, 400)
		home = self.order()
		with self.assertRaises(frappe.ValidationError) as raised:
			api.create_invoice(home.name, [{"item": home.items[0].name, "qty": 1}], currency_rate="1.2")
		self.assertIn("base currency", str(raised.exception))
		self.assertEqual(frappe.db.count("Xero Invoice", {"sales_order": home.name}), 0)
		home.reload()
		self.assertEqual((home.exchange_rate, money(home.base_grand_total)), (1, money(home.grand_total)))

	# --- branding themes and payment terms ----------------------------------------------------------

	def test_invoices_go_out_with_the_contacts_theme_else_the_organisations_and_never_a_deleted_one(self):
		standard, special = self.theme("Standard"), self.theme("Special Projects")
		plain = api.create_invoice(self.order().name)
		self.assertEqual(self.in_xero(plain["xero_invoice_id"]).get("BrandingThemeID"), standard)
		themed_order = self.order(customer=self.themed.name)
		themed = api.create_invoice(themed_order.name, [{"item": themed_order.items[0].name, "qty": 1}])
		self.assertEqual(self.in_xero(themed["xero_invoice_id"]).get("BrandingThemeID"), special)
		self.assertEqual(themed["branding_theme"], special)
		# Special Projects is deleted in Xero: the next invoice goes with the organisation's, and says so.
		self.control("DELETE", f"branding-themes/{special}")
		self.assertEqual(self.sync("branding_themes")["branding_themes"]["deleted"], 1)
		self.assertEqual(frappe.db.get_value(THEME, special, "status"), "DELETED")
		after = api.create_invoice(themed_order.name, [{"item": themed_order.items[1].name, "qty": 1}])
		self.assertEqual(after["push_state"], "Pushed", after.get("last_error"))
		self.assertEqual(self.in_xero(after["xero_invoice_id"]).get("BrandingThemeID"), standard)
		self.assertTrue(
			frappe.db.exists(
				"Comment",
				{
					"reference_name": themed_order.name,
					"content": ["like", "%Special Projects was deleted in Xero%"],
				},
			)
		)

	def test_an_organisations_theme_is_one_of_its_own_that_xero_still_has(self):
		conn = frappe.get_doc("Xero Connection", CONNECTION)
		conn.tenants[0].branding_theme = self.theme("Standard", tenant=self.other_tenant)
		with self.assertRaises(frappe.ValidationError) as raised:
			conn.save()
		self.assertIn("is not one of this organisation's themes", str(raised.exception))
		conn.reload()
		conn.tenants[0].due_date_type = "OFFOLLOWINGMONTH"
		conn.tenants[0].due_days = 0
		with self.assertRaises(frappe.ValidationError) as raised:
			conn.save()
		self.assertIn("between 1 and 31", str(raised.exception))

	def test_the_due_date_follows_the_contacts_sales_terms_else_the_organisations(self):
		today = getdate(nowdate())
		termed_order = self.order(customer=self.termed.name)
		termed = api.create_invoice(termed_order.name, [{"item": termed_order.items[0].name, "qty": 1}])
		self.assertEqual(self.in_xero(termed["xero_invoice_id"])["DateString"][:10], today.isoformat())
		self.assertEqual(
			self.in_xero(termed["xero_invoice_id"])["DueDateString"][:10],
			(today + timedelta(days=self.termed.sales_terms_day)).isoformat(),
		)
		tenant = invoice_push._tenant_settings(CONNECTION, self.tenant)
		plain = frappe._dict(invoice_date=today, customer=self.plain)
		self.assertEqual(invoice_push.due_date_for(plain, tenant), today + timedelta(days=tenant.due_days))
		frappe.db.set_value(
			"Xero Connection Tenant",
			self.tenant_row.name,
			{"due_date_type": "OFFOLLOWINGMONTH", "due_days": 20},
		)
		try:
			tenant = invoice_push._tenant_settings(CONNECTION, self.tenant)
			self.assertEqual(
				invoice_push.due_date_for(plain, tenant), due_date(today, 20, "OFFOLLOWINGMONTH")
			)
			preview = api.preview_invoice(termed_order.name, [{"item": termed_order.items[1].name, "qty": 1}])
			self.assertEqual(
				preview["due_date"], (today + timedelta(days=self.termed.sales_terms_day)).isoformat()
			)
		finally:
			frappe.db.set_value(
				"Xero Connection Tenant",
				self.tenant_row.name,
				{"due_date_type": "DAYSAFTERBILLDATE", "due_days": 30},
			)
			frappe.db.commit()

	# --- import -------------------------------------------------------------------------------------

	def test_imported_invoices_bring_their_tracking_and_rate_onto_the_order(self):
		north, south = self.option("Region", "North"), self.option("Region", "South")
		contact = frappe.db.get_value("Xero Contact", self.plain, "contact_id")
		item = frappe.db.get_value("Xero Item", self.items[0], "item_code")
		po = f"PO-TRK-{uuid.uuid4().hex[:6]}"

		def line(qty, *options):
			return {
				"ItemCode": item,
				"Quantity": qty,
				"UnitAmount": 10,
				"AccountCode": "200",
				"Tracking": [{"TrackingOptionID": o} for o in options],
			}

		# Two invoices of one PO in USD at Xero's rate 0.6: a North line on each (they merge into one order
		# line), a South line and an untracked one (each a line of its own, though of the same item and price).
		with self.sandbox.lock:
			tenant = self.sandbox.tenants[self.tenant.lower()]
			for lines in ([line(2, north), line(3, south), line(1)], [line(4, north)]):
				invoice, problems = write_invoice(
					tenant,
					{
						"Type": "ACCREC",
						"Contact": {"ContactID": contact},
						"Reference": po,
						"Status": "AUTHORISED",
						"CurrencyCode": "USD",
						"CurrencyRate": "0.6",
						"LineItems": lines,
					},
					now=self.sandbox.clock.now(),
					today=getdate(nowdate()),
					unitdp=4,
					existing=None,
					by_app=False,
				)
				self.assertEqual(problems, [])
		batch = frappe.get_doc(
			{
				"doctype": "Xero Import Batch",
				"connection": CONNECTION,
				"tenant_id": self.tenant,
				"from_date": getdate(nowdate()) - timedelta(days=1),
				"to_date": getdate(nowdate()) + timedelta(days=1),
				"statuses": "AUTHORISED",
				"contacts": contact,
			}
		).insert()
		frappe.db.commit()
		import_runner.preview(batch.name, now=True)
		import_runner.start(batch.name, now=True)
		[name] = frappe.get_all(
			"Xero Sales Order", {"import_batch": batch.name, "po_number": po}, pluck="name"
		)
		order = frappe.get_doc("Xero Sales Order", name)
		self.assertEqual(
			sorted((float(r.qty), r.tracking_option_1 or "", r.tracking_option_2 or "") for r in order.items),
			sorted([(6.0, north, ""), (3.0, south, ""), (1.0, "", "")]),
		)
		invoice_lines = frappe.get_all(
			"Xero Invoice Item",
			{"parent": ["in", frappe.get_all("Xero Invoice", {"sales_order": name}, pluck="name")]},
			["qty", "tracking_option_1"],
		)
		self.assertEqual(
			sorted((float(r.qty), r.tracking_option_1 or "") for r in invoice_lines),
			sorted([(2.0, north), (3.0, south), (1.0, ""), (4.0, north)]),
		)
		self.assertEqual((order.base_currency, Decimal(str(order.exchange_rate))), ("NZD", Decimal("0.6")))
		self.assertEqual(
			money(order.base_grand_total), money(Decimal(str(order.grand_total)) / Decimal("0.6"))
		)
		# The import's figures are what the order's own refresh derives.
		before = (order.base_currency, order.exchange_rate, order.base_grand_total)
		refresh_order_invoicing(name, notify=False)
		order.reload()
		self.assertEqual((order.base_currency, order.exchange_rate, order.base_grand_total), before)
		frappe.db.rollback()

	# --- doors --------------------------------------------------------------------------------------

	def test_only_the_sync_writes_the_new_masters_and_derived_figures_are_not_set_by_hand(self):
		make_user(SALES_USER, ["Xero Sales User"])
		order = self.order(currency="USD")
		frappe.set_user(SALES_USER)
		try:
			for doctype, name in ((OPTION, self.option("Region", "North")), (THEME, self.theme("Standard"))):
				doc = frappe.get_doc(doctype, name)
				doc.status = "DELETED"
				with self.assertRaises(frappe.PermissionError):
					doc.save()
			with self.assertRaises(frappe.PermissionError):
				frappe.get_doc({"doctype": "Xero Currency", "currency_code": "EUR", **self.org}).insert()
		finally:
			frappe.set_user("Administrator")
		doc = frappe.get_doc("Xero Sales Order", order.name)
		doc.base_grand_total = 1
		with self.assertRaises(frappe.ValidationError):
			doc.save()
		frappe.db.rollback()
		self.assertEqual(frappe.db.get_value(OPTION, self.option("Region", "North"), "status"), "ACTIVE")
