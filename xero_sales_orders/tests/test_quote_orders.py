"""Orders from Xero quotes against the sandbox (issue 15, item 1): an ACCEPTED quote becomes a submitted order equal
to it to the cent (remainders, Xero's own figures, Inclusive and NoTax), refusals with the reason and nothing
written, the quote set to INVOICED in Xero once the order is Fully Invoiced (idempotent, Pending while Xero is
down and retried), the quote link that no request can forge, and the permission checks."""

import time
from contextlib import contextmanager
from decimal import Decimal

import frappe
import requests
from frappe.tests.utils import FrappeTestCase
from frappe.utils.background_jobs import get_job, get_queue

from xero_sales_orders.api import orders as orders_api
from xero_sales_orders.api import quotes as api
from xero_sales_orders.exceptions import (
	DerivedFieldError,
	InvalidQuoteRequestError,
	OrderStateError,
	QuoteConversionError,
	QuoteNotFoundError,
	QuoteStateError,
)
from xero_sales_orders.services import quote_invoicing, xero_clients
from xero_sales_orders.services.order_invoicing import set_invoice_status
from xero_sales_orders.tests.factories import make_user
from xero_sales_orders.xero.client import quote_status_update
from xero_sales_orders.xero.parsing import loads
from xero_sandbox import quotes as sandbox_quotes
from xero_sandbox.xerojson import dumps
from xso_devkit.sandbox import reset_calls, sandbox_calls, start_sandbox, synced_organisation

CONNECTION = "Quotes Test"
ORDER = "Xero Sales Order"
SALES = "xso-quotes-sales@example.com"
MANAGER = "xso-quotes-manager@example.com"
READER = "xso-quotes-reader@example.com"
QUOTE_POST = "POST /api.xro/2.0/Quotes/{id}"
LINES = (
	{
		"Description": "Oak desk",
		"Quantity": 3,
		"UnitAmount": 0.3333,
		"TaxType": "OUTPUT2",
		"AccountCode": "200",
	},
	{
		"Description": "Chair",
		"Quantity": 7,
		"UnitAmount": 4.3333,
		"DiscountRate": 12.5,
		"TaxType": "OUTPUT2",
		"AccountCode": "200",
	},
)


def money(value) -> Decimal:
	return Decimal(str(value)).quantize(Decimal("0.01"))


@contextmanager
def signed_in(user):
	frappe.set_user(user)
	try:
		yield
	finally:
		frappe.set_user("Administrator")


class TestOrdersFromQuotes(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		# The app's limiter gives each organisation Xero's 60 calls a minute: the tests take turns between the
		# sandbox's NZ and UK organisations (both sell with OUTPUT2 on account 200).
		cls.sandbox = start_sandbox(tenants=3, rate_limits=False)
		synced_organisation(cls.sandbox, CONNECTION)
		cls.organisations = []
		for tenant in frappe.get_doc("Xero Connection", CONNECTION).tenants:
			frappe.db.set_value("Xero Connection Tenant", tenant.name, "invoice_status", "AUTHORISED")
			org = {"connection": CONNECTION, "tenant_id": tenant.tenant_id}
			customers = frappe.get_all("Xero Contact", {**org, "contact_status": "ACTIVE"}, pluck="name")
			cls.organisations.append(
				frappe._dict(tenant_id=tenant.tenant_id, currency=tenant.base_currency, customers=customers)
			)
		cls.organisations = [o for o in cls.organisations if o.currency in ("NZD", "GBP")]
		cls.turn = 0
		make_user(SALES, ["Xero Sales User"])
		make_user(MANAGER, ["Xero Sales User", "Xero Sales Manager"])
		make_user(READER, ["Blogger"])
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		# The quote jobs this class queued and ran itself are not left for a bench worker to run.
		queue = get_queue("short")
		for job_id in queue.job_ids:
			if f"xero-quote-invoiced::{frappe.local.site}::" in job_id:
				queue.remove(job_id)
		cls.sandbox.stop()
		super().tearDownClass()

	def setUp(self):
		requests.delete(f"{self.sandbox.url}/_sandbox/faults", timeout=10)
		org = self.organisations[TestOrdersFromQuotes.turn % len(self.organisations)]
		TestOrdersFromQuotes.turn += 1
		self.tenant, self.currency, self.customers = org.tenant_id, org.currency, org.customers
		self.customer = org.customers[0]
		self.contact_id = frappe.db.get_value("Xero Contact", self.customer, "contact_id")

	# --- helpers -------------------------------------------------------------------------------------

	def xero(self):
		return xero_clients.client_for(CONNECTION, self.tenant)

	def in_xero(self, body: dict, existing: dict | None = None) -> dict:
		"""What a user does in Xero itself, done in the sandbox's organisation directly: it spends nothing of the
		app's call budget for the organisation. Returns the quote as Xero's API renders it."""
		sandbox = self.sandbox
		with sandbox.lock:
			tenant = sandbox.tenants[self.tenant]
			stored = tenant.quotes.get(existing["QuoteID"]) if existing else None
			quote, problems = sandbox_quotes.write_quote(
				tenant, body, now=sandbox.clock.now(), existing=stored
			)
			assert not problems, problems
			return loads(dumps(sandbox_quotes.render_quote(tenant, quote)))

	def quote(self, lines=None, status="ACCEPTED", contact_id=None, **fields) -> dict:
		"""A quote made in Xero (the sandbox prices it) and moved to ``status`` as a user would."""
		body = {
			"Contact": {"ContactID": contact_id or self.contact_id},
			"Date": "2026-05-04",
			"LineItems": lines or [dict(line) for line in LINES],
			**fields,
		}
		quote = self.in_xero(body)
		for step in {"DRAFT": [], "SENT": ["SENT"], "DECLINED": ["SENT", "DECLINED"]}.get(
			status, ["SENT", "ACCEPTED"]
		):
			quote = self.move(quote, step)
		return quote

	def move(self, quote: dict, status: str) -> dict:
		return self.in_xero({**quote_status_update(quote, status)}, quote)

	def xero_quote(self, quote_id: str) -> dict:
		with self.sandbox.lock:
			tenant = self.sandbox.tenants[self.tenant]
			return loads(dumps(sandbox_quotes.render_quote(tenant, tenant.quotes[quote_id])))

	def create(self, quote: dict):
		order = api.create_order(CONNECTION, quote["QuoteID"], self.tenant)
		return frappe.get_doc(ORDER, order["name"])

	def orders(self) -> int:
		return frappe.db.count(ORDER)

	def invoice_everything(self, order):
		invoice = orders_api.create_invoice(order.name)
		self.assertEqual(invoice["push_state"], "Pushed", invoice.get("last_error"))
		return invoice

	def take_queued_job(self, order, required: bool = False) -> None:
		"""The job refresh_order_invoicing queued after the commit, taken off the queue: the test runs it itself.
		A bench worker (of another test run on this bench) may have taken it first: its run of the same job is
		then waited for, unless the test must run the job itself at a later moment (``required``)."""
		job = get_job(f"xero-quote-invoiced::{frappe.local.site}::{order.name}")
		self.assertIsNotNone(job, "no job was queued for the order's quote")
		self.assertEqual(job.kwargs["kwargs"], {"sales_order": order.name})
		if job.get_status() == "queued":
			job.delete()
			return
		if required:
			self.skipTest("a bench worker ran the quote's job before the test could")
		deadline = time.time() + 60
		while job.get_status() in ("queued", "started") and time.time() < deadline:
			time.sleep(0.5)
		frappe.db.commit()  # a fresh snapshot: what the worker wrote

	# --- an order equal to its quote -----------------------------------------------------------------

	def test_an_accepted_quote_becomes_a_submitted_order_equal_to_it(self):
		quote = self.quote(
			[
				{
					"Description": "Oak desk",
					"Quantity": 3,
					"UnitAmount": 0.3333,
					"TaxType": "OUTPUT2",
					"AccountCode": "200",
				},
				{
					"Description": "Chair",
					"Quantity": 7,
					"UnitAmount": 4.3333,
					"DiscountRate": 12.5,
					"TaxType": "OUTPUT2",
					"AccountCode": "200",
				},
				{
					"Description": "Fitting",
					"Quantity": 2.5,
					"UnitAmount": 250,
					"DiscountAmount": 33.33,
					"TaxType": "OUTPUT2",
					"AccountCode": "200",
				},
				{
					"Description": "Freight",
					"Quantity": 1,
					"UnitAmount": 19.99,
					"TaxAmount": 2.97,
					"TaxType": "OUTPUT2",
					"AccountCode": "200",
				},
			],
			Reference="PO-4471",
			Title="Office fit-out",
			Summary="Desks and chairs",
		)
		order = self.create(quote)
		self.assertEqual((order.docstatus, order.status), (1, "Open"))
		self.assertEqual(
			(order.xero_quote_id, order.xero_quote_number, order.xero_quote_status),
			(quote["QuoteID"], quote["QuoteNumber"], "ACCEPTED"),
		)
		self.assertEqual(
			(order.po_number, order.customer, order.currency), ("PO-4471", self.customer, self.currency)
		)
		self.assertEqual(str(order.order_date), "2026-05-04")
		self.assertIn("Desks and chairs", order.remarks)
		self.assertEqual(
			[money(order.subtotal), money(order.total_tax), money(order.grand_total)],
			[quote["SubTotal"], quote["TotalTax"], quote["Total"]],
		)
		xero_lines = [line for line in quote["LineItems"] if line.get("Quantity")]
		self.assertEqual(len(order.items), len(xero_lines))
		for row, line in zip(order.items, xero_lines, strict=True):
			self.assertEqual(row.description, line["Description"])
			self.assertEqual(
				(money(row.line_amount), money(row.tax_amount)), (line["LineAmount"], line["TaxAmount"])
			)
			self.assertEqual(row.tax_type, line["TaxType"])
		self.assertEqual([r.amounts_from_xero for r in order.items], [0, 0, 0, 1])  # the typed TaxAmount
		self.assertEqual(Decimal(str(order.items[2].discount_rate)), Decimal("5.3328"))  # 33.33 of 625.00
		short_code = frappe.db.get_value("Xero Connection Tenant", {"tenant_id": self.tenant}, "short_code")
		self.assertEqual(
			order.xero_quote_url, f"https://go.xero.com/app/{short_code}/quotes/view/{quote['QuoteID']}"
		)

	def test_the_quotes_tracking_is_the_orders_and_goes_on_its_invoices(self):
		with self.sandbox.lock:
			categories = self.sandbox.tenants[self.tenant].tracking_categories.values()
			category = next(c for c in categories if c["Status"] == "ACTIVE")
			option = next(o for o in category["Options"] if o["Status"] == "ACTIVE")
		tracked = {**LINES[0], "Tracking": [{"Name": category["Name"], "Option": option["Name"]}]}
		quote = self.quote([tracked, dict(LINES[1])])
		self.assertEqual(quote["LineItems"][0]["Tracking"][0]["TrackingOptionID"], option["TrackingOptionID"])
		order = self.create(quote)
		self.assertEqual(
			[row.tracking_option_1 for row in order.items], [option["TrackingOptionID"].lower(), None]
		)
		invoice = self.invoice_everything(order)
		client = self.xero()
		try:
			[in_xero] = list(client.invoices(ids=[invoice["xero_invoice_id"]]))
		finally:
			client.close()
		self.assertEqual(
			[[t["TrackingOptionID"] for t in line.get("Tracking") or []] for line in in_xero["LineItems"]],
			[[option["TrackingOptionID"]], []],
		)

	def test_inclusive_and_notax_quotes_keep_their_amount_type(self):
		for xero_type, ours in (("INCLUSIVE", "Inclusive"), ("NOTAX", "NoTax")):
			quote = self.quote(LineAmountTypes=xero_type)
			order = self.create(quote)
			self.assertEqual(order.line_amount_type, ours)
			self.assertEqual(
				[money(order.subtotal), money(order.total_tax), money(order.grand_total)],
				[quote["SubTotal"], quote["TotalTax"], quote["Total"]],
			)

	def test_the_orders_invoices_in_parts_add_up_to_the_quote_in_xero(self):
		quote = self.quote()
		order = self.create(quote)
		totals = []
		for part in ([1, 2], [1, 2], None):
			lines = (
				[{"item": row.name, "qty": q} for row, q in zip(order.items, part, strict=True)]
				if part
				else None
			)
			invoice = orders_api.create_invoice(order.name, lines)
			self.assertEqual(invoice["push_state"], "Pushed", invoice.get("last_error"))
			self.assertFalse(invoice["totals_differ"])
			totals.append(money(invoice["xero_total"]))
		self.assertEqual(sum(totals), quote["Total"])
		order.reload()
		self.assertEqual(order.status, "Fully Invoiced")

	# --- refusals ------------------------------------------------------------------------------------

	def test_a_quote_that_is_not_accepted_or_already_an_order_is_refused_with_the_reason(self):
		for status in ("DRAFT", "SENT", "DECLINED"):
			quote = self.quote(status=status)
			before = self.orders()
			with self.assertRaisesRegex(QuoteStateError, f"is {status} in Xero: only an ACCEPTED quote"):
				api.create_order(CONNECTION, quote["QuoteID"], self.tenant)
			self.assertEqual(self.orders(), before)
		quote = self.quote()
		first = self.create(quote)
		before = self.orders()
		with self.assertRaisesRegex(QuoteStateError, f"already order {first.name}"):
			api.create_order(CONNECTION, quote["QuoteID"], self.tenant)
		self.assertEqual(self.orders(), before)
		# A cancelled order does not hold the quote: it can be ordered again, or its amendment keeps the link.
		first.cancel()
		frappe.db.commit()
		amended = frappe.copy_doc(first)
		amended.amended_from, amended.docstatus = first.name, 0
		amended.quote_invoiced = "Done"  # what a request might send: the app's state starts again
		amended.insert()
		self.assertEqual(
			(amended.xero_quote_id, amended.xero_quote_number, amended.quote_invoiced),
			(quote["QuoteID"], quote["QuoteNumber"], None),
		)
		with self.assertRaisesRegex(QuoteStateError, f"already order {amended.name}"):
			api.create_order(CONNECTION, quote["QuoteID"], self.tenant)
		amended.delete()
		frappe.db.commit()
		self.assertNotEqual(self.create(quote).name, first.name)

	def test_bad_arguments_and_quotes_an_order_cannot_hold(self):
		before = self.orders()
		with self.assertRaises(QuoteNotFoundError):
			api.create_order(CONNECTION, "00000000-0000-0000-0000-000000000000", self.tenant)
		with self.assertRaises(InvalidQuoteRequestError):
			api.create_order(CONNECTION, "QU-0001' or 1=1", self.tenant)
		with self.assertRaises(InvalidQuoteRequestError):
			api.create_order(CONNECTION, self.quote()["QuoteID"], "not-an-organisation-of-it")
		with self.assertRaises(frappe.DoesNotExistError):
			api.create_order("No Such Connection", self.quote()["QuoteID"])
		negative = self.quote(
			[
				{
					"Description": "Refund",
					"Quantity": 1,
					"UnitAmount": -5,
					"TaxType": "OUTPUT2",
					"AccountCode": "200",
				}
			]
		)
		with self.assertRaisesRegex(QuoteConversionError, "negative"):
			api.create_order(CONNECTION, negative["QuoteID"], self.tenant)
		self.assertEqual(self.orders(), before)

	def test_listing_pages_by_100_and_says_which_quotes_can_become_orders(self):
		other = frappe.db.get_value("Xero Contact", self.customers[1], "contact_id")
		accepted = self.quote(contact_id=other)
		ordered = self.quote(contact_id=other)
		self.create(ordered)
		self.quote(contact_id=other, status="SENT")
		customer = frappe.db.get_value("Xero Contact", {"contact_id": other})
		answer = api.quotes(CONNECTION, self.tenant, status="", contact=customer)
		by_id = {q["quote_id"]: q for q in answer["quotes"]}
		self.assertTrue(by_id[accepted["QuoteID"]]["can_order"])
		self.assertFalse(by_id[ordered["QuoteID"]]["can_order"])
		self.assertTrue(by_id[ordered["QuoteID"]]["order"])
		self.assertEqual({q["status"] for q in answer["quotes"]}, {"ACCEPTED", "SENT"})
		self.assertFalse(answer["more"])
		accepted_only = api.quotes(CONNECTION, self.tenant, contact=customer)
		self.assertEqual({q["status"] for q in accepted_only["quotes"]}, {"ACCEPTED"})
		self.assertEqual(api.quotes(CONNECTION, self.tenant, date_from="2030-01-01")["quotes"], [])
		for bad in ({"status": "PAID"}, {"date_from": "yesterday"}, {"page": 0}, {"contact": "nobody"}):
			with self.assertRaises(InvalidQuoteRequestError):
				api.quotes(CONNECTION, self.tenant, **bad)

	# --- the quote set to INVOICED ---------------------------------------------------------------------

	def test_a_fully_invoiced_order_sets_its_quote_to_invoiced_once(self):
		quote = self.quote(
			LineAmountTypes="INCLUSIVE", Reference="PO-9", Terms="Net 20", ExpiryDate="2026-06-30"
		)
		order = self.create(quote)
		orders_api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}])
		self.assertFalse(frappe.db.get_value(ORDER, order.name, "quote_invoiced"))
		self.invoice_everything(order)
		self.assertEqual(frappe.db.get_value(ORDER, order.name, "quote_invoiced"), "Pending")
		self.take_queued_job(order)
		self.assertEqual(quote_invoicing.set_quote_invoiced(order.name), "Done")  # what the job runs
		after = self.xero_quote(quote["QuoteID"])
		self.assertEqual(after["Status"], "INVOICED")
		for key in ("Reference", "Terms", "ExpiryDateString", "LineAmountTypes", "Total", "LineItems"):
			self.assertEqual(after[key], quote[key], key)
		order.reload()
		self.assertEqual((order.quote_invoiced, order.xero_quote_status), ("Done", "INVOICED"))
		# Asked again (a retry, a second worker): nothing more is sent to Xero.
		reset_calls(self.sandbox)
		frappe.db.set_value(ORDER, order.name, "quote_invoiced", "Pending")
		frappe.db.commit()
		self.assertEqual(quote_invoicing.set_quote_invoiced(order.name), "Done")
		self.assertEqual(sandbox_calls(self.sandbox)["by_endpoint"].get(QUOTE_POST, 0), 0)

	def test_while_xero_is_down_the_quote_stays_pending_and_the_retry_sets_it_once(self):
		quote = self.quote()
		order = self.create(quote)
		requests.post(
			f"{self.sandbox.url}/_sandbox/faults",
			json={
				"kind": "503",
				"count": 50,
				"path": f"/api.xro/2.0/Quotes/{quote['QuoteID']}",
				"method": "POST",
			},
			timeout=10,
		).raise_for_status()
		self.invoice_everything(order)
		self.take_queued_job(order)
		self.assertEqual(quote_invoicing.set_quote_invoiced(order.name), "Pending")
		self.assertTrue(frappe.db.get_value(ORDER, order.name, "quote_error"))
		self.assertEqual(self.xero_quote(quote["QuoteID"])["Status"], "ACCEPTED")
		requests.delete(f"{self.sandbox.url}/_sandbox/faults", timeout=10)
		self.assertNotIn(order.name, quote_invoicing.retry_pending())  # its backoff has not passed yet
		frappe.db.set_value(ORDER, order.name, "quote_attempted_at", "2000-01-01 00:00:00")
		frappe.db.commit()
		self.assertEqual(quote_invoicing.retry_pending().get(order.name), "Done")
		self.assertEqual(self.xero_quote(quote["QuoteID"])["Status"], "INVOICED")
		self.assertFalse(frappe.db.get_value(ORDER, order.name, "quote_error"))

	def test_a_quote_changed_in_xero_meanwhile_is_not_invoiced_and_says_why(self):
		quote = self.quote()
		order = self.create(quote)
		self.move(quote, "SENT")  # someone un-accepts it in Xero
		self.invoice_everything(order)
		self.take_queued_job(order)
		self.assertEqual(quote_invoicing.set_quote_invoiced(order.name), "Failed")
		order.reload()
		self.assertIn("is SENT in Xero, not ACCEPTED", order.quote_error)
		self.assertEqual(order.xero_quote_status, "SENT")
		comments = frappe.get_all(
			"Comment", {"reference_doctype": ORDER, "reference_name": order.name}, pluck="content"
		)
		self.assertTrue(any("is SENT in Xero" in c for c in comments))
		# Accepted again in Xero: a manager sets it again.
		self.move(self.xero_quote(quote["QuoteID"]), "ACCEPTED")
		with signed_in(MANAGER):
			self.assertEqual(api.retry_quote_invoiced(order.name)["quote_invoiced"], "Done")
		with signed_in(MANAGER), self.assertRaises(OrderStateError):
			api.retry_quote_invoiced(order.name)  # Done already: 409

	def test_an_order_no_longer_fully_invoiced_leaves_its_quote_as_it_is(self):
		quote = self.quote()
		order = self.create(quote)
		invoice = self.invoice_everything(order)
		self.assertEqual(frappe.db.get_value(ORDER, order.name, "quote_invoiced"), "Pending")
		self.take_queued_job(order, required=True)
		set_invoice_status(invoice["name"], "VOIDED")  # Xero says the invoice was voided before the job ran
		self.assertEqual(quote_invoicing.set_quote_invoiced(order.name), None)
		self.assertEqual(self.xero_quote(quote["QuoteID"])["Status"], "ACCEPTED")
		self.assertFalse(frappe.db.get_value(ORDER, order.name, "quote_invoiced"))

	# --- doors ---------------------------------------------------------------------------------------

	def test_no_request_can_set_or_change_an_orders_quote_link(self):
		quote = self.quote()
		with signed_in(SALES):
			forged = frappe.get_doc(
				{
					"doctype": ORDER,
					"customer": self.customer,
					"currency": self.currency,
					"xero_quote_id": quote["QuoteID"],
					"xero_quote_number": quote["QuoteNumber"],
					"quote_invoiced": "Done",
					"items": [{"description": "Desk", "qty": 1, "unit_price": 10, "amounts_from_xero": 1}],
				}
			).insert()
			forged.submit()
		self.assertEqual(
			(forged.xero_quote_id, forged.xero_quote_number, forged.quote_invoiced), (None, None, None)
		)
		self.assertEqual(forged.items[0].amounts_from_xero, 0)
		# The quote is free: the forged order did not take it.
		order = self.create(quote)
		with signed_in(SALES), self.assertRaises(DerivedFieldError):
			doc = frappe.get_doc(ORDER, order.name)
			doc.xero_quote_id = "00000000-0000-0000-0000-000000000000"
			doc.save()
		self.assertEqual(frappe.db.get_value(ORDER, order.name, "xero_quote_id"), quote["QuoteID"])

	def test_who_may_list_quotes_make_orders_and_send_them_again(self):
		quote = self.quote()
		with signed_in(READER):
			for call in (
				lambda: api.quotes(CONNECTION, self.tenant),
				lambda: api.create_order(CONNECTION, quote["QuoteID"], self.tenant),
			):
				with self.assertRaises(frappe.PermissionError):
					call()
		with signed_in(SALES):
			self.assertTrue(api.quotes(CONNECTION, self.tenant)["quotes"])
			order = api.create_order(CONNECTION, quote["QuoteID"], self.tenant)
			self.assertEqual(order["owner"], SALES)
			with self.assertRaises(frappe.PermissionError):
				api.retry_quote_invoiced(order["name"])
