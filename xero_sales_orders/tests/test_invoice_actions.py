"""Approve & Email and Email from the order against the Xero sandbox over a real socket; every push's History note
and Url in Xero; a contact without an email address told before anything is sent."""

import uuid

import frappe
import requests
from frappe.tests.utils import FrappeTestCase

from xero_sales_orders.api import invoices as invoices_api
from xero_sales_orders.api import orders as orders_api
from xero_sales_orders.exceptions import NoEmailAddressError, OrderStateError
from xero_sales_orders.services import invoice_actions, invoice_push, xero_clients
from xero_sales_orders.services.master_sync import sync_connection
from xero_sales_orders.tests.factories import make_user
from xso_devkit.sandbox import reset_calls, sandbox_calls, start_sandbox, synced_organisation

CONNECTION = "Email Test"
EMAIL = "POST /api.xro/2.0/Invoices/{id}/Email"
UPDATE = "POST /api.xro/2.0/Invoices/{id}"
HISTORY = "PUT /api.xro/2.0/Invoices/{id}/History"
SALES_USER = "xso-email-user@example.com"
ORGANISATIONS = 4
MANAGER = "xso-email-manager@example.com"


class TestInvoiceActions(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		# Each test takes the next organisation: the app's limiter gives each one Xero's 60 calls a minute.
		cls.sandbox = start_sandbox(tenants=ORGANISATIONS, rate_limits=False)
		synced_organisation(cls.sandbox, CONNECTION)
		cls.organisations = []
		for tenant in frappe.get_doc("Xero Connection", CONNECTION).tenants:
			org = {"connection": CONNECTION, "tenant_id": tenant.tenant_id}
			cls.organisations.append(
				frappe._dict(
					tenant_id=tenant.tenant_id,
					currency=tenant.base_currency,
					customer=frappe.get_all(
						"Xero Contact",
						{**org, "contact_status": "ACTIVE", "email": ["is", "set"]},
						pluck="name",
					)[0],
					item=frappe.get_all(
						"Xero Item", {**org, "is_sold": 1, "account_code": ["is", "set"]}, pluck="name"
					)[0],
				)
			)
		cls.turn = 0
		make_user(SALES_USER, ["Xero Sales User"])
		make_user(MANAGER, ["Xero Sales Manager"])
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		cls.sandbox.stop()
		super().tearDownClass()

	def setUp(self):
		requests.delete(f"{self.sandbox.url}/_sandbox/faults", timeout=10)
		frappe.set_user("Administrator")
		org = self.organisations[TestInvoiceActions.turn % len(self.organisations)]
		TestInvoiceActions.turn += 1
		self.tenant, self.currency, self.customer, self.item = (
			org.tenant_id,
			org.currency,
			org.customer,
			org.item,
		)

	def tearDown(self):
		frappe.set_user("Administrator")

	def client(self):
		return xero_clients.client_for(CONNECTION, self.tenant)

	def calls(self):
		return sandbox_calls(self.sandbox)["by_endpoint"]

	def invoice(self, status="DRAFT", customer=None, qty=2):
		order = frappe.get_doc(
			{
				"doctype": "Xero Sales Order",
				"customer": customer or self.customer,
				"po_number": f"PO-{uuid.uuid4().hex[:6]}",
				"currency": self.currency,
				"items": [{"item": self.item, "qty": qty, "unit_price": 20}],
			}
		).insert()
		order.submit()
		frappe.db.commit()
		invoice = orders_api.create_invoice(
			order.name, [{"item": order.items[0].name, "qty": qty}], status=status
		)
		self.assertEqual(
			(invoice["push_state"], invoice["status"]), ("Pushed", status), invoice.get("last_error")
		)
		return frappe.get_doc("Xero Invoice", invoice["name"])

	def xero(self, invoice):
		with self.client() as client:
			return next(iter(client.invoices(ids=[invoice.xero_invoice_id])))

	def test_approve_and_email_a_draft_from_the_order(self):
		invoice = self.invoice("DRAFT")
		reset_calls(self.sandbox)
		answer = invoices_api.approve_and_email(invoice.name)
		self.assertEqual((answer["status"], answer["sent_to_contact"]), ("AUTHORISED", 1))
		calls = self.calls()
		self.assertEqual((calls.get(UPDATE), calls.get(EMAIL)), (1, 1))
		theirs = self.xero(invoice)
		self.assertEqual((theirs["Status"], theirs["SentToContact"]), ("AUTHORISED", True))
		comments = frappe.get_all(
			"Comment", {"reference_name": invoice.sales_order, "content": ["like", "%emailed%"]}, pluck="name"
		)
		self.assertTrue(comments)

	def test_email_an_approved_invoice_and_again(self):
		invoice = self.invoice("AUTHORISED")
		self.assertEqual(invoice.sent_to_contact, 0)
		reset_calls(self.sandbox)
		answer = invoices_api.email(invoice.name)
		self.assertEqual(answer["sent_to_contact"], 1)
		self.assertNotIn(UPDATE, self.calls())  # nothing to approve
		invoices_api.email(invoice.name)  # sending it again is allowed: Xero emails it again
		self.assertEqual(self.calls().get(EMAIL), 2)

	def test_a_draft_must_be_approved_to_be_emailed_and_nothing_is_sent(self):
		invoice = self.invoice("DRAFT")
		reset_calls(self.sandbox)
		with self.assertRaisesRegex(OrderStateError, "use Approve & Email"):
			invoices_api.email(invoice.name)
		self.assertEqual(self.calls(), {})

	def test_a_contact_without_an_email_address_is_told_before_anything_is_sent(self):
		with self.client() as client:
			[nobody] = client.put("/Contacts", {"Contacts": [{"Name": f"No Email {uuid.uuid4().hex[:6]}"}]})[
				"Contacts"
			]
		sync_connection(CONNECTION)
		nobody = nobody["ContactID"]
		invoice = self.invoice("DRAFT", customer=nobody)
		reset_calls(self.sandbox)
		with self.assertRaisesRegex(NoEmailAddressError, "no email address in Xero") as refused:
			invoices_api.approve_and_email(invoice.name)
		self.assertEqual(refused.exception.http_status_code, 409)
		# One read of the contact (the synced copy may be older than Xero's), nothing written or sent.
		self.assertEqual(self.calls(), {"GET /api.xro/2.0/Contacts/{id}": 1})
		self.assertEqual(self.xero(invoice)["Status"], "DRAFT")
		invoice.reload()
		self.assertEqual((invoice.status, invoice.sent_to_contact), ("DRAFT", 0))

	def test_an_address_added_in_xero_since_the_sync_is_used(self):
		with self.client() as client:
			[contact] = client.put(
				"/Contacts", {"Contacts": [{"Name": f"Late Email {uuid.uuid4().hex[:6]}"}]}
			)["Contacts"]
			sync_connection(CONNECTION)
			client.post(
				f"/Contacts/{contact['ContactID']}", {"Contacts": [{"EmailAddress": "late@example.com"}]}
			)
		invoice = self.invoice("AUTHORISED", customer=contact["ContactID"])
		self.assertEqual(invoices_api.email(invoice.name)["sent_to_contact"], 1)
		self.assertEqual(
			frappe.db.get_value("Xero Contact", contact["ContactID"], "email"), "late@example.com"
		)

	def test_approving_is_the_managers_right_emailing_the_users(self):
		draft = self.invoice("DRAFT")
		approved = self.invoice("AUTHORISED")
		reset_calls(self.sandbox)
		frappe.set_user(SALES_USER)
		with self.assertRaises(frappe.PermissionError):
			invoices_api.approve_and_email(draft.name)
		self.assertEqual(self.calls(), {})
		self.assertEqual(invoices_api.email(approved.name)["sent_to_contact"], 1)
		frappe.set_user(MANAGER)
		self.assertEqual(invoices_api.approve_and_email(draft.name)["status"], "AUTHORISED")

	def test_every_push_notes_its_order_and_author_in_xeros_history_and_links_the_order(self):
		frappe.set_user(MANAGER)
		invoice = self.invoice("AUTHORISED")
		frappe.set_user("Administrator")
		theirs = self.xero(invoice)
		self.assertEqual(theirs["Url"], invoice_actions.order_link(invoice.sales_order))
		self.assertTrue(theirs["Url"].endswith(f"/app/xero-sales-order/{invoice.sales_order}"))
		with self.client() as client:
			notes = [
				r["Details"] for r in client.history(invoice.xero_invoice_id) if r.get("Changes") == "Note"
			]
		self.assertEqual(len(notes), 1)
		self.assertIn(invoice.sales_order, notes[0])
		self.assertIn(MANAGER, notes[0])
		self.assertLessEqual(len(notes[0]), 250)
		self.assertEqual(frappe.db.get_value("Xero Invoice", invoice.name, "xero_history_noted"), 1)

	def test_a_batch_pushs_notes_are_left_to_the_job_a_few_at_a_time(self):
		fault = {"kind": "503", "path": "/api.xro/2.0/Invoices", "method": "PUT", "count": 40}
		requests.post(f"{self.sandbox.url}/_sandbox/faults", json=fault, timeout=10).raise_for_status()
		names = [self.invoice_pending() for _ in range(7)]
		requests.delete(f"{self.sandbox.url}/_sandbox/faults", timeout=10)
		frappe.db.sql("update `tabXero Invoice` set last_attempt_at = '2000-01-01' where name in %s", [names])
		frappe.db.commit()
		reset_calls(self.sandbox)
		invoice_push.push_invoices(names)
		self.assertNotIn(HISTORY, self.calls())  # seven is a batch: no note inline
		invoice_actions.note_pending_history()
		self.assertEqual(self.calls().get(HISTORY), 7)
		self.assertEqual(frappe.db.count("Xero Invoice", {"name": ["in", names], "xero_history_noted": 1}), 7)
		invoice_actions.note_pending_history()
		self.assertEqual(self.calls().get(HISTORY), 7)  # noted once each

	def test_a_refused_invoice_sent_again_once_fixed_is_not_answered_with_the_old_refusal(self):
		# Xero keeps an Idempotency-Key's answer for minutes: a Failed invoice sent again within them under the
		# same key would get Xero's old refusal back, however the cause was fixed. A refusal gets a new key.
		contact_id = frappe.db.get_value("Xero Contact", self.customer, "contact_id")
		with self.client() as client:
			client.post(f"/Contacts/{contact_id}", {"Contacts": [{"ContactStatus": "ARCHIVED"}]})
		try:
			order = frappe.get_doc(
				{
					"doctype": "Xero Sales Order",
					"customer": self.customer,
					"po_number": f"PO-{uuid.uuid4().hex[:6]}",
					"currency": self.currency,
					"items": [{"item": self.item, "qty": 1, "unit_price": 20}],
				}
			).insert()
			order.submit()
			frappe.db.commit()
			refused = orders_api.create_invoice(order.name)
		finally:
			with self.client() as client:
				client.post(f"/Contacts/{contact_id}", {"Contacts": [{"ContactStatus": "ACTIVE"}]})
		self.assertEqual(refused["push_state"], "Failed")
		self.assertIn("archived", refused["last_error"])
		self.assertEqual(orders_api.retry_push(refused["name"])["push_state"], "Pushed")

	def invoice_pending(self):
		order = frappe.get_doc(
			{
				"doctype": "Xero Sales Order",
				"customer": self.customer,
				"po_number": f"PO-{uuid.uuid4().hex[:6]}",
				"currency": self.currency,
				"items": [{"item": self.item, "qty": 1, "unit_price": 20}],
			}
		).insert()
		order.submit()
		frappe.db.commit()
		invoice = orders_api.create_invoice(order.name)
		self.assertEqual(invoice["push_state"], "Pending")
		return invoice["name"]
