"""Bulk import against a real Xero sandbox: the background preview with its progress, the background import,
resuming a stopped or crashed preview and import (Xero's calls counted), idempotent re-runs, flags, bad input."""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from unittest.mock import patch

import frappe
import requests
from frappe.tests.utils import FrappeTestCase
from frappe.utils.background_jobs import generate_qname, get_job

from xero_sales_orders.api import importing as api
from xero_sales_orders.core import import_grouping
from xero_sales_orders.core.order_status import FULLY_INVOICED, derive_status, is_live_invoice
from xero_sales_orders.exceptions import ImportFetchError, ImportSettingsError, ImportStateError
from xero_sales_orders.patches.v1 import requeue_import_jobs
from xero_sales_orders.services import (
	import_fetch,
	import_groups,
	import_lookups,
	import_preview,
	import_runner,
	import_staging,
	import_writer,
	xero_clients,
)
from xero_sales_orders.services.import_settings import BATCH
from xero_sales_orders.services.master_sync import sync_connection
from xero_sales_orders.services.order_invoicing import refresh_order_invoicing
from xero_sales_orders.tests.factories import make_user
from xso_devkit.sandbox import connect, reset_calls, sandbox_calls, start_sandbox

CONNECTION = "Import Test"
EVERY_STATUS = "DRAFT,SUBMITTED,AUTHORISED,PAID,VOIDED,DELETED"


def money(value):
	return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def preview_rows(batch_name):
	"""Every group of the batch's stored preview, as the preview's pages show them."""
	return import_groups.page(batch_name, "all", None, 0, 10**6)["rows"]


def preview_now(batch_name):
	"""The preview the request queues, run here (as the worker would) to its end; returns its summary."""
	import_runner.preview(batch_name, now=True)
	return import_groups.summary(batch_name)


ORDER_FIGURES = (
	"invoiced_amount",
	"outstanding_amount",
	"per_invoiced",
	"paid_amount",
	"status",
	"grand_total",
)
LINE_FIGURES = ("invoiced_qty", "invoiced_amount", "invoiced_tax", "outstanding_qty", "outstanding_amount")


def assert_refresh_changes_nothing(test, order_names):
	"""The import derives imported orders' figures in bulk: refresh_order_invoicing, the authority, must find
	every one of them as it would have made it."""

	def figures(name):
		order = frappe.get_doc("Xero Sales Order", name)
		return (
			tuple(str(order.get(f)) for f in ORDER_FIGURES),
			[tuple(str(row.get(f)) for f in LINE_FIGURES) for row in order.items],
		)

	for name in order_names:
		before = figures(name)
		refresh_order_invoicing(name, notify=False)
		test.assertEqual(figures(name), before, name)
	frappe.db.rollback()


class TestXeroImportBatch(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.sandbox = start_sandbox(tenants=1, seed_invoices=60, rate_limits=False)
		connect(cls.sandbox, CONNECTION)
		sync_connection(CONNECTION)
		cls.tenant = frappe.get_doc("Xero Connection", CONNECTION).tenants[0].tenant_id
		frappe.db.commit()
		cls.batches = []

	@classmethod
	def tearDownClass(cls):
		cls.sandbox.stop()
		for batch in cls.batches:
			remove_batch(batch)
		frappe.db.commit()
		super().tearDownClass()

	def setUp(self):
		requests.delete(f"{self.sandbox.url}/_sandbox/faults", timeout=10)

	def batch(self, **fields):
		doc = frappe.get_doc(
			{
				"doctype": BATCH,
				"connection": CONNECTION,
				"from_date": date.today() - timedelta(days=400),
				"to_date": date.today() + timedelta(days=1),
				**fields,
			}
		).insert()
		frappe.db.commit()
		self.batches.append(doc.name)
		return doc

	def import_now(self, name):
		import_runner.start(name, now=True)
		return frappe.get_doc(BATCH, name)

	def forget(self, name):
		"""Removes the batch and what it imported, so that the next test finds the invoices not imported."""
		remove_batch(name)
		self.batches.remove(name)
		frappe.db.commit()

	def test_the_preview_request_only_queues_the_preview(self):
		batch = self.batch()
		reset_calls(self.sandbox)
		answer = api.preview(batch.name)
		try:
			self.assertEqual((answer["status"], answer["resumed"]), ("Previewing", False))
			# Nothing was fetched in the request: the job does it.
			self.assertEqual(sandbox_calls(self.sandbox)["total"], 0)
			job = get_job(answer["job_id"])
			self.assertEqual(job.kwargs["method"], import_runner.RUN_PREVIEW)
			self.assertEqual(job.kwargs["kwargs"], {"batch_name": batch.name})
			self.assertEqual(frappe.db.get_value(BATCH, batch.name, "status"), "Previewing")
			# A second request while it is queued is refused; so is an import.
			with self.assertRaisesRegex(ImportStateError, "previewing"):
				api.preview(batch.name)
			with self.assertRaisesRegex(ImportStateError, "already previewing"):
				api.start(batch.name)
		finally:
			if leftover := get_job(answer["job_id"]):
				leftover.delete()
		# Its job gone (a worker that died), Stop marks the batch Stopped and Preview may run it again.
		self.assertEqual(api.stop(batch.name)["status"], "Stopped")
		import_runner.preview(batch.name, now=True)
		self.assertEqual(frappe.db.get_value(BATCH, batch.name, "status"), "Previewed")

	def test_the_preview_reports_its_progress_as_it_fetches_and_groups(self):
		batch = self.batch(statuses=EVERY_STATUS)
		seen = []

		def watch(batch_name, title, done, total, description):
			state = frappe.db.get_value(
				BATCH, batch_name, ["status", "invoices_fetched", "invoices_total", "invoices_grouped"]
			)
			seen.append((title, done, total, state))
			return real_publish(batch_name, title, done, total, description)

		real_publish = import_preview.publish
		with patch.object(import_fetch, "PAGE_SIZE", 10), patch.object(import_preview, "GROUP_CHUNK", 5):
			with patch.object(import_preview, "publish", watch):
				preview_now(batch.name)
		batch.reload()
		fetching = [s for s in seen if s[0] == import_preview.FETCH_TITLE]
		grouping = [s for s in seen if s[0] == import_preview.GROUP_TITLE]
		# One report as each page is handed to the writer (what is committed so far), one when all are.
		self.assertEqual(len(fetching), batch.pages_fetched + 1)
		self.assertGreaterEqual(batch.pages_fetched, 6)
		# What is published is committed on the batch already (a polling form sees as much, or more).
		self.assertTrue(all(state[0] == "Previewing" and state[1] >= done for _, done, _, state in fetching))
		self.assertEqual([d for _, d, _, _ in fetching], sorted(d for _, d, _, _ in fetching))
		self.assertEqual(fetching[-1][1:3], (batch.invoices_fetched, batch.invoices_fetched))
		self.assertGreater(len(grouping), 1)
		self.assertEqual([d for _, d, _, _ in grouping], sorted(d for _, d, _, _ in grouping))
		self.assertEqual(grouping[-1][1:3], (batch.invoices_fetched, batch.invoices_fetched))
		self.assertEqual(batch.status, "Previewed")

	def test_preview_fetches_in_one_page_and_writes_only_the_batch(self):
		batch = self.batch(grouping="PO Pattern", po_pattern=r"PO-(\d+)", statuses=EVERY_STATUS)
		orders_before = frappe.db.count("Xero Sales Order")
		reset_calls(self.sandbox)
		summary = preview_now(batch.name)
		calls = sandbox_calls(self.sandbox)
		self.assertEqual(calls["by_endpoint"], {"GET /api.xro/2.0/Invoices": 1})
		batch.reload()
		self.assertEqual((batch.status, batch.pages_fetched), ("Previewed", 1))
		self.assertGreaterEqual(batch.invoices_fetched, 60)
		self.assertEqual(summary["groups"], summary["to_create"] + summary["skipped"] + summary["conflicts"])
		self.assertEqual(frappe.db.count("Xero Sales Order"), orders_before)
		rows = preview_rows(batch.name)
		self.assertEqual(len(rows), batch.groups_count)
		# The seeded references share PO numbers across contacts: such groups are conflicts, with the reason.
		conflict = next(
			r
			for r in rows
			if r["conflict"] and any(f["code"] == import_grouping.MIXED_CONTACTS for f in r["flags"])
		)  # the first conflict may be of another kind (a number taken by an earlier test's invoice)
		reasons = " ".join(
			f["reason"] for f in conflict["flags"] if f["code"] == import_grouping.MIXED_CONTACTS
		)
		self.assertIn("contacts", reasons)
		page = api.groups(batch.name, view="conflicts", page_length=5)
		self.assertEqual(page["total"], batch.conflicts_count)
		self.assertTrue(all(r["conflict"] for r in page["rows"]))

	def test_the_import_takes_the_previewed_plans_unless_the_rules_changed_since(self):
		batch = self.batch(grouping="Reference")
		preview_now(batch.name)
		previewed = {r["key"]: r for r in preview_rows(batch.name) if r["importable"]}
		self.assertTrue(previewed)
		with patch.object(import_runner, "propose", wraps=import_grouping.propose) as proposing:
			self.assertEqual(self.import_now(batch.name).status, "Completed")
		self.assertEqual(proposing.call_count, 0)  # every group as the preview kept it
		orders = frappe.get_all("Xero Sales Order", {"import_batch": batch.name}, ["name", "po_number"])
		self.assertEqual({o.po_number for o in orders}, set(previewed))
		for order in orders:
			lines = frappe.get_all(
				"Xero Sales Order Item",
				{"parent": order.name},
				["item_code", "qty", "invoiced_qty", "line_amount", "tax_amount"],
				order_by="idx",
			)
			shown = previewed[order.po_number]["lines"]
			self.assertEqual(
				[
					(r.item_code, Decimal(str(r.qty)), money(r.line_amount), money(r.tax_amount))
					for r in lines
				],
				[
					(s["item_code"], Decimal(s["qty"]), money(s["line_amount"]), money(s["tax_amount"]))
					for s in shown
				],
			)
		assert_refresh_changes_nothing(self, [o.name for o in orders])
		self.forget(batch.name)

		# A tax rate changed since the preview (synced again): the groups are proposed again with it.
		batch = self.batch(grouping="Reference")
		preview_now(batch.name)
		tax_type = next(r["lines"][0]["tax_type"] for r in preview_rows(batch.name) if r["importable"])
		rate = {"connection": CONNECTION, "tenant_id": self.tenant, "tax_type": tax_type}
		before = frappe.db.get_value("Xero Tax Rate", rate, "effective_rate")
		frappe.db.set_value("Xero Tax Rate", rate, "effective_rate", 7.25)
		frappe.db.commit()
		importable = frappe.db.count("Xero Import Group", {"batch": batch.name, "importable": 1})
		try:
			with patch.object(import_runner, "propose", wraps=import_grouping.propose) as proposing:
				self.assertEqual(self.import_now(batch.name).status, "Completed")
			self.assertEqual(proposing.call_count, importable)
			rates = frappe.get_all(
				"Xero Sales Order Item",
				{
					"parent": [
						"in",
						frappe.get_all("Xero Sales Order", {"import_batch": batch.name}, pluck="name"),
					],
					"tax_type": tax_type,
				},
				pluck="tax_rate",
			)
			self.assertTrue(rates)
			self.assertEqual({money(r) for r in rates}, {money(7.25)})
		finally:
			frappe.db.set_value("Xero Tax Rate", rate, "effective_rate", before)
			frappe.db.commit()
		self.forget(batch.name)

	def test_import_creates_orders_with_derived_statuses_and_never_twice(self):
		batch = self.batch(grouping="Reference")
		preview_now(batch.name)
		batch.reload()
		self.assertGreater(batch.orders_to_create, 0)
		reset_calls(self.sandbox)
		batch = self.import_now(batch.name)
		self.assertEqual(batch.status, "Completed", batch.error)
		# The import works on what was previewed: no further call to Xero.
		self.assertEqual(sandbox_calls(self.sandbox)["total"], 0)
		orders = frappe.get_all("Xero Sales Order", {"import_batch": batch.name}, pluck="name")
		self.assertEqual(len(orders), batch.orders_to_create)
		self.assertEqual(batch.orders_created, len(orders))
		statuses = set()
		for name in orders:
			order = frappe.get_doc("Xero Sales Order", name)
			invoices = frappe.get_all(
				"Xero Invoice",
				{"sales_order": name},
				["name", "status", "push_state", "total", "xero_invoice_id", "import_batch"],
			)
			self.assertTrue(invoices)
			self.assertTrue(all(i.push_state == "Pushed" and i.xero_invoice_id for i in invoices))
			self.assertEqual(order.docstatus, 1)
			expected = derive_status(
				1, False, [(Decimal(str(r.qty)), Decimal(str(r.invoiced_qty))) for r in order.items]
			)
			self.assertEqual(order.status, expected)
			statuses.add(order.status)
			live = [i for i in invoices if is_live_invoice(i.status)]
			if len(live) == len(invoices):
				self.assertEqual(order.status, FULLY_INVOICED)
			invoiced = money(order.invoiced_amount)
			self.assertEqual(money(order.outstanding_amount), money(order.grand_total) - invoiced)
		self.assertIn(FULLY_INVOICED, statuses)
		rows = preview_rows(batch.name)
		self.assertTrue(all(r.get("order") for r in rows if r["importable"]))
		assert_refresh_changes_nothing(self, orders)

		# Re-running the batch, or another batch over the same invoices, creates nothing.
		batch = self.import_now(batch.name)
		self.assertEqual(batch.status, "Completed")
		self.assertEqual(frappe.db.count("Xero Sales Order", {"import_batch": batch.name}), len(orders))
		again = self.batch(grouping="Reference")
		summary = preview_now(again.name)
		self.assertEqual(summary["to_create"], 0)
		self.assertGreaterEqual(summary["already_imported"], len(orders))
		self.import_now(again.name)
		self.assertEqual(frappe.db.count("Xero Sales Order", {"import_batch": again.name}), 0)
		self.forget(batch.name)

	def test_two_organisations_with_the_same_invoice_numbers_both_import(self):
		# The sandbox numbers each organisation's invoices from INV-0001, as Xero does.
		sandbox = start_sandbox(tenants=2, seed_invoices=20, rate_limits=False)
		try:
			connect(sandbox, "Import Two Orgs")
			sync_connection("Import Two Orgs")
			tenants = [t.tenant_id for t in frappe.get_doc("Xero Connection", "Import Two Orgs").tenants]
			imported = []
			for tenant in tenants:
				batch = self.batch(connection="Import Two Orgs", tenant_id=tenant, grouping="Reference")
				preview_now(batch.name)
				flags = {f["code"] for row in preview_rows(batch.name) for f in row["flags"]}
				self.assertNotIn(import_grouping.NUMBER_TAKEN, flags)
				self.assertEqual(self.import_now(batch.name).status, "Completed")
				rows = frappe.get_all(
					"Xero Invoice", {"import_batch": batch.name}, ["name", "invoice_number", "tenant_id"]
				)
				self.assertTrue(rows and all(r.tenant_id == tenant for r in rows))
				imported.append({r.invoice_number: r.name for r in rows})
			shared = set(imported[0]) & set(imported[1])
			self.assertTrue(shared)
			for number in shared:
				first, second = imported[0][number], imported[1][number]
				self.assertNotEqual(first, second)
				self.assertTrue(second.startswith(f"{number}-"))
				# Each invoice keeps its own lines under its own name.
				self.assertTrue(frappe.db.exists("Xero Invoice Item", {"parent": second}))
			# Within one organisation a number still names one invoice: another Xero invoice with it is flagged.
			number = next(iter(shared))
			other = [{"number": number, "id": str(uuid.uuid4())}]
			self.assertEqual(import_lookups.taken_numbers(other, tenants[0]), {number})
			self.assertEqual(import_lookups.taken_numbers(other, str(uuid.uuid4())), set())
		finally:
			sandbox.stop()

	def test_a_crash_loses_no_finished_chunk_and_the_rerun_completes(self):
		batch = self.batch(grouping="Reference", statuses="AUTHORISED,PAID")
		preview_now(batch.name)
		expected = frappe.db.get_value(BATCH, batch.name, "orders_to_create")
		self.assertGreater(expected, 4)
		real_insert = import_writer.OrderWriter.insert
		calls = []

		def crash_on_second_chunk(prepared):
			calls.append(len(prepared.names))
			if len(calls) == 2:
				raise RuntimeError("worker killed")
			return real_insert(prepared)

		with (
			patch.object(import_runner, "CHUNK", 2),
			patch.object(import_writer.OrderWriter, "insert", staticmethod(crash_on_second_chunk)),
		):
			batch = self.import_now(batch.name)
		self.assertEqual(batch.status, "Failed")
		self.assertIn("worker killed", batch.error)
		self.assertEqual(frappe.db.count("Xero Sales Order", {"import_batch": batch.name}), 2)
		batch = self.import_now(batch.name)
		self.assertEqual(batch.status, "Completed")
		self.assertEqual(frappe.db.count("Xero Sales Order", {"import_batch": batch.name}), expected)
		numbers = frappe.get_all("Xero Invoice", {"import_batch": batch.name}, pluck="xero_invoice_id")
		self.assertEqual(len(numbers), len(set(numbers)))
		self.forget(batch.name)

	def stored(self, batch_name):
		"""The preview's stored invoices (Xero InvoiceIDs, each once) and its groups as the pages show them."""
		ids = frappe.get_all("Xero Import Invoice", {"batch": batch_name}, pluck="invoice_id")
		return sorted(ids), sorted(frappe.as_json(r) for r in preview_rows(batch_name))

	def test_a_stopped_preview_resumes_without_fetching_again(self):
		with patch.object(import_fetch, "PAGE_SIZE", 10):
			# The same preview uninterrupted, for the calls and the groups it makes.
			whole = self.batch(grouping="Reference", statuses=EVERY_STATUS)
			reset_calls(self.sandbox)
			preview_now(whole.name)
			whole_calls = sandbox_calls(self.sandbox)["by_endpoint"]["GET /api.xro/2.0/Invoices"]
			whole.reload()
			self.assertEqual(whole.pages_fetched, whole_calls)
			self.assertGreaterEqual(whole_calls, 6)

			batch = self.batch(grouping="Reference", statuses=EVERY_STATUS)
			real_publish = import_preview.publish

			pages = []

			def stop_after_two_pages(batch_name, title, done, total, description):
				real_publish(batch_name, title, done, total, description)
				if title == import_preview.FETCH_TITLE:
					pages.append(done)
					if len(pages) == 2:
						api.stop(batch_name)  # as the form's Stop button does, while the job runs

			reset_calls(self.sandbox)
			with patch.object(import_preview, "publish", stop_after_two_pages):
				preview_now(batch.name)
			batch.reload()
			self.assertEqual((batch.status, batch.pages_fetched), ("Stopped", 2))
			self.assertFalse(batch.previewed_at or batch.stop_requested)
			# Two pages stored; the fetching thread may have asked for the third (one page ahead, never more).
			self.assertIn(sandbox_calls(self.sandbox)["total"], (2, 3))
			# Two pages of 10, the second from the first one's last second on: 19 invoices, or 20.
			self.assertIn(import_staging.stored_count(batch.name), (19, 20))
			self.assertEqual(batch.invoices_fetched, import_staging.stored_count(batch.name))
			with self.assertRaisesRegex(ImportStateError, "Preview"):
				import_runner.start(batch.name)

			# Preview again goes on from the third page (what was stored is not asked for again): the calls the
			# uninterrupted preview made after its second.
			reset_calls(self.sandbox)
			self.assertTrue(import_runner.preview(batch.name, now=True)["resumed"])
			calls = sandbox_calls(self.sandbox)
			self.assertEqual(calls["by_endpoint"], {"GET /api.xro/2.0/Invoices": whole_calls - 2})
		batch.reload()
		self.assertEqual((batch.status, batch.pages_fetched), ("Previewed", whole_calls))
		self.assertEqual(self.stored(batch.name), self.stored(whole.name))
		self.assertEqual(batch.invoices_fetched, whole.invoices_fetched)

	def test_a_crashed_preview_resumes_its_grouping_without_asking_xero_again(self):
		batch = self.batch(grouping="Reference", statuses=EVERY_STATUS)
		real_rows = import_groups.group_rows
		stores = []

		def crash_on_third_store(batch_name, groups, digest=None):
			stores.append(len(groups))
			if len(stores) == 3:
				raise RuntimeError("worker killed")
			return real_rows(batch_name, groups, digest)

		with (
			patch.object(import_preview, "GROUP_CHUNK", 4),
			patch.object(import_groups, "group_rows", crash_on_third_store),
		):
			preview_now(batch.name)
		batch.reload()
		self.assertEqual(batch.status, "Failed")
		self.assertIn("worker killed", batch.error)
		self.assertEqual(len(preview_rows(batch.name)), 8)  # the two chunks stored before the crash
		reset_calls(self.sandbox)
		self.assertTrue(import_runner.preview(batch.name, now=True)["resumed"])
		self.assertEqual(sandbox_calls(self.sandbox)["total"], 0)
		batch.reload()
		self.assertEqual(batch.status, "Previewed")
		again = self.batch(grouping="Reference", statuses=EVERY_STATUS)
		preview_now(again.name)
		self.assertEqual(self.stored(batch.name), self.stored(again.name))
		self.assertEqual(batch.groups_count, len(preview_rows(batch.name)))

	def test_a_stopped_import_resumes_without_creating_anything_twice(self):
		batch = self.batch(grouping="Reference", statuses="AUTHORISED,PAID")
		preview_now(batch.name)
		expected = frappe.db.get_value(BATCH, batch.name, "orders_to_create")
		self.assertGreater(expected, 4)
		real_progress = import_runner._progress

		def stop_after_the_first_chunk(batch_name, done, total):
			real_progress(batch_name, done, total)
			if done == 2:
				api.stop(batch_name)

		reset_calls(self.sandbox)
		with (
			patch.object(import_runner, "CHUNK", 2),
			patch.object(import_runner, "_progress", stop_after_the_first_chunk),
		):
			batch = self.import_now(batch.name)
		# Stopped once its chunk in flight was written: the first chunk, or the first two.
		self.assertEqual(batch.status, "Stopped")
		self.assertIn(batch.orders_created, (2, 4))
		self.assertEqual(
			frappe.db.count("Xero Sales Order", {"import_batch": batch.name}), batch.orders_created
		)
		marked = frappe.get_all("Xero Import Group", {"batch": batch.name, "sales_order": ["is", "set"]})
		self.assertEqual(len(marked), batch.orders_created)
		with patch.object(import_runner, "CHUNK", 2):
			batch = self.import_now(batch.name)
		self.assertEqual(batch.status, "Completed", batch.error)
		self.assertEqual(frappe.db.count("Xero Sales Order", {"import_batch": batch.name}), expected)
		self.assertEqual(batch.orders_created, expected)
		ids = frappe.get_all("Xero Invoice", {"import_batch": batch.name}, pluck="xero_invoice_id")
		self.assertEqual(len(ids), len(set(ids)))
		# The import works on the stored invoices: Xero was not asked anything, stopped or resumed.
		self.assertEqual(sandbox_calls(self.sandbox)["total"], 0)
		rows = preview_rows(batch.name)
		self.assertEqual(sum(1 for r in rows if r.get("order")), expected)
		self.forget(batch.name)

	def test_preview_pages_filter_and_search_the_stored_groups(self):
		batch = self.batch(grouping="PO Pattern", po_pattern=r"PO-(\d+)", statuses="AUTHORISED,PAID,VOIDED")
		preview_now(batch.name)
		rows = preview_rows(batch.name)
		views = {view: api.groups(batch.name, view=view, page_length=500) for view in import_groups.VIEWS}
		self.assertEqual(views["all"]["total"], len(rows))
		self.assertEqual(views["importable"]["total"] + views["skipped"]["total"], len(rows))
		self.assertEqual([r["key"] for r in views["all"]["rows"]], [r["key"] for r in rows])
		self.assertTrue(all(r["importable"] for r in views["importable"]["rows"]))
		self.assertTrue(all(r["conflict"] for r in views["conflicts"]["rows"]))
		self.assertTrue(all(r["flags"] for r in views["flagged"]["rows"]))
		# Pages are slices of the same order.
		first, second = (api.groups(batch.name, start=n, page_length=3)["rows"] for n in (0, 3))
		self.assertEqual([r["key"] for r in first + second], [r["key"] for r in rows[:6]])
		# A search matches a reference, a contact or an invoice number, in any case; % and _ are literal.
		number = rows[0]["invoices"][-1]["number"]
		found = api.groups(batch.name, search=number.lower())["rows"]
		self.assertIn(rows[0]["key"], [r["key"] for r in found])
		self.assertEqual(api.groups(batch.name, search="%")["total"], 0)
		self.assertEqual(api.groups(batch.name, search="_")["total"], 0)
		with self.assertRaisesRegex(frappe.ValidationError, "view must be one of"):
			api.groups(batch.name, view="everything")

	def test_flags_for_mixed_contacts_voided_invoices_and_no_reference(self):
		contacts = frappe.get_all(
			"Xero Contact",
			{"connection": CONNECTION, "tenant_id": self.tenant, "contact_status": "ACTIVE"},
			pluck="name",
			limit=2,
		)
		tag = uuid.uuid4().hex[:8].upper()
		line = {
			"Description": "Widget",
			"Quantity": 2,
			"UnitAmount": 10,
			"AccountCode": "200",
			"TaxType": "OUTPUT2",
		}

		numbers = iter(range(1, 100))

		def invoice(contact, reference, status="AUTHORISED"):
			# Numbers of their own: other organisations' invoices imported on this site may use INV-00xx.
			return {
				"Type": "ACCREC",
				"InvoiceNumber": f"IMP-{tag}-{next(numbers)}",
				"Contact": {"ContactID": contact},
				"Reference": reference,
				"Status": status,
				"Date": date.today().isoformat(),
				"DueDate": date.today().isoformat(),
				"LineItems": [line],
			}

		client = xero_clients.client_for(CONNECTION, self.tenant)
		try:
			created = client.create_invoices(
				[
					invoice(contacts[0], f"MIX-{tag}"),
					invoice(contacts[1], f"MIX-{tag}"),
					invoice(contacts[0], f"VOID-{tag}"),
					invoice(contacts[0], f"VOID-{tag}"),
					invoice(contacts[0], ""),
				]
			)
			self.assertTrue(all(c.get("InvoiceID") for c in created), created)
			client.update_invoice(created[3]["InvoiceID"], {"Status": "VOIDED"})
		finally:
			client.close()
		batch = self.batch(
			grouping="Reference",
			contacts="\n".join(contacts),
			from_date=date.today(),
			statuses="AUTHORISED,PAID,VOIDED",  # the default is AUTHORISED,PAID
		)
		preview_now(batch.name)
		rows = {r["key"]: r for r in preview_rows(batch.name)}
		mixed = rows[f"MIX-{tag}"]
		self.assertTrue(mixed["conflict"] and not mixed["importable"], mixed)
		self.assertIn(import_grouping.MIXED_CONTACTS, [f["code"] for f in mixed["flags"]])
		voided = rows[f"VOID-{tag}"]
		self.assertTrue(voided["importable"])
		self.assertIn(f"Left out: {created[3]['InvoiceNumber']} (VOIDED)", voided["flags"][0]["reason"])
		self.assertEqual([i["left_out"] for i in voided["invoices"]], [None, "voided: it bills nothing"])
		self.assertEqual(voided["lines"][0]["qty"], "2.0000")
		self.assertEqual(voided["lines"][0]["invoiced_qty"], "2.0000")
		orphan = rows[f"(no reference) {created[4]['InvoiceNumber']}"]
		self.assertEqual(orphan["flags"][0]["code"], import_grouping.NO_REFERENCE)

		self.import_now(batch.name)
		order = frappe.get_doc("Xero Sales Order", {"import_batch": batch.name, "po_number": f"VOID-{tag}"})
		self.assertEqual(order.status, "Fully Invoiced")
		self.assertEqual(money(order.grand_total), money("23.00"))
		self.assertEqual(money(order.outstanding_amount), money("0.00"))
		# The voided invoice is not part of the order.
		self.assertEqual(
			frappe.get_all("Xero Invoice", {"sales_order": order.name}, pluck="status"), ["AUTHORISED"]
		)

	def test_bad_settings_are_refused_with_a_clear_message(self):
		with self.assertRaisesRegex(ImportSettingsError, "exactly one capturing group"):
			self.batch(grouping="PO Pattern", po_pattern=r"PO-\d+")
		with self.assertRaisesRegex(ImportSettingsError, "not a valid regular expression"):
			self.batch(grouping="PO Pattern", po_pattern=r"PO-(\d+")
		with self.assertRaisesRegex(ImportSettingsError, "date range is empty"):
			self.batch(from_date=date.today(), to_date=date.today() - timedelta(days=1))
		with self.assertRaisesRegex(ImportSettingsError, "WHATEVER"):
			self.batch(statuses="PAID,WHATEVER")
		with self.assertRaisesRegex(ImportSettingsError, "not found"):
			self.batch(contacts="Nobody At All Ltd")
		batch = self.batch()
		with self.assertRaisesRegex(ImportStateError, "Preview"):
			import_runner.start(batch.name)

	def test_xero_refusing_the_fetch_fails_the_batch_with_its_reason(self):
		batch = self.batch()
		requests.post(
			f"{self.sandbox.url}/_sandbox/faults",
			json={"kind": "429", "problem": "day", "retry_after": 3600, "path": "/api.xro/2.0/Invoices"},
			timeout=10,
		)
		preview_now(batch.name)
		batch.reload()
		self.assertEqual(batch.status, "Failed")
		self.assertIn("Xero refused", batch.error)
		self.assertFalse(preview_rows(batch.name))
		self.assertFalse(batch.previewed_at)

	def test_a_connection_needing_reconnect_fails_the_preview(self):
		batch = self.batch()
		frappe.db.set_value("Xero Connection", CONNECTION, "status", "Needs Reconnect")
		frappe.db.commit()
		try:
			with self.assertRaises(ImportFetchError):
				api.preview(batch.name)
		finally:
			frappe.db.set_value("Xero Connection", CONNECTION, "status", "Connected")
			frappe.db.commit()
		self.assertIn("needs reconnecting", frappe.db.get_value(BATCH, batch.name, "error"))

	def test_a_second_import_while_one_runs_is_refused(self):
		batch = self.batch()
		preview_now(batch.name)
		frappe.db.set_value(BATCH, batch.name, {"status": "Importing", "job_id": "running-job"})
		with patch.object(import_runner, "is_job_enqueued", return_value=True):
			with self.assertRaisesRegex(ImportStateError, "already importing"):
				api.start(batch.name)
			with self.assertRaisesRegex(ImportStateError, "importing"):
				api.preview(batch.name)
		frappe.db.set_value(BATCH, batch.name, "status", "Previewed")
		frappe.db.commit()

	def test_a_job_queued_under_the_old_path_is_queued_again_under_the_runner(self):
		batch = self.batch()
		job = import_runner.job_id(batch.name)
		frappe.enqueue(
			requeue_import_jobs.OLD_RUN_IMPORT,
			queue="long",
			job_id=job,
			deduplicate=True,
			batch_name=batch.name,
		)
		frappe.db.set_value(BATCH, batch.name, {"status": "Importing", "job_id": job})
		try:
			self.assertEqual(get_job(job).kwargs["method"], requeue_import_jobs.OLD_RUN_IMPORT)
			requeue_import_jobs.execute()
			queued = get_job(job)
			self.assertEqual(queued.kwargs["method"], import_runner.RUN_IMPORT)
			self.assertEqual(queued.kwargs["kwargs"], {"batch_name": batch.name})
			self.assertEqual(queued.origin, generate_qname("long"))
		finally:
			if leftover := get_job(job):
				leftover.delete()
			frappe.db.set_value(BATCH, batch.name, "status", "Draft")
			frappe.db.commit()

	def test_only_managers_may_import(self):
		batch = self.batch()
		make_user("xso-import-user@example.com", ["Xero Sales User"])
		frappe.set_user("xso-import-user@example.com")
		try:
			with self.assertRaises(frappe.PermissionError):
				api.preview(batch.name)
			with self.assertRaises(frappe.PermissionError):
				api.start(batch.name)
			with self.assertRaises(frappe.PermissionError):
				api.stop(batch.name)
		finally:
			frappe.set_user("Administrator")
		# Stop is for a running preview or import only.
		with self.assertRaisesRegex(ImportStateError, "not previewing or importing"):
			api.stop(batch.name)

	def test_changing_settings_after_preview_asks_for_a_new_preview(self):
		batch = self.batch()
		preview_now(batch.name)
		batch.reload()
		batch.grouping = "PO Pattern"
		batch.save()
		self.assertEqual(batch.status, "Draft")


class TestImportSql(FrappeTestCase):
	"""The import writes SQL text itself (services/import_sql.py): it must be what the driver would write."""

	def test_values_are_written_as_the_driver_writes_them_and_read_back_as_they_were(self):
		import random
		from datetime import datetime

		from pymysql.converters import escape_item

		from xero_sales_orders.services import import_sql

		rng = random.Random(7)
		alphabet = "".join(chr(i) for i in range(300)) + "'\"\\\n\r\x1a\x00é中😀%s%(x)s"
		texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
		# Long texts that need escapes are written as hex (a stored invoice's JSON), the others as the driver.
		long_texts = [
			"".join(rng.choice(alphabet) for _ in range(rng.randint(import_sql.HEX_FROM, 3000)))
			for _ in range(200)
		]
		for text in long_texts:
			self.assertEqual(import_sql.literal(text), "_utf8mb4 X'" + text.encode().hex() + "'")
		texts += [*long_texts, "x" * 5000, "é" * 200]
		values = [
			*texts[:3000],
			*texts[-2:],
			0,
			-7,
			10**12,
			Decimal("12.3400"),
			Decimal("-0.0001"),
			Decimal("1E+3"),
			None,
		]
		values += [datetime(2026, 1, 2, 3, 4, 5, 6), date(2026, 1, 2)]
		for value in values:
			expected = escape_item(value, "utf8mb4")
			if isinstance(value, Decimal):
				expected = format(value, "f")
			self.assertEqual(import_sql.literal(value), expected, repr(value))
		for bad in (Decimal("NaN"), float("inf"), object(), b"bytes"):
			with self.assertRaises((TypeError, ValueError)):
				import_sql.literal(bad)
		# Stored and read back through MariaDB: every text as it was.
		name = f"XIB-SQL-{uuid.uuid4().hex[:8]}"
		rows = [
			{
				"name": f"{name}-{n}",
				"docstatus": 0,
				"idx": 0,
				"batch": name,
				"invoice_id": str(n),
				"data": text,
			}
			for n, text in enumerate(texts)
		]
		import_sql.bulk_insert("Xero Import Invoice", [{**import_sql.standard_fields(), **r} for r in rows])
		stored = dict(
			frappe.db.sql("select invoice_id, data from `tabXero Import Invoice` where batch = %s", name)
		)
		# The lookups write their IN lists the same way, a % among the values kept apart from the args.
		from xero_sales_orders.services.import_lookups import rows_in

		odd = [{**rows[0], "name": f"{name}-{i}", "invoice_id": i} for i in ("50%", "it's", "%s")]
		import_sql.bulk_insert("Xero Import Invoice", [{**import_sql.standard_fields(), **r} for r in odd])
		wanted = [str(n) for n in range(0, len(texts), 7)] + ["50%", "it's", "%s", "no such id"]
		found = rows_in(
			"Xero Import Invoice", "invoice_id, batch", "invoice_id", wanted, "batch = %s", (name,)
		)
		unfiltered = rows_in("Xero Import Invoice", "name", "name", [f"{name}-50%", f"{name}-%s", "none"])
		frappe.db.rollback()
		self.assertEqual([stored[str(n)] or "" for n in range(len(texts))], texts)
		self.assertEqual(sorted(found), sorted((n, name) for n in wanted[:-1]))
		self.assertEqual(sorted(unfiltered), [(f"{name}-%s",), (f"{name}-50%",)])


def remove_batch(name: str) -> None:
	"""Imported records bypass the invoice's delete guard (live invoices cannot be deleted by users)."""
	orders = frappe.get_all("Xero Sales Order", {"import_batch": name}, pluck="name")
	invoices = frappe.get_all("Xero Invoice", {"import_batch": name}, pluck="name")
	for doctype, parents in (("Xero Invoice", invoices), ("Xero Sales Order", orders)):
		if parents:
			frappe.db.delete(f"{doctype} Item", {"parent": ["in", parents]})
			frappe.db.delete(doctype, {"name": ["in", parents]})
	frappe.delete_doc(BATCH, name, force=True, ignore_permissions=True)
	for doctype in ("Xero Import Invoice", "Xero Import Group"):
		assert not frappe.db.exists(doctype, {"batch": name}), doctype


def figures(order):
	return tuple(money(order.get(f)) for f in ("subtotal", "total_tax", "grand_total"))


class TestImportedOrdersEqualTheirInvoices(FrappeTestCase):
	"""The issue's invoices, seeded in a sandbox of their own, imported: each order equals its invoices."""

	CONNECTION = "Import Cents"

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.sandbox = start_sandbox(tenants=1, seed_invoices=0, rate_limits=False)
		connect(cls.sandbox, cls.CONNECTION)
		sync_connection(cls.CONNECTION)
		cls.tenant = frappe.get_doc("Xero Connection", cls.CONNECTION).tenants[0].tenant_id
		contact = frappe.get_all(
			"Xero Contact",
			{"connection": cls.CONNECTION, "tenant_id": cls.tenant, "contact_status": "ACTIVE"},
			pluck="name",
			limit=1,
		)[0]
		tag = uuid.uuid4().hex[:6].upper()

		def line(description, qty, price, discount=0):
			item = {
				"Description": description,
				"Quantity": qty,
				"UnitAmount": price,
				"AccountCode": "200",
				"TaxType": "OUTPUT2",  # 15 % GST
			}
			return {**item, "DiscountRate": discount} if discount else item

		numbers = iter(range(1, 100))

		def invoice(po, lines):
			return {
				"Type": "ACCREC",
				"InvoiceNumber": f"CENT-{tag}-{next(numbers)}",
				"Contact": {"ContactID": contact},
				"Reference": f"PO-{po}",
				"Status": "AUTHORISED",
				"Date": date.today().isoformat(),
				"DueDate": date.today().isoformat(),
				"LineItems": lines,
			}

		desk, chair = ("Oak desk", 2, 849.00, 5), ("Chair", 3, 389.50)
		client = xero_clients.client_for(cls.CONNECTION, cls.tenant)
		try:
			created = client.create_invoices(
				[
					invoice("5001", [line(*desk), line(*chair)]),
					invoice("5001", [line("Oak desk", 1, 849.00, 5)]),
					invoice("5001", [line("Chair", 1, 389.50), line("Shelf", 1, 45.6789)]),
					invoice("5002", [line("Widget", 10, 4.3333, 12.5)]),
					invoice("5002", [line("Widget", 5, 4.3333, 12.5)]),
					invoice("5007", [line("Bench", 2, 75.00)]),
					invoice("5007", [line("Bench", 1, 75.00)]),
				]
			)
			assert all(c.get("InvoiceID") for c in created), created
			client.update_invoice(created[6]["InvoiceID"], {"Status": "VOIDED"})
			created[6]["Status"] = "VOIDED"
		finally:
			client.close()
		cls.created = {c["InvoiceNumber"]: c for c in created}
		cls.by_po = {}
		for c in created:
			cls.by_po.setdefault(c["Reference"], []).append(c)
		frappe.db.commit()
		cls.batches = []

	@classmethod
	def tearDownClass(cls):
		cls.sandbox.stop()
		for batch in cls.batches:
			remove_batch(batch)
		frappe.db.commit()
		super().tearDownClass()

	def import_batch(self, **fields):
		batch = frappe.get_doc(
			{
				"doctype": BATCH,
				"connection": self.CONNECTION,
				"tenant_id": self.tenant,
				"from_date": date.today() - timedelta(days=1),
				"to_date": date.today() + timedelta(days=1),
				"statuses": "AUTHORISED,PAID,VOIDED,DELETED",
				"grouping": "PO Pattern",
				"po_pattern": r"PO-(\d+)",
				**fields,
			}
		).insert()
		frappe.db.commit()
		self.batches.append(batch.name)
		preview_now(batch.name)
		rows = {r["key"]: r for r in preview_rows(batch.name)}
		import_runner.start(batch.name, now=True)
		batch.reload()
		self.assertEqual(batch.status, "Completed", batch.error)
		assert_refresh_changes_nothing(
			self, frappe.get_all("Xero Sales Order", {"import_batch": batch.name}, pluck="name")
		)
		return batch, rows

	def order(self, batch, po):
		return frappe.get_doc("Xero Sales Order", {"import_batch": batch.name, "po_number": po})

	def invoice_sums(self, po, statuses=("AUTHORISED",)):
		live = [c for c in self.by_po[f"PO-{po}"] if c["Status"] in statuses]
		return tuple(sum((money(c[k]) for c in live), Decimal(0)) for k in ("SubTotal", "TotalTax", "Total"))

	def assertEqualsItsInvoices(self, order, sums):
		self.assertEqual(figures(order), sums)
		self.assertEqual(money(order.invoiced_amount), sums[2])
		self.assertEqual(money(order.outstanding_amount), money(0))
		self.assertEqual(order.per_invoiced, 100)
		self.assertEqual(order.status, FULLY_INVOICED)
		# Line by line too: each line is invoiced in full, its amount and tax what its invoice lines sum to.
		for row in order.items:
			self.assertEqual(money(row.invoiced_amount), money(row.line_amount))
			self.assertEqual(money(row.invoiced_tax), money(row.tax_amount))
			self.assertEqual(money(row.outstanding_amount), money(0))
		invoices = frappe.get_all(
			"Xero Invoice",
			{"sales_order": order.name},
			["total", "xero_total", "totals_differ", "status"],
		)
		self.assertTrue(all(money(i.total) == money(i.xero_total) and not i.totals_differ for i in invoices))

	def test_the_issues_orders_equal_their_invoices_and_voided_invoices_are_left_out(self):
		batch, rows = self.import_batch()
		self.assertEqual(batch.orders_created, 3)

		po_5001 = self.order(batch, "5001")
		self.assertEqual(self.invoice_sums("5001")[2], money("4626.84"))
		self.assertEqualsItsInvoices(po_5001, self.invoice_sums("5001"))
		# 3 + 1 chairs carry a cent more tax than 4 chairs would: they stay two lines; the desks merge.
		self.assertEqual(
			[(r.description, float(r.qty)) for r in po_5001.items],
			[("Oak desk", 3.0), ("Chair", 3.0), ("Chair", 1.0), ("Shelf", 1.0)],
		)

		po_5002 = self.order(batch, "5002")
		self.assertEqualsItsInvoices(po_5002, self.invoice_sums("5002"))

		po_5007 = self.order(batch, "5007")
		self.assertEqualsItsInvoices(po_5007, self.invoice_sums("5007"))
		self.assertEqual(money(po_5007.grand_total), money("172.50"))
		self.assertEqual([float(r.qty) for r in po_5007.items], [2.0])
		voided = self.by_po["PO-5007"][1]["InvoiceNumber"]
		self.assertFalse(
			frappe.db.exists("Xero Invoice", {"invoice_number": voided, "tenant_id": self.tenant})
		)
		flags = " ".join(f["reason"] for f in rows["5007"]["flags"])
		self.assertIn(f"Left out: {voided} (VOIDED)", flags)
		self.assertIn("Voided Invoices Become Demand", flags)

		# Asked for, the voided bench is demand: ordered, still to invoice.
		remove_batch(batch.name)
		self.batches.remove(batch.name)
		frappe.db.commit()
		batch, rows = self.import_batch(voided_as_demand=1)
		self.assertIn("Ordered but not invoiced", rows["5007"]["flags"][0]["reason"])
		po_5007 = self.order(batch, "5007")
		self.assertEqual(figures(po_5007), self.invoice_sums("5007", ("AUTHORISED", "VOIDED")))
		self.assertEqual(money(po_5007.grand_total), money("258.75"))
		self.assertEqual(money(po_5007.invoiced_amount), money("172.50"))
		self.assertEqual(money(po_5007.outstanding_amount), money("86.25"))
		self.assertEqual(po_5007.status, "Partially Invoiced")
		self.assertEqual([(float(r.qty), float(r.invoiced_qty)) for r in po_5007.items], [(3.0, 2.0)])
		# The other orders are unchanged by the option.
		self.assertEqualsItsInvoices(self.order(batch, "5001"), self.invoice_sums("5001"))
