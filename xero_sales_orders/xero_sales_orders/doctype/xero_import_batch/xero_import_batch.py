# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

from frappe import _
from frappe.model.document import Document

from xero_sales_orders.exceptions import throw
from xero_sales_orders.services import importing


class XeroImportBatch(Document):
	def validate(self):
		if self.is_new():
			self.status = importing.DRAFT
		importing.validate_settings(self)
		if importing.settings_changed(self):
			if self.status == importing.IMPORTING:
				throw(
					_("Cannot change the settings while the batch is importing"), importing.ImportStateError
				)
			# What was previewed no longer matches the settings: preview again before importing.
			self.status = importing.DRAFT
