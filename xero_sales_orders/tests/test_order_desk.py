"""What a person sees and does in the order form, against the Xero sandbox: a new customer created in Xero
(or the contact Xero holds offered instead), the Create Invoice preview and its date / due date / status, the
order's timeline, the confirmation's seller block and customer address, the customer picker's organisation,
the starting currency, and the import batch's settings."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

import frappe
import requests
from frappe.tests.utils import FrappeTestCase
from frappe.utils import getdate, nowdate

from xero_sales_orders.api import masters as masters_api
from xero_sales_orders.api import orders as orders_api
from xero_sales_orders.exceptions import (
	ContactHeldError,
	InvalidContactError,
	InvalidInvoiceRequestError,
	OverInvoicingError,
)
from xero_sales_orders.services import invoice_updates, order_timeline, xero_clients
from xero_sales_orders.tests.factories import make_contact, make_user
from xso_devkit.sandbox import reset_calls, sandbox_calls, start_sandbox, synced_organisation

CONNECTION = "Desk Test"
ORDER = "Xero Sales Order"
SALES = "xso-desk-sales@example.com"
NOBODY = "xso-desk-nobody@example.com"
PUT_CONTACTS = "PUT /api.xro/2.0/Contacts"


def money(value):
	return Decimal(str(value)).quantize(Decimal("0.01"))


def timeline(order: str) -> list[str]:
	return frappe.get_all(
		"Comment",
		{"reference_doctype": ORDER, "reference_name": order, "comment_type": "Info"},
		pluck="content",
		order_by="creation asc",
	)


class TestOrderDesk(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.sandbox = start_sandbox(tenants=2, rate_limits=False)
		org = synced_organisation(cls.sandbox, CONNECTION, invoice_status="DRAFT")
		cls.tenant, cls.currency = org.tenant_id, org.currency
		cls.customer, cls.items = org.customers[0], org.sold_items[:2]
		tenants = frappe.get_doc("Xero Connection", CONNECTION).tenants
		cls.other_tenant = next(t.tenant_id for t in tenants if t.tenant_id != cls.tenant)
		make_user(SALES, ["Xero Sales User"])
		make_user(NOBODY, ["Blogger"])
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		cls.sandbox.stop()
		super().tearDownClass()

	def tearDown(self):
		frappe.set_user("Administrator")

	def client(self, tenant=None):
		return xero_clients.client_for(CONNECTION, tenant or self.tenant)

	def xero_contacts(self, name):
		client = self.client()
		try:
			return client.find_contacts(name=name)
		finally:
			client.close()

	def order(self, lines=None, **fields):
		doc = frappe.get_doc(
			{
				"doctype": ORDER,
				"customer": fields.pop("customer", self.customer),
				"po_number": f"PO-{uuid.uuid4().hex[:6]}",
				"currency": fields.pop("currency", self.currency),
				"items": lines or [{"item": self.items[0], "qty": 10}, {"item": self.items[1], "qty": 3}],
				**fields,
			}
		).insert()
		doc.submit()
		frappe.db.commit()
		return doc

	def new_contact(self, **fields):
		fields.setdefault("connection", CONNECTION)
		fields.setdefault("tenant_id", self.tenant)
		return masters_api.new_contact(**fields)

	# New Xero contact -------------------------------------------------------------------------------

	def test_a_new_contact_is_created_in_xero_and_in_the_synced_list_at_once_then_picked(self):
		name = f"Harbour Lights {uuid.uuid4().hex[:6]}"
		frappe.set_user(SALES)
		answer = self.new_contact(
			contact_name=name,
			email="accounts@harbour.example",
			account_number=f"HL-{uuid.uuid4().hex[:6]}",
			payment_terms_day=20,
			payment_terms_type="OFFOLLOWINGMONTH",
			request_id=uuid.uuid4().hex,
		)
		self.assertTrue(answer["created"])
		contact = answer["contact"]
		[remote] = self.xero_contacts(name)
		self.assertEqual(contact["name"], remote["ContactID"])
		self.assertEqual(remote["EmailAddress"], "accounts@harbour.example")
		self.assertEqual(remote["PaymentTerms"], {"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}})
		local = frappe.get_doc("Xero Contact", contact["name"])
		self.assertEqual(
			(local.contact_name, local.connection, local.tenant_id), (name, CONNECTION, self.tenant)
		)
		self.assertEqual(
			contact["organisation"],
			frappe.db.get_value(
				"Xero Connection Tenant", {"parent": CONNECTION, "tenant_id": self.tenant}, "tenant_name"
			),
		)
		# Picked on an order by the same sales user, the order is in that organisation.
		order = frappe.get_doc(
			{
				"doctype": ORDER,
				"customer": contact["name"],
				"items": [{"description": "Consulting", "qty": 1, "unit_price": 100}],
			}
		).insert()
		self.assertEqual((order.connection, order.tenant_id), (CONNECTION, self.tenant))
		self.assertEqual(order.currency, self.currency)

	def test_a_retry_never_makes_two_contacts(self):
		name = f"Retry Ltd {uuid.uuid4().hex[:6]}"
		key = uuid.uuid4().hex
		first = self.new_contact(contact_name=name, request_id=key)
		reset_calls(self.sandbox)
		again = self.new_contact(contact_name=name, request_id=key)
		self.assertTrue(again["created"] and again.get("replayed"))
		self.assertEqual(again["contact"]["name"], first["contact"]["name"])
		self.assertNotIn(PUT_CONTACTS, sandbox_calls(self.sandbox)["by_endpoint"])
		# Remembered nowhere (another worker, a day later): Xero's answer to the same key, or its own rule.
		frappe.cache.delete_value(f"xso:new-contact:{CONNECTION}:{self.tenant}:{key}")
		frappe.db.delete("Xero Contact", first["contact"]["name"])
		frappe.db.commit()
		third = self.new_contact(contact_name=name, request_id=key)
		self.assertEqual(third["contact"]["name"], first["contact"]["name"])
		self.assertEqual(len(self.xero_contacts(name)), 1)

	def test_a_name_xero_holds_is_offered_instead_of_an_error(self):
		taken = frappe.get_doc("Xero Contact", self.customer)
		reset_calls(self.sandbox)
		offer = self.new_contact(contact_name=taken.contact_name.upper(), request_id=uuid.uuid4().hex)
		self.assertFalse(offer["created"])
		self.assertEqual(offer["taken"], "name")
		self.assertEqual(offer["contact"]["name"], taken.name)
		self.assertIn(taken.contact_name.upper(), offer["message"])
		# The synced list is Xero's copy: no call was needed.
		self.assertNotIn(PUT_CONTACTS, sandbox_calls(self.sandbox)["by_endpoint"])

	def test_a_contact_made_in_xero_since_the_last_sync_is_offered_and_synced(self):
		name = f"Made In Xero {uuid.uuid4().hex[:6]}"
		number = f"MX-{uuid.uuid4().hex[:6]}"
		client = self.client()
		made = client.create_contact({"Name": name, "AccountNumber": number})
		client.close()
		self.assertFalse(frappe.db.exists("Xero Contact", made["ContactID"]))
		by_name = self.new_contact(contact_name=name, request_id=uuid.uuid4().hex)
		self.assertEqual((by_name["created"], by_name["taken"]), (False, "name"))
		self.assertIn("is already assigned to another contact", by_name["message"])
		self.assertEqual(by_name["contact"]["name"], made["ContactID"])
		self.assertTrue(frappe.db.exists("Xero Contact", made["ContactID"]))
		frappe.db.delete("Xero Contact", made["ContactID"])
		frappe.db.commit()
		by_number = self.new_contact(contact_name=f"{name} Two", account_number=number)
		self.assertEqual((by_number["created"], by_number["taken"]), (False, "account_number"))
		self.assertEqual(by_number["contact"]["name"], made["ContactID"])
		self.assertEqual(self.xero_contacts(f"{name} Two"), [])

	def test_an_archived_holder_of_the_account_number_is_a_clear_409(self):
		client = self.client()
		number = f"AR-{uuid.uuid4().hex[:6]}"
		made = client.create_contact({"Name": f"Archived {number}", "AccountNumber": number})
		client.post(f"/Contacts/{made['ContactID']}", {"Contacts": [{"ContactStatus": "ARCHIVED"}]})
		client.close()
		with self.assertRaises(ContactHeldError) as refused:
			self.new_contact(contact_name=f"Fresh {number}", account_number=number)
		self.assertIn("archived", str(refused.exception))
		self.assertEqual(self.xero_contacts(f"Fresh {number}"), [])

	def test_bad_fields_are_refused_before_anything_reaches_xero(self):
		reset_calls(self.sandbox)
		for fields, message in (
			({"contact_name": "  "}, "Give the contact's name"),
			({"contact_name": "Ok Ltd", "email": "nope"}, "is not an email address"),
			(
				{"contact_name": "Ok Ltd", "payment_terms_day": 40, "payment_terms_type": "OFFOLLOWINGMONTH"},
				"from 1 to 31",
			),
			({"contact_name": "Ok Ltd", "request_id": "x y"}, "request_id"),
			({"contact_name": "Ok Ltd", "tenant_id": str(uuid.uuid4())}, "is not part of Xero Connection"),
		):
			with self.assertRaises(InvalidContactError, msg=fields) as refused:
				self.new_contact(**fields)
			self.assertIn(message, str(refused.exception))
		self.assertEqual(sandbox_calls(self.sandbox)["total"], 0)
		self.assertEqual(InvalidContactError.http_status_code, 400)

	def test_only_those_who_raise_orders_may_create_contacts(self):
		frappe.set_user(NOBODY)
		with self.assertRaises(frappe.PermissionError):
			self.new_contact(contact_name=f"Nope {uuid.uuid4().hex[:6]}")
		with self.assertRaises(frappe.PermissionError):
			masters_api.customer_defaults(self.customer)
		self.assertEqual(masters_api.organisations(), [])

	# The customer picker, the organisations and the starting currency -------------------------------

	def test_the_customer_picker_tells_two_contacts_of_the_same_name_apart(self):
		name = f"Boom FM {uuid.uuid4().hex[:4]}"
		here = make_contact(name, CONNECTION, self.tenant)
		there = make_contact(name, CONNECTION, self.other_tenant)
		frappe.set_user(SALES)
		rows = masters_api.contact_query("Xero Contact", name, "name", 0, 20, {})
		organisations = {r[0]: r[2] for r in rows}
		self.assertEqual(set(organisations), {here.name, there.name})
		self.assertEqual(len(set(organisations.values())), 2)
		# Frappe's own link search goes through it (the hooks' standard query).
		from frappe.desk.search import search_link

		found = search_link("Xero Contact", name, filters={"tenant_id": self.other_tenant})
		self.assertEqual([r["value"] for r in found], [there.name])
		self.assertIn(organisations[there.name], found[0]["description"])
		# Every connected organisation is offered (other tests' connections too), this connection's both.
		ours = {o["tenant_id"] for o in masters_api.organisations() if o["connection"] == CONNECTION}
		self.assertEqual(ours, {self.tenant, self.other_tenant})

	def test_a_new_order_starts_in_its_customers_currency_else_its_organisations(self):
		plain = make_contact(f"Plain {uuid.uuid4().hex[:4]}", CONNECTION, self.tenant)
		order = frappe.get_doc(
			{"doctype": ORDER, "customer": plain.name, "items": [{"description": "X", "qty": 1}]}
		).insert()
		self.assertEqual(order.currency, self.currency)
		frappe.db.set_value("Xero Contact", plain.name, "default_currency", "AUD")
		self.assertEqual(masters_api.customer_defaults(plain.name)["currency"], "AUD")
		order = frappe.get_doc(
			{"doctype": ORDER, "customer": plain.name, "items": [{"description": "X", "qty": 1}]}
		).insert()
		self.assertEqual(order.currency, "AUD")
		typed = frappe.get_doc(
			{
				"doctype": ORDER,
				"customer": plain.name,
				"currency": "usd",
				"items": [{"description": "X", "qty": 1}],
			}
		).insert()
		self.assertEqual(typed.currency, "USD")

	# Create Invoice: preview, date, due date, status ----------------------------------------------

	def test_the_preview_prices_the_invoice_as_it_is_then_raised_and_writes_nothing(self):
		order = self.order()
		lines = [{"item": order.items[0].name, "qty": 3}, {"item": order.items[1].name, "qty": 1}]
		invoices_before = frappe.db.count("Xero Invoice", {"sales_order": order.name})
		modified = frappe.db.get_value(ORDER, order.name, "modified")
		preview = orders_api.preview_invoice(order.name, frappe.as_json(lines))
		self.assertEqual(frappe.db.count("Xero Invoice", {"sales_order": order.name}), invoices_before)
		self.assertEqual(frappe.db.get_value(ORDER, order.name, "modified"), modified)
		self.assertEqual(preview["status"], "DRAFT")  # the organisation's default
		today = getdate(nowdate())  # the site's day, which may not be the machine's
		self.assertEqual(preview["invoice_date"], today.isoformat())
		self.assertEqual(preview["due_date"], (today + timedelta(days=30)).isoformat())
		invoice = orders_api.create_invoice(order.name, lines)
		for ours, theirs in (("subtotal", "subtotal"), ("total_tax", "total_tax"), ("total", "total")):
			self.assertEqual(money(preview[ours]), money(invoice[theirs]))
		self.assertEqual(money(preview["total"]), money(invoice["xero_total"]))
		self.assertEqual(
			[(p["item"], money(p["line_amount"])) for p in preview["lines"]],
			[(row["sales_order_item"], money(row["line_amount"])) for row in invoice["items"]],
		)

	def test_the_preview_refuses_what_create_invoice_would(self):
		order = self.order()
		line = order.items[0].name
		with self.assertRaises(OverInvoicingError):
			orders_api.preview_invoice(order.name, [{"item": line, "qty": 11}])
		for args in (
			{"status": "PAID"},
			{"invoice_date": "31/12/2026"},
			{"invoice_date": "2026-06-10", "due_date": "2026-06-09"},
		):
			with self.assertRaises(InvalidInvoiceRequestError, msg=args):
				orders_api.preview_invoice(order.name, [{"item": line, "qty": 1}], **args)
			with self.assertRaises(InvalidInvoiceRequestError, msg=args):
				orders_api.create_invoice(order.name, [{"item": line, "qty": 1}], **args)
		self.assertEqual(frappe.db.count("Xero Invoice", {"sales_order": order.name}), 0)
		frappe.set_user(NOBODY)
		with self.assertRaises(frappe.PermissionError):
			orders_api.preview_invoice(order.name, [{"item": line, "qty": 1}])

	def test_the_chosen_date_due_date_and_status_reach_xero(self):
		order = self.order()
		invoice_date = date.today() - timedelta(days=3)
		due_date = date.today() + timedelta(days=45)
		preview = orders_api.preview_invoice(
			order.name, [{"item": order.items[0].name, "qty": 2}], invoice_date.isoformat()
		)
		self.assertEqual(preview["due_date"], (invoice_date + timedelta(days=30)).isoformat())
		invoice = orders_api.create_invoice(
			order.name,
			[{"item": order.items[0].name, "qty": 2}],
			invoice_date=invoice_date.isoformat(),
			due_date=due_date.isoformat(),
			status="authorised",
		)
		self.assertEqual(invoice["push_state"], "Pushed", invoice.get("last_error"))
		self.assertEqual(invoice["requested_status"], "AUTHORISED")
		self.assertEqual(invoice["status"], "AUTHORISED")  # the organisation's default is DRAFT
		client = self.client()
		[remote] = list(client.invoices(numbers=[invoice["invoice_number"]]))
		client.close()
		self.assertEqual(remote["Status"], "AUTHORISED")
		self.assertEqual(remote["DateString"][:10], invoice_date.isoformat())
		self.assertEqual(remote["DueDateString"][:10], due_date.isoformat())

	# The order's timeline -----------------------------------------------------------------------------

	def test_the_timeline_records_raised_pushed_paid_voided_and_credited_with_links(self):
		order = self.order()
		paid = orders_api.create_invoice(
			order.name, [{"item": order.items[0].name, "qty": 4}], status="AUTHORISED"
		)
		voided = orders_api.create_invoice(
			order.name, [{"item": order.items[1].name, "qty": 1}], status="AUTHORISED"
		)
		entries = timeline(order.name)
		link = f'href="/app/xero-invoice/{paid["name"]}"'
		self.assertTrue(any("raised" in e and link in e for e in entries), entries)
		self.assertTrue(any("is in Xero as AUTHORISED" in e and link in e for e in entries), entries)
		part = (money(paid["total"]) / 2).quantize(Decimal("0.01"))
		requests.post(
			f"{self.sandbox.url}/_sandbox/invoices/{paid['xero_invoice_id']}/pay",
			json={"amount": str(part)},
			timeout=10,
		).raise_for_status()
		client = self.client()
		client.update_invoice(voided["xero_invoice_id"], {"Status": "VOIDED"})
		elements = list(client.invoices(ids=[paid["xero_invoice_id"], voided["xero_invoice_id"]]))
		client.close()
		invoice_updates.apply_xero_invoices(elements, CONNECTION, self.tenant)
		entries = timeline(order.name)
		paid_text = frappe.utils.fmt_money(part, 2)
		self.assertTrue(any("payment of" in e and paid_text in e and link in e for e in entries), entries)
		self.assertTrue(
			any("voided in Xero" in e and f'/app/xero-invoice/{voided["name"]}"' in e for e in entries),
			entries,
		)
		# The second part: the stored amount paid (read back as a float) and Xero's (a Decimal) are compared.
		rest = money(paid["total"]) - part
		requests.post(
			f"{self.sandbox.url}/_sandbox/invoices/{paid['xero_invoice_id']}/pay",
			json={"amount": str(rest)},
			timeout=10,
		).raise_for_status()
		client = self.client()
		invoice_updates.apply_xero_invoices(
			list(client.invoices(ids=[paid["xero_invoice_id"]])), CONNECTION, self.tenant
		)
		client.close()
		entries = timeline(order.name)
		rest_text = frappe.utils.fmt_money(rest, 2)
		self.assertTrue(any("payment of" in e and rest_text in e and link in e for e in entries), entries)
		self.assertEqual(frappe.db.get_value("Xero Invoice", paid["name"], "status"), "PAID")
		order_timeline.invoice_credited(
			order.name, paid["name"], "CN-0001", 5, self.currency, returned_to_order=True
		)
		frappe.db.commit()
		last = timeline(order.name)[-1]
		self.assertIn("Credit note CN-0001", last)
		self.assertIn(link, last)
		self.assertIn("back on the order", last)

	def test_timeline_entries_show_texts_as_text(self):
		order_timeline.invoice_credited(
			self.order().name, "INV-1", '<img src=x onerror="alert(1)">', 1, "NZD"
		)
		entry = frappe.get_all("Comment", {"content": ["like", "%Credit note%alert%"]}, pluck="content")[-1]
		self.assertNotIn("<img", entry)

	# The order confirmation -----------------------------------------------------------------------

	def test_the_confirmation_prints_the_seller_block_and_the_customers_address(self):
		order = self.order()
		html = frappe.get_print(ORDER, order.name, "Xero Sales Order Confirmation")
		tenant = frappe.db.get_value(
			"Xero Connection Tenant",
			{"parent": CONNECTION, "tenant_id": self.tenant},
			["legal_name", "tax_number", "organisation_address"],
			as_dict=True,
		)
		self.assertTrue(tenant.legal_name and tenant.tax_number and tenant.organisation_address)
		self.assertIn(frappe.utils.escape_html(tenant.legal_name), html)
		self.assertIn(tenant.tax_number, html)
		self.assertIn(tenant.organisation_address.splitlines()[0], html)
		address = frappe.db.get_value("Xero Contact", self.customer, "address")
		self.assertTrue(address)
		self.assertIn(frappe.utils.escape_html(address.splitlines()[0]), html)
		# Whatever Xero holds is printed as text.
		frappe.db.set_value(
			"Xero Connection Tenant",
			{"parent": CONNECTION, "tenant_id": self.tenant},
			"legal_name",
			"<script>alert(1)</script> Ltd",
		)
		try:
			html = frappe.get_print(ORDER, order.name, "Xero Sales Order Confirmation")
			self.assertNotIn("<script>alert(1)", html)
			self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt; Ltd", html)
		finally:
			frappe.db.set_value(
				"Xero Connection Tenant",
				{"parent": CONNECTION, "tenant_id": self.tenant},
				"legal_name",
				tenant.legal_name,
			)

	def test_the_sync_refreshes_a_stale_organisation_profile_with_one_call(self):
		from xero_sales_orders.services.master_sync import sync_connection

		frappe.db.set_value(
			"Xero Connection Tenant",
			{"parent": CONNECTION},
			{"organisation_synced_at": None, "tax_number": None},
		)
		frappe.db.commit()
		reset_calls(self.sandbox)
		sync_connection(CONNECTION)
		calls = sandbox_calls(self.sandbox)["by_endpoint"]
		self.assertEqual(calls.get("GET /api.xro/2.0/Organisation"), 2)  # one per organisation
		self.assertTrue(
			frappe.db.get_value(
				"Xero Connection Tenant", {"parent": CONNECTION, "tenant_id": self.tenant}, "tax_number"
			)
		)
		reset_calls(self.sandbox)
		sync_connection(CONNECTION)
		self.assertNotIn("GET /api.xro/2.0/Organisation", sandbox_calls(self.sandbox)["by_endpoint"])

	# The import batch's settings ---------------------------------------------------------------------

	def test_an_import_batch_starts_with_authorised_and_paid_and_keeps_its_contacts_in_its_organisation(self):
		batch = frappe.get_doc(
			{
				"doctype": "Xero Import Batch",
				"connection": CONNECTION,
				"from_date": date.today() - timedelta(days=30),
				"to_date": date.today(),
			}
		).insert()
		self.assertEqual(batch.statuses, "AUTHORISED,PAID")
		self.assertEqual(batch.tenant_id, self.tenant)  # the connection's default organisation
		batch.contacts = self.customer
		batch.save()
		other = make_contact(f"Elsewhere {uuid.uuid4().hex[:4]}", CONNECTION, self.other_tenant)
		batch.contacts = f"{self.customer}\n{other.name}"
		with self.assertRaises(frappe.ValidationError) as refused:
			batch.save()
		self.assertIn("another Xero organisation", str(refused.exception))
		batch.reload()
		batch.tenant_id = str(uuid.uuid4())
		with self.assertRaises(frappe.ValidationError):
			batch.save()
		frappe.delete_doc("Xero Import Batch", batch.name, force=True)
