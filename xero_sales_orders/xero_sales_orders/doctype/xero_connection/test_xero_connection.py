# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

import time

import frappe
import requests
from frappe.tests.utils import FrappeTestCase
from frappe.utils.password import get_decrypted_password

from xero_sales_orders.api import connection as api
from xero_sales_orders.exceptions import InvalidOrderError, NeedsReconnectError, OAuthStateError
from xero_sales_orders.services import xero_clients, xero_consent, xero_tokens
from xero_sales_orders.services.master_sync import sync_connection
from xero_sales_orders.tests.factories import make_user
from xso_devkit.sandbox import (
	access_tokens_from_workers,
	connect,
	consent,
	expire_access_token,
	make_connection,
	reset_calls,
	sandbox_calls,
	start_sandbox,
)


class TestXeroConnection(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.sandbox = start_sandbox(tenants=2)

	@classmethod
	def tearDownClass(cls):
		cls.sandbox.stop()
		super().tearDownClass()

	def setUp(self):
		frappe.set_user("Administrator")
		frappe.db.commit()

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_consent_stores_tokens_and_every_organisation(self):
		name = connect(self.sandbox, "Consent Test")
		conn = frappe.get_doc("Xero Connection", name)
		self.assertEqual(conn.status, "Connected")
		self.assertEqual(len(conn.tenants), 2)
		self.assertEqual(sum(t.is_default for t in conn.tenants), 1)
		self.assertTrue(all(t.xero_connection_id and t.tenant_name and t.base_currency for t in conn.tenants))
		self.assertTrue(get_decrypted_password("Xero Connection", name, "refresh_token"))
		# Secrets never reach the desk or REST: the stored field holds a mask only.
		self.assertNotIn(get_decrypted_password("Xero Connection", name, "access_token"), str(conn.as_dict()))

	def test_replayed_unknown_or_foreign_state_is_refused_and_nothing_is_stored(self):
		name = make_connection(self.sandbox, "State Test")
		params = consent(name, follow=False)
		xero_consent.complete_authorization(params["code"], params["state"])
		with self.assertRaises(OAuthStateError):
			xero_consent.complete_authorization(params["code"], params["state"])
		with self.assertRaises(OAuthStateError):
			xero_consent.complete_authorization("code", "made-up-state")

		make_user("xso-other-admin@example.com", ["System Manager"])
		params = consent(name, follow=False)
		frappe.set_user("xso-other-admin@example.com")
		with self.assertRaises(OAuthStateError):
			xero_consent.complete_authorization(params["code"], params["state"])

	def test_an_error_from_xero_is_shown_on_the_connection(self):
		name = make_connection(self.sandbox, "Denied Test")
		state = consent(name, follow=False)["state"]
		with self.assertRaisesRegex(frappe.ValidationError, "access_denied"):
			xero_consent.complete_authorization(None, state, "access_denied", None)
		frappe.db.commit()
		self.assertIn("access_denied", frappe.db.get_value("Xero Connection", name, "last_error"))
		self.assertEqual(frappe.db.get_value("Xero Connection", name, "status"), "Not Connected")

	def test_token_near_expiry_is_refreshed_and_rotated(self):
		name = connect(self.sandbox, "Refresh Test")
		old_access = get_decrypted_password("Xero Connection", name, "access_token")
		old_refresh = get_decrypted_password("Xero Connection", name, "refresh_token")
		self.assertEqual(xero_tokens.get_access_token(name), old_access)  # still valid: no call
		frappe.db.set_value("Xero Connection", name, "token_expires_at", "2000-01-01 00:00:00")
		frappe.db.commit()
		reset_calls(self.sandbox)
		new_access = xero_tokens.get_access_token(name)
		frappe.db.commit()  # the refresh committed in its own transaction
		self.assertNotEqual(new_access, old_access)
		self.assertNotEqual(get_decrypted_password("Xero Connection", name, "refresh_token"), old_refresh)
		self.assertEqual(sandbox_calls(self.sandbox)["token"].get("refresh_token"), 1)

	def test_ten_workers_refreshing_at_once_spend_one_refresh_token(self):
		name = connect(self.sandbox, "Race Test")
		expire_access_token(name)
		reset_calls(self.sandbox)
		tokens, errors = access_tokens_from_workers(name, 10)
		self.assertEqual(errors, [])
		frappe.db.commit()
		self.assertEqual(len(set(tokens)), 1)
		self.assertEqual(sandbox_calls(self.sandbox)["token"].get("refresh_token"), 1)
		self.assertEqual(frappe.db.get_value("Xero Connection", name, "status"), "Connected")

	def test_invalid_grant_needs_reconnect_notifies_and_stops_calls(self):
		name = connect(self.sandbox, "Revoked Test")
		refresh_token = get_decrypted_password("Xero Connection", name, "refresh_token")
		requests.post(
			f"{self.sandbox.url}/connect/revocation",
			data={"token": refresh_token},
			auth=("XSO-SANDBOX-CLIENT", "xso-sandbox-secret"),
			timeout=10,
		).raise_for_status()
		with self.assertRaises(NeedsReconnectError):
			xero_tokens.refresh(name, force=True)
		frappe.db.commit()
		self.assertEqual(frappe.db.get_value("Xero Connection", name, "status"), "Needs Reconnect")
		self.assertTrue(frappe.db.exists("Notification Log", {"document_name": name, "type": "Alert"}))
		reset_calls(self.sandbox)
		with self.assertRaises(NeedsReconnectError):
			xero_clients.client_for(name).organisation()
		self.assertEqual(sandbox_calls(self.sandbox)["total"], 0)

	def test_sync_is_incremental_and_fills_order_lines_from_xero_items(self):
		name = connect(self.sandbox, "Sync Test")
		summary = sync_connection(name)
		tenant = frappe.get_doc("Xero Connection", name).tenants[0].tenant_id
		first = summary[tenant]
		for kind in ("contacts", "items", "tax_rates", "accounts"):
			self.assertGreater(first[kind]["fetched"], 0)
			self.assertEqual(
				frappe.db.count(
					{
						"contacts": "Xero Contact",
						"items": "Xero Item",
						"tax_rates": "Xero Tax Rate",
						"accounts": "Xero Account",
					}[kind],
					{"connection": name, "tenant_id": tenant},
				),
				first[kind]["fetched"],
			)
		reset_calls(self.sandbox)
		again = sync_connection(name)[tenant]
		# Nothing changed in Xero: If-Modified-Since brings nothing back, and nothing is rewritten.
		self.assertEqual(
			(again["contacts"]["fetched"], again["items"]["fetched"], again["accounts"]["fetched"]), (0, 0, 0)
		)
		self.assertEqual(again["tax_rates"]["updated"], 0)

		customer = frappe.get_all(
			"Xero Contact", {"connection": name, "tenant_id": tenant}, pluck="name", limit=1
		)[0]
		item = frappe.get_all(
			"Xero Item",
			{"connection": name, "tenant_id": tenant, "tax_type": ["is", "set"]},
			["name", "unit_price", "tax_type", "account_code"],
			limit=1,
		)[0]
		order = frappe.get_doc(
			{
				"doctype": "Xero Sales Order",
				"customer": customer,
				"currency": "NZD",
				"items": [{"item": item.name, "qty": 2}],
			}
		).insert()
		line = order.items[0]
		self.assertEqual((order.connection, order.tenant_id), (name, tenant))
		self.assertEqual(float(line.unit_price), item.unit_price)
		self.assertEqual(line.tax_type, item.tax_type)
		self.assertEqual(line.account_code, item.account_code)
		self.assertTrue(line.description)
		self.assertEqual(
			float(line.tax_rate), frappe.db.get_value("Xero Tax Rate", line.tax, "effective_rate")
		)

		other = [t.tenant_id for t in frappe.get_doc("Xero Connection", name).tenants][1]
		foreign = frappe.get_all(
			"Xero Item", {"connection": name, "tenant_id": other}, pluck="name", limit=1
		)[0]
		with self.assertRaisesRegex(InvalidOrderError, "another Xero organisation"):
			frappe.get_doc(
				{
					"doctype": "Xero Sales Order",
					"customer": customer,
					"currency": "NZD",
					"items": [{"item": foreign, "qty": 1}],
				}
			).insert()

	def test_disconnect_removes_the_organisations_and_forgets_the_tokens(self):
		name = connect(self.sandbox, "Disconnect Test")
		refresh_token = get_decrypted_password("Xero Connection", name, "refresh_token")
		api.disconnect(name)
		frappe.db.commit()
		conn = frappe.get_doc("Xero Connection", name)
		self.assertEqual(conn.status, "Not Connected")
		self.assertEqual(conn.tenants, [])
		self.assertIsNone(
			get_decrypted_password("Xero Connection", name, "refresh_token", raise_exception=False)
		)
		# Xero no longer honours the consent.
		answer = requests.post(
			f"{self.sandbox.url}/connect/token",
			data={"grant_type": "refresh_token", "refresh_token": refresh_token},
			auth=("XSO-SANDBOX-CLIENT", "xso-sandbox-secret"),
			timeout=10,
		)
		self.assertEqual((answer.status_code, answer.json().get("error")), (400, "invalid_grant"))

	def test_only_system_managers_manage_connections(self):
		name = make_connection(self.sandbox, "Roles Test")
		make_user("xso-sales-conn@example.com", ["Xero Sales User", "Xero Sales Manager"])
		frappe.set_user("xso-sales-conn@example.com")
		for call in (api.authorize, api.refresh, api.disconnect, api.sync, api.health):
			with self.subTest(call=call.__name__), self.assertRaises(frappe.PermissionError):
				call(name)

	def test_bad_endpoints_are_refused(self):
		doc = frappe.get_doc(
			{
				"doctype": "Xero Connection",
				"connection_name": f"Bad URL {time.time()}",
				"client_id": "x",
				"client_secret": "y",
				"login_url": "http://example.com",
				"identity_url": self.sandbox.url,
				"api_url": self.sandbox.url,
			}
		)
		with self.assertRaisesRegex(frappe.ValidationError, "https"):
			doc.insert()
