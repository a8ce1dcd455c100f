"""Deposit invoices and progress billing against the Xero sandbox: a deposit for a percentage or an amount of the
order, on the organisation's deposit account, pushed like any invoice; later invoices deduct it (in proportion
or on the final invoice) so that the order's invoices add up to its total in Xero to the cent; what is received
and what remains; a voided deposit is no longer deducted; refusals change nothing."""

import json
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import frappe
import requests
from frappe.tests.utils import FrappeTestCase

from xero_sales_orders.api import orders as api
from xero_sales_orders.exceptions import (
	DerivedFieldError,
	InvalidInvoiceRequestError,
	OrderStateError,
	OverInvoicingError,
)
from xero_sales_orders.services import webhook_processing, webhook_receiver, xero_clients
from xero_sales_orders.tests.factories import make_user
from xero_sales_orders.xero.webhooks import sign
from xso_devkit.demo import SANDBOX_DEPOSIT_ACCOUNT, use_sandbox_deposit_account
from xso_devkit.sandbox import WEBHOOK_KEY, start_sandbox, synced_organisation

CONNECTION = "Deposit Test"
ORDER = "Xero Sales Order"
INVOICE = "Xero Invoice"
SALES = "xso-deposit-sales@example.com"
NOBODY = "xso-deposit-nobody@example.com"


def money(value):
	return Decimal(str(value or 0)).quantize(Decimal("0.01"))


class TestDeposits(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.sandbox = start_sandbox(tenants=1, rate_limits=False)
		org = synced_organisation(cls.sandbox, CONNECTION)
		use_sandbox_deposit_account(CONNECTION)
		frappe.db.commit()
		cls.tenant, cls.currency = org.tenant_id, org.currency
		cls.customer, cls.items = org.customers[0], org.items_with_tax[:3]
		make_user(SALES, ["Xero Sales User"])
		make_user(NOBODY, [])
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		cls.sandbox.stop()
		super().tearDownClass()

	def tearDown(self):
		frappe.set_user("Administrator")

	def order(self, lines=None, **fields):
		doc = frappe.get_doc(
			{
				"doctype": ORDER,
				"customer": self.customer,
				"po_number": f"DEP-{uuid.uuid4().hex[:6]}",
				"currency": self.currency,
				"items": lines
				or [
					{"item": self.items[0], "qty": 7, "unit_price": 4.3333, "discount_rate": 12.5},
					{"item": self.items[1], "qty": 3, "unit_price": 19.99},
				],
				**fields,
			}
		).insert()
		doc.submit()
		frappe.db.commit()
		return doc

	def in_xero(self, numbers):
		client = xero_clients.client_for(CONNECTION, self.tenant)
		try:
			return {i["InvoiceNumber"]: i for i in client.invoices(numbers=numbers)}
		finally:
			client.close()

	def assert_pushed_with_xeros_totals(self, invoice):
		self.assertEqual(invoice["push_state"], "Pushed", invoice.get("last_error"))
		self.assertFalse(invoice["totals_differ"], invoice.get("totals_difference"))
		self.assertEqual(money(invoice["xero_total"]), money(invoice["total"]))

	def assert_adds_up_in_xero(self, order):
		live = frappe.get_all(
			INVOICE,
			{"sales_order": order.name, "status": ["not in", ["VOIDED", "DELETED"]]},
			["invoice_number", "total", "total_tax"],
		)
		self.assertEqual(sum(money(i.total) for i in live), money(order.grand_total))
		self.assertEqual(sum(money(i.total_tax) for i in live), money(order.total_tax))
		remote = self.in_xero([i.invoice_number for i in live])
		self.assertEqual(sum(money(r["Total"]) for r in remote.values()), money(order.grand_total))
		self.assertEqual(sum(money(r["TotalTax"]) for r in remote.values()), money(order.total_tax))

	def deliver_invoice_event(self, xero_invoice_id):
		event = {
			"resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{xero_invoice_id}",
			"resourceId": xero_invoice_id,
			"eventDateUtc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f"),
			"eventType": "UPDATE",
			"eventCategory": "INVOICE",
			"tenantId": self.tenant,
			"tenantType": "ORGANISATION",
		}
		body = json.dumps(
			{"events": [event], "firstEventSequence": 1, "lastEventSequence": 1, "entropy": uuid.uuid4().hex}
		).encode()
		webhook_receiver.receive(body, sign(body, WEBHOOK_KEY))
		frappe.db.commit()
		webhook_processing.process_queued()

	def test_a_percentage_deposit_then_proportional_invoices_add_up_to_the_order_in_xero(self):
		order = self.order()
		frappe.set_user(SALES)
		deposit = api.create_deposit(order.name, percent=30)
		self.assert_pushed_with_xeros_totals(deposit)
		self.assertTrue(deposit["is_deposit"])
		self.assertEqual(
			money(deposit["total"]), (money(order.grand_total) * Decimal("0.3")).quantize(Decimal("0.01"))
		)
		[line] = deposit[
			"items"
		]  # one tax on the order: one line, on the deposit account, with the order's tax
		self.assertEqual(line["line_kind"], "Deposit")
		self.assertEqual(line["account_code"], SANDBOX_DEPOSIT_ACCOUNT)
		self.assertEqual(line["tax_type"], order.items[0].tax_type)
		self.assertFalse(line["sales_order_item"])
		[remote] = self.in_xero([deposit["invoice_number"]]).values()
		self.assertEqual(remote["LineItems"][0]["AccountCode"], SANDBOX_DEPOSIT_ACCOUNT)
		order.reload()
		self.assertEqual(money(order.deposit_amount), money(deposit["total"]))
		self.assertEqual(money(order.deposit_remaining), money(deposit["total"]))
		self.assertEqual(order.status, "Open")  # a deposit bills no line
		self.assertEqual(money(order.outstanding_amount), money(order.grand_total))

		# The Create Invoice dialog's preview shows what the invoice will deduct, and its totals are the invoice's.
		preview = api.preview_invoice(order.name, [{"item": order.items[0].name, "qty": 3}])
		self.assertLess(money(preview["deposit_deducted"]), 0)
		first = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 3}])
		self.assert_pushed_with_xeros_totals(first)
		self.assertEqual(money(preview["total"]), money(first["total"]))
		[deduction] = [r for r in first["items"] if r["line_kind"] == "Deposit Deduction"]
		self.assertLess(deduction["line_amount"], 0)
		self.assertEqual(deduction["account_code"], SANDBOX_DEPOSIT_ACCOUNT)
		[remote] = self.in_xero([first["invoice_number"]]).values()
		self.assertLess(remote["LineItems"][-1]["LineAmount"], 0)
		order.reload()
		self.assertGreater(money(order.deposit_deducted), 0)
		self.assertEqual(
			money(order.deposit_remaining), money(order.deposit_amount) - money(order.deposit_deducted)
		)

		last = api.create_invoice(order.name)  # everything left: it deducts exactly what remains
		self.assert_pushed_with_xeros_totals(last)
		order.reload()
		self.assertEqual(order.status, "Fully Invoiced")
		self.assertEqual(money(order.deposit_remaining), 0)
		self.assertEqual(money(order.deposit_deducted), money(order.deposit_amount))
		self.assert_adds_up_in_xero(order)

	def test_on_the_final_invoice_earlier_invoices_deduct_nothing_they_need_not(self):
		order = self.order([{"item": self.items[0], "qty": 10, "unit_price": 10}])
		deposit = api.create_deposit(order.name, amount=20, deduction="On Final Invoice")
		self.assert_pushed_with_xeros_totals(deposit)
		self.assertEqual(money(deposit["total"]), money(20))
		order.reload()
		self.assertEqual(order.deposit_deduction, "On Final Invoice")
		line = order.items[0].name
		first = api.create_invoice(order.name, [{"item": line, "qty": 4}])
		self.assertFalse([r for r in first["items"] if r["line_kind"] != "Order Line"])
		last = api.create_invoice(order.name, [{"item": line, "qty": 6}])
		self.assert_pushed_with_xeros_totals(last)
		self.assertEqual(
			sum(
				money(r["line_amount"]) + money(r["tax_amount"])
				for r in last["items"]
				if r["line_kind"] != "Order Line"
			),
			money(-20),
		)
		order.reload()
		self.assertEqual((order.status, money(order.deposit_remaining)), ("Fully Invoiced", 0))
		self.assert_adds_up_in_xero(order)

	def test_deposit_received_and_a_voided_deposit_no_longer_deducted(self):
		order = self.order([{"item": self.items[0], "qty": 10, "unit_price": 10}])
		paid = api.create_deposit(order.name, amount=23)
		voided = api.create_deposit(order.name, percent=40)
		requests.post(
			f"{self.sandbox.url}/_sandbox/invoices/{paid['xero_invoice_id']}/pay", json={}, timeout=10
		).raise_for_status()
		self.deliver_invoice_event(paid["xero_invoice_id"])
		order.reload()
		self.assertEqual(money(order.deposit_paid), money(23))
		self.assertEqual(money(order.deposit_amount), money(23) + money(voided["total"]))
		# 8 of 10 are invoiced, deducting 80 % of both deposits; then the unpaid one is voided in Xero.
		line = order.items[0].name
		api.create_invoice(order.name, [{"item": line, "qty": 8}])
		client = xero_clients.client_for(CONNECTION, self.tenant)
		client.update_invoice(voided["xero_invoice_id"], {"Status": "VOIDED"})
		client.close()
		self.deliver_invoice_event(voided["xero_invoice_id"])
		self.assertEqual(frappe.db.get_value(INVOICE, voided["name"], "status"), "VOIDED")
		order.reload()
		self.assertEqual(money(order.deposit_amount), money(23))
		self.assertLess(money(order.deposit_remaining), 0)  # more was deducted than the live deposit
		# The last invoice deducts nothing more and gives back what the voided deposit let the first one deduct:
		# the live invoices add up to the order again.
		last = api.create_invoice(order.name)
		self.assert_pushed_with_xeros_totals(last)
		given_back = [money(r["line_amount"]) for r in last["items"] if r["line_kind"] == "Deposit Deduction"]
		self.assertEqual(len(given_back), 1)
		self.assertGreater(given_back[0], 0)
		order.reload()
		self.assertEqual(money(order.deposit_remaining), 0)
		self.assert_adds_up_in_xero(order)

	def test_a_deposit_credited_back_in_full_is_no_longer_deducted(self):
		from xero_sales_orders.api import invoices as invoice_api

		order = self.order([{"item": self.items[0], "qty": 10, "unit_price": 10}])
		deposit = api.create_deposit(order.name, amount=23)
		note = invoice_api.credit(deposit["name"])  # the deposit is refunded: a credit note for all of it
		self.assertEqual(note["push_state"], "Pushed", note.get("last_error"))
		last = api.create_invoice(order.name)
		self.assert_pushed_with_xeros_totals(last)
		self.assertEqual([r["line_kind"] for r in last["items"]], ["Order Line"])
		self.assertEqual(money(last["total"]), money(order.grand_total))
		order.reload()
		self.assertEqual((money(order.deposit_amount), money(order.deposit_remaining)), (0, 0))

	def test_refused_deposits_change_nothing(self):
		order = self.order([{"item": self.items[0], "qty": 10, "unit_price": 10}])
		total = money(order.grand_total)

		def unchanged():
			self.assertEqual(frappe.db.count(INVOICE, {"sales_order": order.name}), invoices)
			self.assertEqual(frappe.db.get_value(ORDER, order.name, "invoice_counter"), counter)

		invoices, counter = 0, 0
		cases = [
			(OverInvoicingError, "above the order's total", dict(amount=str(total + Decimal("0.01")))),
			(OverInvoicingError, "above the order's total", dict(percent=100.01)),
			(InvalidInvoiceRequestError, "either a percent", dict(percent=10, amount=10)),
			(InvalidInvoiceRequestError, "either a percent", dict()),
			(InvalidInvoiceRequestError, "greater than 0", dict(amount=-5)),
			(InvalidInvoiceRequestError, "must be a number", dict(amount="lots")),
			(InvalidInvoiceRequestError, "Deduct deposit must be one of", dict(amount=5, deduction="Later")),
		]
		for exception, message, kwargs in cases:
			with self.subTest(kwargs=kwargs), self.assertRaisesRegex(exception, message):
				api.create_deposit(order.name, **kwargs)
			unchanged()
		api.create_deposit(order.name, percent=60)
		api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 2}])
		invoices, counter = 2, 2
		order.reload()
		still = money(order.outstanding_amount) - money(order.deposit_remaining)
		with self.assertRaisesRegex(OverInvoicingError, "above what is still to invoice"):
			api.create_deposit(order.name, amount=str(still + Decimal("0.01")))
		unchanged()
		api.create_deposit(order.name, amount=str(still))  # exactly what is left is fine
		invoices, counter = 3, 3
		api.close(order.name)
		with self.assertRaisesRegex(OrderStateError, "Closed"):
			api.create_deposit(order.name, percent=1)
		unchanged()

	def test_an_organisation_without_a_deposit_account_is_told_to_set_one(self):
		order = self.order()
		tenant_row = frappe.db.get_value(
			"Xero Connection Tenant", {"parent": CONNECTION, "tenant_id": self.tenant}, "name"
		)
		frappe.db.set_value("Xero Connection Tenant", tenant_row, "deposit_account_code", None)
		frappe.db.commit()
		self.addCleanup(
			lambda: (
				frappe.db.set_value(
					"Xero Connection Tenant", tenant_row, "deposit_account_code", SANDBOX_DEPOSIT_ACCOUNT
				),
				frappe.db.commit(),
			)
		)
		with self.assertRaisesRegex(OrderStateError, "set a Deposit Account Code"):
			api.create_deposit(order.name, percent=10)
		frappe.db.set_value("Xero Connection Tenant", tenant_row, "deposit_account_code", "999")
		frappe.db.commit()
		with self.assertRaisesRegex(OrderStateError, "999 is not an active account"):
			api.create_deposit(order.name, percent=10)
		self.assertEqual(frappe.db.count(INVOICE, {"sales_order": order.name}), 0)

	def test_only_users_who_may_invoice_the_order_take_deposits_and_figures_stay_derived(self):
		order = self.order()
		frappe.set_user(NOBODY)
		with self.assertRaises(frappe.PermissionError):
			api.create_deposit(order.name, percent=10)
		frappe.set_user("Administrator")
		api.create_deposit(order.name, percent=10)
		frappe.db.commit()
		before = frappe.get_doc(ORDER, order.name).as_dict()
		for field, value in (
			("deposit_amount", 0),
			("deposit_paid", 999),
			("deposit_deducted", 5),
			("deposit_remaining", 0),
		):
			with self.subTest(field=field), self.assertRaises(DerivedFieldError):
				frappe.client.set_value(ORDER, order.name, field, value)
			frappe.db.rollback()
		# The deduction choice is the order's; once submitted only a deposit request changes it.
		with self.assertRaises(frappe.UpdateAfterSubmitError):
			frappe.client.set_value(ORDER, order.name, "deposit_deduction", "On Final Invoice")
		frappe.db.rollback()
		after = frappe.get_doc(ORDER, order.name).as_dict()
		for field in ("deposit_amount", "deposit_remaining", "deposit_deduction"):
			self.assertEqual(after[field], before[field])
		# A new order (even one sent submitted) starts with no deposit, whatever the request says.
		forged = frappe.get_doc(
			{
				"doctype": ORDER,
				"customer": self.customer,
				"currency": self.currency,
				"items": [{"item": self.items[0], "qty": 1}],
				"deposit_amount": 500,
				"deposit_remaining": 500,
			}
		).insert()
		self.assertEqual((money(forged.deposit_amount), money(forged.deposit_remaining)), (0, 0))
