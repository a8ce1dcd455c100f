"""An import batch whose Source is Quotes (issue 15, item 1, in bulk): the preview says which ACCEPTED quotes of the
batch's dates become orders and why the others do not; the import makes them through the single-quote path,
each equal to its quote, with the batch as their Import Batch; re-running creates nothing twice."""

from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase

from xero_sales_orders.api import importing as importing_api
from xero_sales_orders.api import quotes as api
from xero_sales_orders.exceptions import ImportStateError
from xero_sales_orders.services import quote_import, xero_clients
from xero_sales_orders.tests.factories import make_user
from xso_devkit.sandbox import start_sandbox, synced_organisation

CONNECTION = "Quote Import Test"
ORDER = "Xero Sales Order"
MANAGER = "xso-quote-import-manager@example.com"
SALES = "xso-quote-import-sales@example.com"


def money(value) -> Decimal:
	return Decimal(str(value)).quantize(Decimal("0.01"))


class TestQuoteImport(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.sandbox = start_sandbox(tenants=1, rate_limits=False)
		org = synced_organisation(cls.sandbox, CONNECTION)
		cls.tenant = org.tenant_id
		make_user(MANAGER, ["Xero Sales User", "Xero Sales Manager"])
		make_user(SALES, ["Xero Sales User"])
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		cls.sandbox.stop()
		super().tearDownClass()

	def quote(self, date="2026-04-10", status="ACCEPTED", lines=None, contact=0) -> dict:
		client = xero_clients.client_for(CONNECTION, self.tenant)
		try:
			contact_id = client.get("/Contacts", {"where": 'ContactStatus=="ACTIVE"'})["Contacts"][contact][
				"ContactID"
			]
			body = {
				"Contact": {"ContactID": contact_id},
				"Date": date,
				"LineItems": lines
				or [
					{"Description": "Desk", "Quantity": 3, "UnitAmount": 0.3333, "TaxType": "OUTPUT2"},
					{
						"Description": "Chair",
						"Quantity": 2,
						"UnitAmount": 12.5,
						"DiscountAmount": 1.11,
						"TaxType": "OUTPUT2",
					},
				],
			}
			quote = client.put("/Quotes", {"Quotes": [body]})["Quotes"][0]
			for step in {"DRAFT": [], "SENT": ["SENT"]}.get(status, ["SENT", "ACCEPTED"]):
				quote = client.set_quote_status(quote, step)
			return client.quote(quote["QuoteID"])
		finally:
			client.close()

	def batch(self, **fields):
		doc = frappe.get_doc(
			{
				"doctype": "Xero Import Batch",
				"connection": CONNECTION,
				"tenant_id": self.tenant,
				"from_date": "2026-04-01",
				"to_date": "2026-04-30",
				"source": "Quotes",
				**fields,
			}
		).insert()
		frappe.db.commit()
		return doc

	def test_accepted_quotes_of_the_batch_become_orders_once(self):
		ordered = self.quote()
		api.create_order(CONNECTION, ordered["QuoteID"], self.tenant)
		wanted = [self.quote(), self.quote(date="2026-04-30", contact=1)]
		self.quote(status="SENT")
		self.quote(date="2026-05-01")  # after the batch's dates
		refused = self.quote(
			lines=[{"Description": "Refund", "Quantity": 1, "UnitAmount": -5, "TaxType": "OUTPUT2"}]
		)
		batch = self.batch()
		with self.assertRaises(ImportStateError):  # not previewed yet
			importing_api.start(batch.name)

		summary = importing_api.preview(batch.name)["summary"]
		by_quote = {r["quote_id"]: r for r in api.batch_quotes(batch.name)["rows"]}
		mine = {q["QuoteID"] for q in [ordered, *wanted, refused]}
		self.assertEqual(set(by_quote) & mine, mine)
		self.assertTrue(all(by_quote[q["QuoteID"]]["importable"] for q in wanted))
		self.assertFalse(by_quote[ordered["QuoteID"]]["importable"])
		self.assertIn("Already order", by_quote[ordered["QuoteID"]]["flags"][0]["reason"])
		self.assertIn("negative", by_quote[refused["QuoteID"]]["flags"][0]["reason"])
		self.assertEqual(summary["to_create"], sum(1 for r in by_quote.values() if r["importable"]))
		before = frappe.db.count(ORDER)

		quote_import.start(batch.name, now=True)  # the background job, run here
		batch.reload()
		self.assertEqual(batch.status, "Completed", batch.error)
		made = frappe.get_all(
			ORDER,
			{"import_batch": batch.name},
			["name", "xero_quote_id", "grand_total", "docstatus", "status"],
		)
		self.assertEqual(frappe.db.count(ORDER) - before, len(made))
		by_id = {m.xero_quote_id: m for m in made}
		for quote in wanted:
			self.assertEqual(money(by_id[quote["QuoteID"]].grand_total), quote["Total"])
			self.assertEqual((by_id[quote["QuoteID"]].docstatus, by_id[quote["QuoteID"]].status), (1, "Open"))
		self.assertNotIn(ordered["QuoteID"], by_id)
		self.assertNotIn(refused["QuoteID"], by_id)
		self.assertIn("negative", batch.import_log)
		self.assertEqual(batch.orders_created, len(made))

		# Again (the same batch, or another over the same quotes): nothing twice.
		quote_import.start(batch.name, now=True)
		other = self.batch()
		importing_api.preview(other.name)
		quote_import.start(other.name, now=True)
		self.assertEqual(frappe.db.count(ORDER) - before, len(made))
		self.assertEqual(frappe.db.count(ORDER, {"import_batch": other.name}), 0)

	def test_a_batch_for_one_contact_and_who_may_run_it(self):
		client = xero_clients.client_for(CONNECTION, self.tenant)
		try:
			second = client.get("/Contacts", {"where": 'ContactStatus=="ACTIVE"'})["Contacts"][1]["ContactID"]
		finally:
			client.close()
		theirs = self.quote(contact=1)
		self.quote(contact=0)
		batch = self.batch(contacts=second)
		importing_api.preview(batch.name)
		rows = api.batch_quotes(batch.name)["rows"]
		self.assertEqual({r["contact_id"] for r in rows}, {second})
		self.assertIn(theirs["QuoteID"], {r["quote_id"] for r in rows})
		frappe.set_user(SALES)
		try:
			with self.assertRaises(frappe.PermissionError):
				importing_api.preview(batch.name)
			with self.assertRaises(frappe.PermissionError):
				api.batch_quotes(batch.name)
		finally:
			frappe.set_user("Administrator")
