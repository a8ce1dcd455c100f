"""The order book at scale: Order Invoicing Status sums every line from the orders' own figures (which equal the
lines' sums), and the indexes it and the other reports, cards and charts need are added by the patch and used
by the queries (EXPLAIN), with the user's permission conditions still in the SQL."""

import frappe
from frappe.desk.query_report import run
from frappe.permissions import add_user_permission
from frappe.tests.utils import FrappeTestCase
from frappe.utils import nowdate

from xero_sales_orders.patches.v1 import add_order_book_indexes
from xero_sales_orders.services.order_invoicing import close_order, create_invoice
from xero_sales_orders.services.reporting import (
	ORDER_BOOK_INDEXES,
	ORDER_TABLE,
	TO_INVOICE_STATUSES,
	order_conditions,
	parse_filters,
)
from xero_sales_orders.tests.factories import make_contact, make_order, make_user
from xero_sales_orders.tests.test_reports import forget_orders_of
from xero_sales_orders.xero_sales_orders.report.order_invoicing_status.order_invoicing_status import (
	LINES_INVOICED,
	LINES_ORDERED,
)

# ISO 4217's European Composite Unit (test_reports has XTS, test_small_doors XXX): no other test's orders are
# in it, so the summary covers this module's only.
CURRENCY = "XBA"
ORDER = "Xero Sales Order"
RESTRICTED_USER = "xso-index-user@example.com"


def lines(tax_rate=15):
	return [
		{
			"item_code": "WIDGET",
			"description": "Widget",
			"qty": 7,
			"unit_price": 4.3333,
			"tax_rate": tax_rate,
		},
		{
			"item_code": "GADGET",
			"description": "Gadget",
			"qty": 3,
			"unit_price": 19.99,
			"discount_rate": 12.5,
		},
		{"item_code": "BOLT", "description": "Bolt", "qty": 2.5, "unit_price": 250, "tax_rate": tax_rate},
	]


class TestOrderBookIndexes(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		forget_orders_of(CURRENCY)  # invoicing commits: an earlier run on this site left its orders behind
		cls.customer = make_contact("Index Test Ltd").name
		cls.other = make_contact("Index Other Ltd").name
		cls.orders = []
		for line_amount_type in ("Exclusive", "Inclusive", "NoTax"):
			order = make_order(
				items=lines(0 if line_amount_type == "NoTax" else 15), customer=cls.customer,
				currency=CURRENCY, line_amount_type=line_amount_type, po_number=f"PO-IX-{line_amount_type}",
			)  # fmt: skip
			# Two parts of the first line (the second takes the remainder) and all of the third.
			create_invoice(order.name, [{"item": order.items[0].name, "qty": 3}])
			rest = [{"item": order.items[0].name, "qty": 4}, {"item": order.items[2].name, "qty": 2.5}]
			create_invoice(order.name, rest)
			cls.orders.append(order)
		closed = make_order(items=lines(), customer=cls.other, currency=CURRENCY, po_number="PO-IX-C")
		create_invoice(closed.name, [{"item": closed.items[1].name, "qty": 1}])
		close_order(closed.name)
		cls.orders.append(closed)
		cls.orders.append(
			make_order(items=lines(), customer=cls.other, currency=CURRENCY, po_number="PO-IX-O")
		)
		make_user(RESTRICTED_USER, ["Xero Sales User"])

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		forget_orders_of(CURRENCY)  # invoicing committed them: no other module's reports may see them
		super().tearDownClass()

	def tearDown(self):
		frappe.set_user("Administrator")

	def line_sums(self) -> dict:
		"""What the summary must show, summed line by line."""
		return frappe.db.sql(
			"""select sum(i.line_amount) as ordered, sum(i.invoiced_amount) as invoiced,
				sum(case when o.status = 'Closed' then 0 else i.outstanding_amount end) as outstanding,
				sum(i.invoiced_tax) as invoiced_tax
			from `tabXero Sales Order` o join `tabXero Sales Order Item` i on i.parent = o.name
			where o.currency = %s and o.docstatus = 1""",
			CURRENCY,
			as_dict=True,
		)[0]

	def test_each_order_keeps_its_lines_invoiced_tax(self):
		for order in self.orders:
			with self.subTest(order=order.po_number):
				stored = frappe.db.get_value(ORDER, order.name, "invoiced_tax")
				lines_tax = frappe.db.sql(
					"select sum(invoiced_tax) from `tabXero Sales Order Item` where parent = %s", order.name
				)[0][0]
				self.assertEqual(round(stored, 2), round(lines_tax, 2))
		self.assertGreater(self.line_sums().invoiced_tax, 0)

	def test_the_summary_from_the_orders_figures_is_the_sum_of_every_line(self):
		expected = self.line_sums()
		result = run("Order Invoicing Status", {"currency": CURRENCY})
		summary = {s["label"]: s["value"] for s in result["report_summary"]}
		for key, label in (("ordered", "Ordered"), ("invoiced", "Invoiced"), ("outstanding", "Outstanding")):
			with self.subTest(figure=label):
				self.assertEqual(summary[f"{label} ({CURRENCY})"], round(float(expected[key]), 2))
		# The rows on the page add up to the same (the report's rows are every line here).
		rows = [r for r in result["result"] if isinstance(r, dict)]
		self.assertEqual(len(rows), 3 * len(self.orders))
		self.assertAlmostEqual(sum(r["invoiced_amount"] for r in rows), float(expected.invoiced), places=2)

	def test_the_patch_adds_the_indexes_the_reports_use(self):
		frappe.db.commit()
		for doctype, indexes in ORDER_BOOK_INDEXES.items():
			for index in indexes:
				if index != "creation" and frappe.db.has_index(f"tab{doctype}", index):
					frappe.db.sql_ddl(f"alter table `tab{doctype}` drop index `{index}`")
		add_order_book_indexes.execute()
		for doctype, indexes in ORDER_BOOK_INDEXES.items():
			shown = frappe.db.sql(f"show index from `tab{doctype}`", as_dict=True)
			for index, columns in indexes.items():
				with self.subTest(index=index):
					self.assertEqual(
						tuple(
							r.Column_name
							for r in sorted(shown, key=lambda r: r.Seq_in_index)
							if r.Key_name == index
						),
						columns,
					)

		# What each query reads, as the reports, cards and charts build them; for a user restricted to one
		# customer too, whose permission condition is part of the same SQL.
		add_user_permission("Xero Contact", self.customer, RESTRICTED_USER)
		try:
			for user in ("Administrator", RESTRICTED_USER):
				frappe.set_user(user)
				where, values = order_conditions(parse_filters({}))
				to_invoice, to_invoice_values = order_conditions(
					parse_filters({}), statuses=TO_INVOICE_STATUSES
				)
				if user == RESTRICTED_USER:
					self.assertIn(self.customer, where)  # the permission stays in the SQL
				for label, query, query_values in (
					(
						"Order Invoicing Status summary",
						f"""select currency, sum({LINES_ORDERED}), sum({LINES_INVOICED}) from {ORDER_TABLE}
						where {where} group by currency""",
						values,
					),
					(
						"Order Book by Customer",
						f"""select customer, max(customer_name), currency, count(*), sum(grand_total),
						sum(invoiced_amount), sum(outstanding_amount), sum(paid_amount) from {ORDER_TABLE}
						where {where} group by customer, currency""",
						values,
					),
					(
						"Outstanding by Customer",
						f"""select customer, max(customer_name), currency, sum(outstanding_amount)
						from {ORDER_TABLE} where {to_invoice} group by customer, currency""",
						to_invoice_values,
					),
				):
					with self.subTest(user=user, query=label):
						plan = frappe.db.sql(f"explain {query}", query_values, as_dict=True)[0]
						self.assertEqual(plan.key, "xso_order_book")
						self.assertIn("Using index", plan.Extra)  # the index alone, no row of the table
		finally:
			frappe.set_user("Administrator")
			frappe.db.delete("User Permission", {"user": RESTRICTED_USER})

		# The first page of a book larger than a page walks xso_order_date instead of sorting the book. The
		# report reads ROW_LIMIT + 1 orders, 5 % of a book of 100,000: the same share of this site's book (at
		# half of it MariaDB rightly prefers a sort of the few rows a test site holds).
		count = frappe.db.count(ORDER, {"docstatus": 1})
		page = frappe.db.sql(
			f"""explain select name from {ORDER_TABLE} where {where}
			order by order_date desc, name desc limit {max(1, count // 20)}""",
			values,
			as_dict=True,
		)[0]
		self.assertEqual(page.key, "xso_order_date")
		self.assertNotIn("filesort", page.Extra)
		month = frappe.db.sql(
			"""explain select date_format(invoice_date, '%%Y-%%m') as month, currency, sum(total)
			from `tabXero Invoice` where invoice_date >= %s and status not in ('VOIDED', 'DELETED')
			group by month, currency""",
			nowdate(),
			as_dict=True,
		)[0]
		self.assertEqual(month.key, "xso_invoiced_per_month")
		self.assertIn("Using index", month.Extra)
