# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

from urllib.parse import urlparse

import frappe
from frappe import _
from frappe.model.document import Document

from xero_sales_orders.exceptions import throw
from xero_sales_orders.permissions import require_role_permission
from xero_sales_orders.services.org_masters import validate_tenant_defaults
from xero_sales_orders.services.xero_consent import redirect_uri


class XeroConnection(Document):
	def validate(self):
		# Its URLs receive the tokens and the client secret, its webhook key signs Xero's events: only the
		# roles that may write it (System Manager) change it, whatever shares exist.
		require_role_permission(self, "create" if self.is_new() else "write")
		# Tokens are written only by the token services (under the row lock); a form save must neither
		# store nor, as Frappe does for an empty Password field, delete them.
		self.flags.ignore_save_passwords = ["access_token", "refresh_token"]
		self.validate_urls()
		self.validate_default_tenant()
		validate_tenant_defaults(self)  # branding theme of its own organisation, due-date terms Xero takes
		self.redirect_uri = redirect_uri()

	def validate_urls(self):
		for field in ("login_url", "identity_url", "api_url"):
			url = (self.get(field) or "").strip().rstrip("/")
			parsed = urlparse(url)
			loopback = parsed.hostname in ("127.0.0.1", "localhost", "::1")
			if (
				parsed.scheme not in ("https", "http")
				or not parsed.hostname
				or (parsed.scheme == "http" and not loopback)
			):
				throw(
					_(
						"{0} must be an https URL (plain http only for a local sandbox on 127.0.0.1): {1}"
					).format(self.meta.get_label(field), url or _("empty")),
					frappe.ValidationError,
				)
			self.set(field, url)

	def validate_default_tenant(self):
		defaults = [t for t in self.tenants if t.is_default]
		if len(defaults) > 1:
			throw(_("Only one organisation can be the default"), frappe.ValidationError)
		if self.tenants and not defaults:
			self.tenants[0].is_default = 1

	def on_trash(self):
		require_role_permission(self, "delete")
