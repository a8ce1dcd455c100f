"""The order reports and the workspace's figures, against orders made and invoiced through the app."""

import frappe
from frappe.desk.query_report import run
from frappe.permissions import add_user_permission
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, nowdate

from xero_sales_orders.api import dashboard
from xero_sales_orders.exceptions import InvalidReportFilterError
from xero_sales_orders.services.order_invoicing import close_order, create_invoice
from xero_sales_orders.tests.factories import make_contact, make_order, make_user

# A currency no other test uses (ISO 4217's code for testing), so totals cover only this module's orders.
CURRENCY = "XTS"
ORDER = "Xero Sales Order"
SALES_USER = "xso-report-user@example.com"
NO_ROLE_USER = "xso-report-norole@example.com"


def rows_of(report, **filters):
	result = run(report, {"currency": CURRENCY, **filters})
	# Frappe appends its totals row (a list) after the report's rows (dicts).
	return [r for r in result["result"] if isinstance(r, dict)], result


def forget_orders_of(currency: str) -> None:
	"""Removes every order in ``currency`` with its lines and invoices (test data only; SQL, as no door may)."""
	orders = frappe.get_all("Xero Sales Order", {"currency": currency}, pluck="name")
	if not orders:
		return
	invoices = frappe.get_all("Xero Invoice", {"sales_order": ["in", orders]}, pluck="name")
	for doctype, field, names in (
		("Xero Invoice Item", "parent", invoices),
		("Xero Invoice", "name", invoices),
		("Xero Sales Order Item", "parent", orders),
		("Xero Sales Order", "name", orders),
	):
		if names:
			frappe.db.delete(doctype, {field: ["in", names]})
	frappe.db.commit()


class TestReports(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		forget_orders_of(CURRENCY)  # invoicing commits: an earlier run on this site left its orders behind
		cls.acme = make_contact("Report Acme Ltd").name
		cls.bolt = make_contact("Report Bolt Ltd").name
		lines = [
			{"item_code": "WIDGET", "description": "Widget", "qty": 10, "unit_price": 12.5, "tax_rate": 15},
			{"item_code": "GADGET", "description": "Gadget", "qty": 4, "unit_price": 25, "tax_rate": 15},
		]
		# Acme: one order 45 days old with 4 of 10 widgets invoiced, one fully invoiced, one closed.
		cls.partial = make_order(
			items=lines, customer=cls.acme, currency=CURRENCY, po_number="PO-R-1",
			order_date=add_days(nowdate(), -45), expected_date=add_days(nowdate(), -10),
		)  # fmt: skip
		create_invoice(cls.partial.name, [{"item": cls.partial.items[0].name, "qty": 4}])
		cls.full = make_order(items=lines, customer=cls.acme, currency=CURRENCY, po_number="PO-R-2")
		create_invoice(cls.full.name)
		cls.closed = make_order(items=lines, customer=cls.acme, currency=CURRENCY, po_number="PO-R-3")
		close_order(cls.closed.name)
		# Bolt: one open order, 100 days old.
		cls.bolt_order = make_order(
			items=lines, customer=cls.bolt, currency=CURRENCY, po_number="PO-R-4",
			order_date=add_days(nowdate(), -100),
		)  # fmt: skip
		make_user(SALES_USER, ["Xero Sales User"])
		make_user(NO_ROLE_USER, [])

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_order_invoicing_status_per_line(self):
		rows, result = rows_of("Order Invoicing Status", po_number="PO-R-1")
		self.assertEqual(len(rows), 2)
		widget = next(r for r in rows if r["item_code"] == "WIDGET")
		self.assertEqual(
			(widget["ordered_qty"], widget["invoiced_qty"], widget["outstanding_qty"]), (10, 4, 6)
		)
		self.assertEqual(
			(widget["ordered_amount"], widget["invoiced_amount"], widget["outstanding_amount"]), (125, 50, 75)
		)
		gadget = next(r for r in rows if r["item_code"] == "GADGET")
		self.assertEqual((gadget["invoiced_qty"], gadget["outstanding_amount"]), (0, 100))
		summary = {s["label"]: s["value"] for s in result["report_summary"]}
		self.assertEqual(summary[f"Outstanding ({CURRENCY})"], 175)
		self.assertEqual(summary[f"Invoiced ({CURRENCY})"], 50)

	def test_closed_orders_have_nothing_outstanding(self):
		rows, _ = rows_of("Order Invoicing Status", status="Closed")
		self.assertEqual({r["sales_order"] for r in rows}, {self.closed.name})
		self.assertEqual(sum(r["outstanding_amount"] for r in rows), 0)

	def test_uninvoiced_orders_with_age_buckets(self):
		rows, _ = rows_of("Uninvoiced Orders")
		by_order = {r["sales_order"]: r for r in rows}
		# Fully invoiced and closed orders have nothing left to invoice.
		self.assertEqual(set(by_order), {self.partial.name, self.bolt_order.name})
		partial = by_order[self.partial.name]
		# 175 outstanding + 15% tax on it, 45 days old: in the 31-60 bucket.
		self.assertEqual(partial["outstanding_amount"], 201.25)
		self.assertEqual((partial["order_age"], partial["age_31_60"]), (45, 201.25))
		self.assertEqual(by_order[self.bolt_order.name]["age_90_plus"], 258.75)
		# Aged from the expected date, the partial order is 10 days late.
		rows, _ = rows_of("Uninvoiced Orders", age_based_on="Expected Date")
		partial = next(r for r in rows if r["sales_order"] == self.partial.name)
		self.assertEqual((partial["days_past_expected"], partial["age_0_30"]), (10, 201.25))

	def test_order_book_by_customer(self):
		rows, _ = rows_of("Order Book by Customer")
		by_customer = {r["customer"]: r for r in rows}
		acme = by_customer[self.acme]
		self.assertEqual(acme["orders"], 3)
		self.assertEqual(acme["ordered"], 3 * 258.75)
		self.assertEqual(acme["invoiced"], 57.5 + 258.75)
		# The closed order's remainder is never billed, so only the partial order is outstanding.
		self.assertEqual(acme["outstanding"], 201.25)
		self.assertEqual((acme["paid"], acme["unpaid"]), (0, 57.5 + 258.75))
		self.assertEqual(by_customer[self.bolt]["outstanding"], 258.75)

	def test_bad_filters_are_clear_messages(self):
		for filters, message in (
			({"from_date": "yesterday-ish"}, "From Date must be a date"),
			({"status": "Lost"}, "Status must be one of"),
			({"customer": "no-such-contact"}, "there is no Xero Contact"),
			({"colour": "red"}, "Unknown filter colour"),
			({"from_date": "2026-02-01", "to_date": "2026-01-01"}, "must not be after"),
			({"currency": ["NZD"]}, "Currency must be text"),
		):
			with self.subTest(filters=filters), self.assertRaisesRegex(InvalidReportFilterError, message):
				run("Order Invoicing Status", filters)
		with self.assertRaisesRegex(
			InvalidReportFilterError, "Status must be one of Open, Partially Invoiced"
		):
			run("Uninvoiced Orders", {"status": "Closed"})

	def test_user_without_app_roles_sees_no_report_or_figures(self):
		frappe.set_user(NO_ROLE_USER)
		for report in ("Order Invoicing Status", "Uninvoiced Orders", "Order Book by Customer"):
			with self.subTest(report=report), self.assertRaises(frappe.PermissionError):
				run(report, {})
		for method in (
			dashboard.outstanding_amount_card,
			dashboard.outstanding_by_customer,
			dashboard.invoiced_per_month,
		):
			with self.subTest(method=method.__name__), self.assertRaises(frappe.PermissionError):
				method()

	def test_figures_respect_user_permissions(self):
		add_user_permission("Xero Contact", self.bolt, SALES_USER)
		try:
			frappe.set_user(SALES_USER)
			rows, _ = rows_of("Order Book by Customer")
			self.assertEqual([r["customer"] for r in rows], [self.bolt])
			self.assertEqual(dashboard.outstanding_amount_card({"currency": CURRENCY}), f"{CURRENCY} 258.75")
			chart = dashboard.outstanding_by_customer({"currency": CURRENCY})
			self.assertEqual(chart["labels"], ["Report Bolt Ltd"])
		finally:
			frappe.set_user("Administrator")
			frappe.db.delete("User Permission", {"user": SALES_USER})

	def test_workspace_figures(self):
		self.assertEqual(dashboard.outstanding_amount_card({"currency": CURRENCY}), f"{CURRENCY} 460.00")
		chart = dashboard.outstanding_by_customer({"currency": CURRENCY})
		self.assertEqual(chart["labels"], ["Report Bolt Ltd", "Report Acme Ltd"])
		self.assertEqual(chart["datasets"], [{"name": CURRENCY, "values": [258.75, 201.25]}])
		month = dashboard.invoiced_per_month()
		this_month = month["datasets"][[d["name"] for d in month["datasets"]].index(CURRENCY)]["values"][-1]
		self.assertGreaterEqual(this_month, 57.5 + 258.75)
		with self.assertRaisesRegex(InvalidReportFilterError, "takes no filters"):
			dashboard.invoiced_per_month({"currency": "NZD"})

	def test_order_confirmation_print(self):
		# The PDF is checked over HTTP (tests/e2e): wkhtmltopdf fetches the styles from the site's host.
		html = frappe.get_print(ORDER, self.partial.name, "Xero Sales Order Confirmation")
		for text in ("Order Confirmation", "PO-R-1", "WIDGET", "Still to invoice", "258.75", "201.25"):
			self.assertIn(text, html)
		self.assertEqual(
			frappe.db.get_value("DocType", ORDER, "default_print_format"), "Xero Sales Order Confirmation"
		)
