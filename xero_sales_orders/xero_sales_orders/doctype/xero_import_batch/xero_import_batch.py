# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

from frappe import _
from frappe.model.document import Document

from xero_sales_orders.exceptions import ImportStateError, throw
from xero_sales_orders.permissions import require_role_permission
from xero_sales_orders.services.import_runner import is_running
from xero_sales_orders.services.import_settings import (
	DRAFT,
	IMPORTING,
	PREVIEWING,
	settings_changed,
	validate_settings,
)
from xero_sales_orders.services.import_sql import delete_batch_rows

# Written only by the preview and the import (frappe.db.set_value); a save keeps what they stored.
APP_FIELDS = (
	"status",
	"error",
	"invoices_fetched",
	"groups_count",
	"orders_to_create",
	"skipped_count",
	"conflicts_count",
	"orders_created",
	"previewed_at",
	"imported_at",
	"import_log",
	"job_id",
	"pages_fetched",
	"invoices_total",
	"invoices_grouped",
	"fetch_cursor",
	"group_cursor",
	"stop_requested",
)


class XeroImportBatch(Document):
	def validate(self):
		require_role_permission(self, "create" if self.is_new() else "write")
		self.keep_app_fields()
		if self.is_new():
			self.status = DRAFT
		validate_settings(self)
		if settings_changed(self):
			if self.status in (PREVIEWING, IMPORTING):
				throw(
					_("Cannot change the settings while the batch is {0}").format(_(self.status).lower()),
					ImportStateError,
				)
			# What was previewed no longer matches the settings: preview again before importing.
			self.status = DRAFT

	def on_trash(self):
		require_role_permission(self, "delete")
		if is_running(self):
			throw(
				_("Batch {0} is {1}: stop it first").format(self.name, _(self.status).lower()),
				ImportStateError,
			)
		# The preview's stored invoices and groups go with it (the orders it created stay).
		for doctype in ("Xero Import Group", "Xero Import Invoice"):
			delete_batch_rows(doctype, self.name, commit=False)

	def keep_app_fields(self):
		"""The preview's and the import's figures, status and log: never from a request."""
		stored = self.get_doc_before_save()
		for field in APP_FIELDS:
			self.set(field, stored.get(field) if stored else None)
