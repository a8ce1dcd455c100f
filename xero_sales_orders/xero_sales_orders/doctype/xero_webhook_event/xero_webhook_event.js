// Copyright (c) 2026, Xero Sales Orders developers
// For license information, please see license.txt

// The event's error may quote Xero's texts: shown as text, never as HTML.
xero_sales_orders.guard_text_fields("Xero Webhook Event");

frappe.ui.form.on("Xero Webhook Event", {
	refresh(frm) {
		const manager = frappe.user.has_role(frappe.boot.xso_manager_roles || []);
		if (frm.doc.status === "Failed" && manager) {
			frm.add_custom_button(__("Retry"), () =>
				frappe.call({
					method: "xero_sales_orders.api.webhook.retry_events",
					args: { events: [frm.doc.name] },
					freeze: true,
					callback: () => {
						frappe.show_alert({ message: __("Queued again"), indicator: "green" });
						frm.reload_doc();
					},
				})
			);
		}
	},
});
