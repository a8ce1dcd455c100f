"""Frappe's doors tried as a hostile signed-in user would (issue 11, items 2-4).

Each test calls the very functions Frappe's doors call (``frappe.share.add``, ``frappe.client.*``, the desk's
``savedocs``, a document insert with ``docstatus: 1``, Data Import) as a user with the app's roles, asserts the
refusal, and then that nothing changed: the document, its lines, its shares and the order's figures read back
exactly as before. ``tests/e2e/test_doors_http.py`` sends the same requests over HTTP.
"""

import json
from contextlib import contextmanager

import frappe
import frappe.client
import frappe.share
from frappe.desk.form.load import getdoc
from frappe.desk.form.save import savedocs
from frappe.desk.search import search_link
from frappe.exceptions import UpdateAfterSubmitError
from frappe.tests.utils import FrappeTestCase
from frappe.utils.password import get_decrypted_password

from xero_sales_orders.api import orders as api
from xero_sales_orders.exceptions import (
	DerivedFieldError,
	HeldByXeroError,
	InvalidInvoiceRequestError,
	OrderStateError,
	OverInvoicingError,
)
from xero_sales_orders.patches.v1 import drop_shares_beyond_roles
from xero_sales_orders.services.order_invoicing import refresh_order_invoicing, set_invoice_status
from xero_sales_orders.tests.factories import make_contact, make_user
from xso_devkit.sandbox import start_sandbox, synced_organisation

ORDER = "Xero Sales Order"
INVOICE = "Xero Invoice"
CONNECTION = "Doors Test"
SALES = "xso-doors-sales@example.com"
MANAGER = "xso-doors-manager@example.com"
SYSTEM = "xso-doors-system@example.com"
MASTERS = ("Xero Contact", "Xero Item", "Xero Tax Rate", "Xero Account")
LINE_FIGURES = ("invoiced_qty", "invoiced_amount", "invoiced_tax", "outstanding_qty", "outstanding_amount")


def make_users():
	make_user(SALES, ["Xero Sales User"])
	make_user(MANAGER, ["Xero Sales User", "Xero Sales Manager"])
	make_user(SYSTEM, ["System Manager"])


@contextmanager
def signed_in(user):
	frappe.set_user(user)
	try:
		yield
	finally:
		frappe.set_user("Administrator")


def snapshot(doctype, name) -> dict:
	"""The stored document with its lines, and who it is shared with."""
	doc = frappe.get_doc(doctype, name).as_dict(convert_dates_to_str=True)
	shares = frappe.get_all(
		"DocShare",
		{"share_doctype": doctype, "share_name": name},
		["user", "everyone", "read", "write", "submit", "share"],
		order_by="name",
	)
	return {"doc": doc, "shares": shares}


def desk_doc(doctype, name, **changes) -> str:
	"""What the desk form sends to savedocs: the whole loaded document, with the user's edits."""
	doc = frappe.get_doc(doctype, name).as_dict(convert_dates_to_str=True)
	doc.update(changes)
	return json.dumps(doc, default=str)


def rest_put(doctype, name, data):
	"""What PUT /api/resource/{doctype}/{name} does (frappe.api.v1.update_doc)."""
	doc = frappe.get_doc(doctype, name, for_update=True)
	data.pop("flags", None)
	doc.update(data)
	doc.save()
	return doc


class DoorTests(FrappeTestCase):
	@contextmanager
	def refused(self, exception, message=None):
		"""The request is refused with ``exception`` (and ``message``); its transaction is rolled back, as
		Frappe's request handler does, so that "nothing changed" is what the next request would see."""
		with self.assertRaisesRegex(exception, message) if message else self.assertRaises(exception):
			frappe.db.savepoint("door")
			try:
				yield
			except BaseException:
				frappe.db.rollback(save_point="door")
				raise

	def old_share(self, doctype, name, user, **rights):
		"""A share stored before shares were checked against roles (its validation did not exist then)."""
		share = frappe.new_doc("DocShare")
		share.update({"share_doctype": doctype, "share_name": name, "user": user, "read": 1, **rights})
		share.db_insert()
		self.addCleanup(frappe.db.delete, "DocShare", {"name": share.name})
		return share.name


class TestConnectionMasterAndInvoiceDoors(DoorTests):
	"""Xero Connection, the synced masters and Xero Invoice (items 2 and 4), on a connection to the sandbox."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_users()
		cls.sandbox = start_sandbox(tenants=1, rate_limits=False)
		synced = synced_organisation(cls.sandbox, CONNECTION)
		cls.tenant, cls.currency = synced.tenant_id, synced.currency
		cls.customer, cls.item = synced.customers[0], synced.sold_items[0]
		org = {"connection": CONNECTION, "tenant_id": cls.tenant}
		cls.masters = {doctype: frappe.get_all(doctype, org, pluck="name", limit=1)[0] for doctype in MASTERS}

	@classmethod
	def tearDownClass(cls):
		cls.sandbox.stop()
		super().tearDownClass()

	def setUp(self):
		frappe.set_user("Administrator")

	def protected(self):
		"""Every document of the doctypes only System Managers (or nobody) may write."""
		return [("Xero Connection", CONNECTION), *self.masters.items()]

	def order(self, **line):
		doc = frappe.get_doc(
			{
				"doctype": ORDER,
				"customer": self.customer,
				"currency": self.currency,
				"items": [{"item": self.item, "qty": 5, **line}],
			}
		).insert()
		doc.submit()
		frappe.db.commit()
		return doc

	def pushed_invoice(self):
		order = self.order()
		invoice = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 2}])
		self.assertEqual((invoice["push_state"], invoice["status"]), ("Pushed", "AUTHORISED"))
		return order, invoice["name"]

	def connection_secrets(self):
		return {
			field: get_decrypted_password("Xero Connection", CONNECTION, field, raise_exception=False)
			for field in ("client_secret", "webhook_key", "access_token", "refresh_token")
		}

	# ------------------------------------------------------------------ sharing

	def test_sales_roles_cannot_share_the_connection_masters_or_invoices(self):
		_order, invoice = self.pushed_invoice()
		for doctype, name in [*self.protected(), (INVOICE, invoice)]:
			before = snapshot(doctype, name)
			for user in (SALES, MANAGER):
				with self.subTest(doctype=doctype, user=user), signed_in(user):
					with self.refused(frappe.PermissionError):
						frappe.share.add(doctype, name, user, write=1, share=1)
					with self.refused(frappe.PermissionError):
						frappe.share.set_permission(doctype, name, user, "write")
			self.assertEqual(snapshot(doctype, name), before)

	def test_a_system_manager_cannot_share_write_with_the_sales_roles_or_everyone(self):
		_order, invoice = self.pushed_invoice()
		for doctype, name in [*self.protected(), (INVOICE, invoice)]:
			before = snapshot(doctype, name)
			with self.subTest(doctype=doctype), signed_in(SYSTEM):
				for rights in ({"write": 1}, {"share": 1}, {"write": 1, "share": 1}):
					with self.refused(frappe.PermissionError, "cannot be shared with"):
						frappe.share.add(doctype, name, SALES, **rights)
				with self.refused(frappe.PermissionError, "cannot be shared with everyone"):
					frappe.share.add(doctype, name, everyone=1, write=1)
				# A DocShare inserted over REST (POST /api/resource/DocShare) meets the same rule.
				with self.refused(frappe.PermissionError, "cannot be shared with"):
					frappe.client.insert(
						{
							"doctype": "DocShare",
							"share_doctype": doctype,
							"share_name": name,
							"user": SALES,
							"read": 1,
							"write": 1,
						}
					)
			self.assertEqual(snapshot(doctype, name), before)

	def test_a_read_share_is_still_allowed(self):
		with signed_in(SYSTEM):
			frappe.share.add("Xero Connection", CONNECTION, SALES, read=1)
		self.assertTrue(frappe.has_permission("Xero Connection", "read", CONNECTION, user=SALES))
		self.assertFalse(frappe.has_permission("Xero Connection", "write", CONNECTION, user=SALES))
		frappe.share.remove("Xero Connection", CONNECTION, SALES)

	# ------------------------------------------------------------------ writes, whatever shares exist

	def test_a_write_share_made_before_the_rule_lets_no_sales_role_change_the_connection(self):
		before, secrets = snapshot("Xero Connection", CONNECTION), self.connection_secrets()
		for user in (SALES, MANAGER):
			self.old_share("Xero Connection", CONNECTION, user, write=1, share=1)
		before_with_shares = snapshot("Xero Connection", CONNECTION)
		evil = {"api_url": "https://evil.example", "identity_url": "https://evil.example"}
		doors = {
			"PUT /api/resource": lambda: rest_put("Xero Connection", CONNECTION, dict(evil)),
			"frappe.client.set_value": lambda: frappe.client.set_value("Xero Connection", CONNECTION, evil),
			"frappe.client.save": lambda: frappe.client.save(
				{**frappe.get_doc("Xero Connection", CONNECTION).as_dict(), **evil}
			),
			"savedocs": lambda: savedocs(desk_doc("Xero Connection", CONNECTION, **evil), "Save"),
			"webhook key": lambda: frappe.client.set_value(
				"Xero Connection", CONNECTION, "webhook_key", "attacker-key"
			),
			"organisation row": lambda: frappe.client.set_value(
				"Xero Connection Tenant",
				frappe.get_doc("Xero Connection", CONNECTION).tenants[0].name,
				"tenant_id",
				"another-tenant",
			),
		}
		for user in (SALES, MANAGER):
			for door, call in doors.items():
				with self.subTest(user=user, door=door), signed_in(user):
					with self.refused(frappe.PermissionError, "Only System Manager can change"):
						call()
			with signed_in(user), self.refused(frappe.PermissionError):
				frappe.client.delete("Xero Connection", CONNECTION)
			with signed_in(user):
				answer = frappe.client.bulk_update(
					json.dumps([{"doctype": "Xero Connection", "docname": CONNECTION, **evil}])
				)
			self.assertIn("PermissionError", answer["failed_docs"][0]["exc"])
		self.assertEqual(snapshot("Xero Connection", CONNECTION), before_with_shares)
		self.assertEqual(self.connection_secrets(), secrets)
		# The patch takes back what such shares gave beyond the users' roles.
		drop_shares_beyond_roles.execute()
		after = snapshot("Xero Connection", CONNECTION)
		self.assertEqual(
			sorted((s.user, s.read, s.write, s.share) for s in after["shares"]),
			sorted([(SALES, 1, 0, 0), (MANAGER, 1, 0, 0)]),
		)
		self.assertEqual(after["doc"], before["doc"])
		for user in (SALES, MANAGER):
			frappe.share.remove("Xero Connection", CONNECTION, user)

	def test_a_write_share_lets_nobody_but_a_system_manager_change_a_master(self):
		for doctype, name in self.masters.items():
			self.old_share(doctype, name, SALES, write=1)
			before = snapshot(doctype, name)
			key = {"Xero Contact": "contact_name", "Xero Item": "unit_price"}.get(doctype, "tax_type")
			with self.subTest(doctype=doctype), signed_in(SALES):
				with self.refused(frappe.PermissionError, "Only System Manager can change"):
					frappe.client.set_value(doctype, name, key, "999")
				with self.refused(frappe.PermissionError, "Only System Manager can change"):
					savedocs(desk_doc(doctype, name, **{key: "999"}), "Save")
				with self.refused(frappe.PermissionError):
					frappe.client.delete(doctype, name)
			self.assertEqual(snapshot(doctype, name), before)

	def test_editing_a_contacts_contact_id_is_refused_to_the_sales_roles(self):
		# Another contact_id would send this customer's invoices to another Xero contact.
		self.old_share("Xero Contact", self.customer, MANAGER, write=1)
		before = snapshot("Xero Contact", self.customer)
		with signed_in(MANAGER), self.refused(frappe.PermissionError):
			rest_put("Xero Contact", self.customer, {"contact_id": "00000000-0000-0000-0000-000000000000"})
		self.assertEqual(snapshot("Xero Contact", self.customer), before)

	def test_sales_roles_cannot_create_connections_or_masters_nor_read_the_connection(self):
		counts = {doctype: frappe.db.count(doctype) for doctype in ("Xero Connection", *MASTERS)}
		with signed_in(MANAGER):
			with self.refused(frappe.PermissionError):
				frappe.client.insert(
					{
						"doctype": "Xero Connection",
						"connection_name": "Evil",
						"client_id": "x",
						"client_secret": "y",
					}
				)
			with self.refused(frappe.PermissionError):
				frappe.client.insert(
					{"doctype": "Xero Contact", "contact_id": "evil", "contact_name": "Evil Ltd"}
				)
			with self.refused(frappe.PermissionError):
				frappe.client.get("Xero Connection", CONNECTION)
			# The order form and the reports' filters only need to pick and show it.
			self.assertEqual(frappe.client.validate_link("Xero Connection", CONNECTION).name, CONNECTION)
			found = search_link("Xero Connection", CONNECTION[:5], reference_doctype="Xero Import Batch")
			self.assertIn(CONNECTION, [r["value"] for r in found])
			order = self.order()
			getdoc(ORDER, order.name)
			self.assertEqual(frappe.response.docs[-1].connection, CONNECTION)
		self.assertEqual({d: frappe.db.count(d) for d in counts}, counts)

	def test_a_system_manager_still_manages_connections_and_masters(self):
		scopes = frappe.db.get_value("Xero Connection", CONNECTION, "scopes")
		with signed_in(SYSTEM):
			frappe.client.set_value(
				"Xero Connection", CONNECTION, "scopes", f"{scopes} accounting.journals.read"
			)
			contact = frappe.client.insert(
				{"doctype": "Xero Contact", "contact_id": "doors-sm-contact", "contact_name": "Doors SM Ltd"}
			)
			frappe.client.set_value("Xero Contact", contact["name"], "email", "ap@doors.example")
			frappe.client.delete("Xero Contact", contact["name"])
			self.assertIn("journals", frappe.db.get_value("Xero Connection", CONNECTION, "scopes"))
			frappe.client.set_value("Xero Connection", CONNECTION, "scopes", scopes)
		self.assertFalse(frappe.db.exists("Xero Contact", contact["name"]))

	def test_nothing_of_theirs_can_be_renamed(self):
		_order, invoice = self.pushed_invoice()
		for doctype, name in [*self.protected(), (INVOICE, invoice)]:
			with self.subTest(doctype=doctype), self.refused(frappe.ValidationError):
				frappe.client.rename_doc(doctype, name, f"{name}-renamed")
			self.assertTrue(frappe.db.exists(doctype, name))

	def test_an_import_batchs_status_and_figures_come_from_its_preview_and_import_only(self):
		with signed_in(MANAGER):
			name = frappe.client.insert(
				{
					"doctype": "Xero Import Batch",
					"connection": CONNECTION,
					"from_date": "2026-01-01",
					"to_date": "2026-12-31",
					"status": "Completed",
					"orders_created": 99,
					"import_log": "forged",
				}
			)["name"]
			stored = frappe.db.get_value(
				"Xero Import Batch", name, ["status", "orders_created", "import_log"], as_dict=True
			)
			self.assertEqual((stored.status, stored.orders_created, stored.import_log), ("Draft", 0, None))
			# A start needs a preview: a batch cannot be marked Previewed by a save.
			frappe.client.set_value("Xero Import Batch", name, {"status": "Previewed", "groups_count": 5})
			self.assertEqual(
				frappe.db.get_value("Xero Import Batch", name, ["status", "groups_count"]), ("Draft", 0)
			)
		with signed_in(SALES), self.refused(frappe.PermissionError):
			frappe.share.add("Xero Import Batch", name, SALES, write=1)

	# ------------------------------------------------------------------ invoices follow Xero only

	def test_no_user_save_changes_an_invoice_xero_holds(self):
		order, invoice = self.pushed_invoice()
		before, order_before = snapshot(INVOICE, invoice), snapshot(ORDER, order.name)
		line = frappe.get_doc(INVOICE, invoice).items[0].name
		doors = {
			"PUT status VOIDED": lambda: rest_put(INVOICE, invoice, {"status": "VOIDED"}),
			"set_value paid": lambda: frappe.client.set_value(
				INVOICE, invoice, {"amount_paid": 0, "amount_due": 0, "amount_credited": 99}
			),
			"set_value push state": lambda: frappe.client.set_value(INVOICE, invoice, "push_state", "Failed"),
			"set_value xero id": lambda: frappe.client.set_value(INVOICE, invoice, "xero_invoice_id", "x"),
			"line qty": lambda: frappe.client.set_value("Xero Invoice Item", line, "qty", 0),
			"lines removed": lambda: rest_put(INVOICE, invoice, {"items": []}),
			"line deleted": lambda: frappe.client.delete("Xero Invoice Item", line),
			"line added": lambda: frappe.client.insert(
				{
					"doctype": "Xero Invoice Item",
					"parenttype": INVOICE,
					"parent": invoice,
					"parentfield": "items",
					"sales_order_item": order.items[0].name,
					"qty": 3,
				}
			),
			"savedocs": lambda: savedocs(desk_doc(INVOICE, invoice, status="DELETED", total=0), "Save"),
			"frappe.client.save": lambda: frappe.client.save(
				{**frappe.get_doc(INVOICE, invoice).as_dict(), "status": "VOIDED"}
			),
		}
		for user in (MANAGER, SYSTEM, "Administrator"):
			for door, call in doors.items():
				with self.subTest(user=user, door=door), signed_in(user):
					with self.refused(DerivedFieldError, "follow Xero"):
						call()
			with signed_in(user):
				answer = frappe.client.bulk_update(
					json.dumps([{"doctype": INVOICE, "docname": invoice, "status": "VOIDED"}])
				)
			self.assertIn("DerivedFieldError", answer["failed_docs"][0]["exc"])
		with signed_in(SALES), self.refused(frappe.PermissionError):
			rest_put(INVOICE, invoice, {"status": "VOIDED"})
		self.assertEqual(snapshot(INVOICE, invoice), before)
		# The next refresh still counts the invoice: its quantities stay invoiced while Xero bills them.
		refresh_order_invoicing(order.name)
		self.assertEqual(snapshot(ORDER, order.name)["doc"]["items"], order_before["doc"]["items"])
		self.assertEqual(frappe.db.get_value("Xero Sales Order Item", order.items[0].name, "invoiced_qty"), 2)

	def test_invoices_are_only_created_by_the_invoicing(self):
		order = self.order()
		with signed_in(MANAGER), self.refused(InvalidInvoiceRequestError):
			frappe.client.insert(
				{
					"doctype": INVOICE,
					"sales_order": order.name,
					"invoice_number": f"{order.name}-1",
					"items": [{"sales_order_item": order.items[0].name, "qty": 5}],
				}
			)
		self.assertEqual(frappe.db.count(INVOICE, {"sales_order": order.name}), 0)

	def test_an_invoice_xero_holds_or_may_hold_cannot_be_deleted(self):
		order, pushed = self.pushed_invoice()
		requests_fault(self.sandbox, kind="503", count=20, path="/api.xro/2.0/Invoices", method="PUT")
		try:
			pending = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}])["name"]
		finally:
			requests_fault(self.sandbox)
		self.assertEqual(frappe.db.get_value(INVOICE, pending, "push_state"), "Pending")
		voided = self.pushed_invoice()[1]
		set_invoice_status(voided, "VOIDED")  # still in Xero, as a voided invoice
		for name, message in ((pushed, "is in Xero"), (voided, "is in Xero"), (pending, "may already be")):
			before = snapshot(INVOICE, name)
			with self.subTest(invoice=name), signed_in(SYSTEM):
				with self.refused(HeldByXeroError, message):
					frappe.client.delete(INVOICE, name)
			with signed_in(MANAGER), self.refused(frappe.PermissionError):
				frappe.client.delete(INVOICE, name)
			self.assertEqual(snapshot(INVOICE, name), before)

	def test_a_failed_invoice_xero_refused_can_be_deleted_by_a_system_manager_and_returns_its_qty(self):
		order = self.order()
		# An account Xero does not have on the line: Xero refuses the invoice.
		frappe.db.set_value("Xero Sales Order Item", order.items[0].name, "account_code", "999")
		frappe.db.commit()
		failed = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 3}])
		self.assertEqual(failed["push_state"], "Failed", failed)
		self.assertEqual(frappe.db.get_value("Xero Sales Order Item", order.items[0].name, "invoiced_qty"), 3)
		with signed_in(MANAGER), self.refused(frappe.PermissionError):
			frappe.client.delete(INVOICE, failed["name"])
		with signed_in(SYSTEM):
			frappe.client.delete(INVOICE, failed["name"])
			frappe.db.commit()
		self.assertFalse(frappe.db.exists(INVOICE, failed["name"]))
		row = frappe.db.get_value(
			"Xero Sales Order Item", order.items[0].name, ["invoiced_qty", "outstanding_qty"], as_dict=True
		)
		self.assertEqual((row.invoiced_qty, row.outstanding_qty), (0, 5))
		self.assertEqual(frappe.db.get_value(ORDER, order.name, "status"), "Open")
		# Its number is never given out again.
		again = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}])
		self.assertEqual(again["invoice_number"], f"{order.name}-2")


def requests_fault(sandbox, **spec):
	import requests

	if spec:
		requests.post(f"{sandbox.url}/_sandbox/faults", json=spec, timeout=10).raise_for_status()
	else:
		requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=10)


class TestOrderDoors(DoorTests):
	"""Derived figures of Xero Sales Orders (item 3): never from a request, whatever the door."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_users()
		cls.customer = make_contact("Doors Order Customer").name

	def setUp(self):
		frappe.set_user("Administrator")

	def tearDown(self):
		frappe.set_user("Administrator")

	def order_doc(self, **fields):
		return {
			"doctype": ORDER,
			"customer": self.customer,
			"currency": "NZD",
			"po_number": "PO-DOORS",
			"items": [{"description": "Two units", "qty": 2, "unit_price": 10, "tax_rate": 15}],
			**fields,
		}

	def forged(self, **fields):
		"""An order that claims to be submitted, closed, paid and over-credited on a line."""
		return self.order_doc(
			docstatus=1,
			status="Fully Invoiced",
			is_closed=1,
			invoiced_amount=-100,
			outstanding_amount=999,
			per_invoiced=-500,
			paid_amount=1000,
			due_amount=-50,
			invoice_counter=41,
			items=[
				{
					"description": "Two units",
					"qty": 2,
					"unit_price": 10,
					"tax_rate": 15,
					"invoiced_qty": -10,
					"invoiced_amount": -100,
					"invoiced_tax": -15,
					"outstanding_qty": 12,
					"outstanding_amount": 120,
				}
			],
			**fields,
		)

	def assert_uninvoiced(self, name, docstatus=1):
		order = frappe.get_doc(ORDER, name)
		self.assertEqual(order.docstatus, docstatus)
		self.assertEqual(order.status, "Open" if docstatus == 1 else "Draft")
		self.assertEqual(
			(order.is_closed, order.invoiced_amount, order.per_invoiced, order.paid_amount, order.due_amount),
			(0, 0, 0, 0, 0),
		)
		self.assertEqual((order.invoice_counter, order.import_batch), (0, None))
		self.assertEqual(order.outstanding_amount, order.grand_total)
		row = order.items[0]
		self.assertEqual(
			[row.get(f) for f in LINE_FIGURES], [0, 0, 0, row.qty, row.line_amount], f"line of {name}"
		)
		return order

	def test_an_order_inserted_submitted_with_forged_figures_cannot_be_invoiced_past_its_qty(self):
		inserts = {
			"POST /api/resource (frappe.client.insert)": lambda: frappe.client.insert(self.forged())["name"],
			"frappe.client.insert_many": lambda: list(frappe.client.insert_many([self.forged()]))[0],
			"doc.insert": lambda: frappe.get_doc(self.forged()).insert().name,
			"frappe.client.submit": lambda: frappe.client.submit(self.forged())["name"],
			"savedocs Submit": lambda: submitted_by_desk(
				self.forged(**{"__islocal": 1, "name": "new-xero-sales-order-1"})
			),
		}
		for door, insert in inserts.items():
			with self.subTest(door=door):
				with signed_in(SALES):
					name = insert()
				order = self.assert_uninvoiced(name)
				line = order.items[0].name
				with signed_in(SALES):
					with self.assertRaises(OverInvoicingError):
						api.create_invoice(name, [{"item": line, "qty": 12}])
					with self.assertRaises(OverInvoicingError):
						api.create_invoice(name, [{"item": line, "qty": 3}])
					self.assertEqual(frappe.db.count(INVOICE, {"sales_order": name}), 0)
					invoice = api.create_invoice(name, [{"item": line, "qty": 2}])
					self.assertEqual(invoice["invoice_number"], f"{name}-1")
					with self.assertRaises(OrderStateError):
						api.create_invoice(name, [{"item": line, "qty": 1}])
				self.assertEqual(
					frappe.db.get_value("Xero Sales Order Item", line, ["invoiced_qty", "outstanding_qty"]),
					(2, 0),
				)

	def test_draft_saves_and_the_submit_ignore_derived_figures(self):
		with signed_in(SALES):
			name = frappe.client.insert(self.order_doc())["name"]
			line = frappe.get_doc(ORDER, name).items[0].name
			frappe.client.set_value(ORDER, name, {"is_closed": 1, "status": "Closed", "paid_amount": 5})
			frappe.client.set_value(
				"Xero Sales Order Item", line, {"invoiced_qty": -10, "outstanding_qty": 12}
			)
			self.assert_uninvoiced(name, docstatus=0)
			# The submit itself: PUT {"docstatus": 1, ...} with the figures again.
			rest_put(
				ORDER,
				name,
				{
					"docstatus": 1,
					"is_closed": 1,
					"invoice_counter": 9,
					"items": [
						{
							"name": line,
							"description": "Two units",
							"qty": 2,
							"unit_price": 10,
							"tax_rate": 15,
							"invoiced_qty": -10,
						}
					],
				},
			)
		self.assert_uninvoiced(name)

	def submitted(self):
		order = frappe.get_doc(self.order_doc()).insert()
		order.submit()
		return order

	def test_a_sales_user_cannot_reopen_a_closed_order_through_any_door(self):
		order = self.submitted()
		api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}])
		api.close(order.name)
		before = snapshot(ORDER, order.name)
		self.assertEqual(before["doc"]["status"], "Closed")
		reopen = {"is_closed": 0, "status": "Partially Invoiced"}
		doors = {
			"PUT /api/resource": lambda: rest_put(ORDER, order.name, dict(reopen)),
			"frappe.client.set_value": lambda: frappe.client.set_value(ORDER, order.name, reopen),
			"frappe.client.save": lambda: frappe.client.save(
				{**frappe.get_doc(ORDER, order.name).as_dict(), **reopen}
			),
			"savedocs Update": lambda: savedocs(desk_doc(ORDER, order.name, **reopen), "Update"),
		}
		for user in (SALES, MANAGER):
			for door, call in doors.items():
				with self.subTest(user=user, door=door), signed_in(user):
					with self.refused(DerivedFieldError, "are derived from its invoices"):
						call()
			with signed_in(user):
				answer = frappe.client.bulk_update(
					json.dumps([{"doctype": ORDER, "docname": order.name, **reopen}])
				)
			self.assertIn("DerivedFieldError", answer["failed_docs"][0]["exc"])
		self.assertEqual(snapshot(ORDER, order.name), before)
		with signed_in(SALES), self.assertRaisesRegex(OrderStateError, "Closed"):
			api.create_invoice(order.name)

	def test_no_derived_figure_of_a_submitted_order_can_be_set(self):
		two_lines = [
			{"description": "Two units", "qty": 2, "unit_price": 10, "tax_rate": 15},
			{"description": "Five units", "qty": 5, "unit_price": 3, "tax_rate": 15},
		]
		order = frappe.get_doc(self.order_doc(items=two_lines)).insert()
		order.submit()
		api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 1}])
		before = snapshot(ORDER, order.name)
		line = order.items[0].name
		attempts = [
			(ORDER, order.name, "status", "Fully Invoiced"),
			(ORDER, order.name, "is_closed", 1),
			(ORDER, order.name, "invoiced_amount", 0),
			(ORDER, order.name, "outstanding_amount", 0),
			(ORDER, order.name, "per_invoiced", 100),
			(ORDER, order.name, "paid_amount", 1000),
			(ORDER, order.name, "due_amount", 0),
			(ORDER, order.name, "invoice_counter", 0),
			*[("Xero Sales Order Item", line, field, -10) for field in LINE_FIGURES],
		]
		for user in (SALES, MANAGER, SYSTEM, "Administrator"):
			for doctype, name, field, value in attempts:
				with self.subTest(user=user, field=field), signed_in(user):
					with self.refused(DerivedFieldError):
						frappe.client.set_value(doctype, name, field, value)
		# Other fields stay as Frappe keeps every submitted field, and so do the lines: refused too.
		with signed_in(SALES):
			with self.refused(UpdateAfterSubmitError):
				frappe.client.set_value("Xero Sales Order Item", line, "qty", 200)
			with self.refused(UpdateAfterSubmitError):
				frappe.client.delete("Xero Sales Order Item", line)
			with self.refused(UpdateAfterSubmitError):
				frappe.client.insert(
					{
						"doctype": "Xero Sales Order Item",
						"parenttype": ORDER,
						"parent": order.name,
						"parentfield": "items",
						"description": "Extra",
						"qty": 100,
						"unit_price": 1,
					}
				)
		self.assertEqual(snapshot(ORDER, order.name), before)

	def test_a_cancel_changes_nothing_but_the_docstatus(self):
		order = self.submitted()
		before = snapshot(ORDER, order.name)
		with signed_in(MANAGER):
			with self.refused(DerivedFieldError):
				rest_put(ORDER, order.name, {"docstatus": 2, "invoice_counter": 5, "is_closed": 1})
			with self.refused(UpdateAfterSubmitError):
				rest_put(ORDER, order.name, {"docstatus": 2, "grand_total": 1, "po_number": "FORGED"})
		self.assertEqual(snapshot(ORDER, order.name), before)
		with signed_in(MANAGER):
			frappe.client.cancel(ORDER, order.name)
		self.assertEqual(frappe.db.get_value(ORDER, order.name, ["docstatus", "status"]), (2, "Cancelled"))

	def test_an_amendment_starts_uninvoiced_and_renames_are_refused(self):
		order = self.submitted()
		invoice = api.create_invoice(order.name, [{"item": order.items[0].name, "qty": 2}])
		set_invoice_status(invoice["name"], "VOIDED")
		order.reload()
		with signed_in(SALES), self.refused(frappe.ValidationError):
			frappe.client.rename_doc(ORDER, order.name, "XSO-RENAMED")
		self.assertTrue(frappe.db.exists(ORDER, order.name))
		with signed_in(MANAGER):
			frappe.client.cancel(ORDER, order.name)
			amended = frappe.copy_doc(frappe.get_doc(ORDER, order.name))
			amended.amended_from = order.name
			amended.docstatus = 0
			amended.insert()
			amended.submit()
		self.assert_uninvoiced(amended.name)
		self.assertEqual(frappe.db.get_value(ORDER, order.name, "invoice_counter"), 1)

	def test_amended_from_must_name_a_cancelled_order_the_user_may_amend(self):
		# Frappe copies the attachments of the order named in amended_from: naming an open order, or one the
		# user may not amend, would hand them its files.
		order = self.submitted()
		frappe.get_doc(
			{
				"doctype": "File",
				"file_name": "po.txt",
				"content": "secret",
				"attached_to_doctype": ORDER,
				"attached_to_name": order.name,
				"is_private": 1,
			}
		).insert()
		before = frappe.db.count(ORDER)
		for user in (SALES, MANAGER):
			with signed_in(user), self.refused(frappe.PermissionError, "cancelled"):
				frappe.client.insert({**self.order_doc(), "amended_from": order.name})
		with signed_in(MANAGER):
			frappe.client.cancel(ORDER, order.name)
		with signed_in(SALES), self.refused(frappe.PermissionError, "amend"):
			frappe.client.insert({**self.order_doc(), "amended_from": order.name})
		self.assertEqual(frappe.db.count(ORDER), before)
		self.assertEqual(
			frappe.db.count("File", {"attached_to_doctype": ORDER, "attached_to_name": order.name}), 1
		)
		self.assertFalse(
			frappe.db.exists(
				"File", {"attached_to_doctype": ORDER, "attached_to_name": ["like", f"{order.name}-%"]}
			)
		)

	def test_data_import_cannot_set_derived_figures(self):
		before = frappe.db.count(ORDER)
		columns = {
			"customer": self.customer,
			"currency": "NZD",
			"po_number": "PO-IMPORTED",
			"docstatus": 1,
			"status": "Closed",
			"is_closed": 1,
			"paid_amount": 500,
			"due_amount": 400,
			"invoice_counter": 77,
			"items.description": "Imported line",
			"items.qty": 2,
			"items.unit_price": 10,
			"items.invoiced_qty": -10,
			"items.outstanding_qty": 12,
		}
		csv = ",".join(columns) + "\n" + ",".join(str(v) for v in columns.values()) + "\n"
		file = frappe.get_doc(
			{"doctype": "File", "file_name": "doors-import.csv", "content": csv, "is_private": 1}
		).insert()
		data_import = frappe.get_doc(
			{
				"doctype": "Data Import",
				"reference_doctype": ORDER,
				"import_type": "Insert New Records",
				"import_file": file.file_url,
				"submit_after_import": 1,
			}
		).insert()
		data_import.start_import()
		data_import.reload()
		self.assertEqual(frappe.db.count(ORDER), before + 1, data_import.status)
		name = frappe.get_all(ORDER, {"po_number": "PO-IMPORTED"}, pluck="name", order_by="creation desc")[0]
		self.assert_uninvoiced(name)

		# An update by import of a submitted (here: Closed) order is refused like any other save.
		api.create_invoice(name, [{"item": frappe.get_doc(ORDER, name).items[0].name, "qty": 1}])
		api.close(name)
		before = snapshot(ORDER, name)
		csv = f"name,is_closed,status,paid_amount\n{name},0,Partially Invoiced,0\n"
		file = frappe.get_doc(
			{"doctype": "File", "file_name": "doors-update.csv", "content": csv, "is_private": 1}
		).insert()
		data_import = frappe.get_doc(
			{
				"doctype": "Data Import",
				"reference_doctype": ORDER,
				"import_type": "Update Existing Records",
				"import_file": file.file_url,
			}
		).insert()
		frappe.db.commit()  # the importer rolls a failed row back, and with it anything not committed
		data_import.start_import()
		data_import.reload()
		self.assertEqual(data_import.status, "Error")
		self.assertEqual(snapshot(ORDER, name), before)


def submitted_by_desk(doc: dict) -> str:
	"""The desk's Submit of a new form (savedocs with the whole document); returns the order's name."""
	frappe.response.docs = []
	savedocs(json.dumps(doc), "Submit")
	return frappe.response.docs[-1]["name"]
