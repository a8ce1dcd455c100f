"""Branding themes, payment terms and tracking come from Xero now:

- an organisation's typed Branding Theme ID becomes its Branding Theme link (the theme is a synced record
  named by its BrandingThemeID, which the next sync creates; one Xero no longer has is reported, not sent);
- contacts synced before the app kept their own theme and sales payment terms are all read again at the next
  sync (not only those changed since the last one).

The order lines' free-text Tracking (never sent to Xero) is left in its column; lines now pick Xero's options.
"""

import frappe


def execute():
	tenants = "`tabXero Connection Tenant`"
	if frappe.db.has_column("Xero Connection Tenant", "branding_theme_id"):
		frappe.db.sql(
			f"""update {tenants} set branding_theme = lower(trim(branding_theme_id))
			where coalesce(branding_theme_id, '') != '' and coalesce(branding_theme, '') = ''"""
		)
	frappe.db.sql(f"update {tenants} set contacts_synced_at = null")
