// Copyright (c) 2026, Xero Sales Orders developers
// For license information, please see license.txt

// Numbers, descriptions and Xero's messages are shown as text, never as HTML; links only when safe.
xero_sales_orders.guard_text_fields("Xero Credit Note");
xero_sales_orders.guard_text_fields("Xero Credit Note Item");

frappe.ui.form.on("Xero Credit Note", {
	refresh(frm) {
		const colors = { Pushed: "green", Pending: "orange", Failed: "red" };
		frm.page.set_indicator(__(frm.doc.push_state), colors[frm.doc.push_state] || "gray");
		const xero_url = xero_sales_orders.safe_link(frm.doc.xero_url);
		if (xero_url) {
			frm.add_custom_button(__("View in Xero"), () => window.open(xero_url, "_blank", "noopener,noreferrer"));
		}
		// Sending a credit note again is writing it: its write permission decides (the server checks again).
		if (frappe.perm.has_perm(frm.doctype, 0, "write", frm.doc) && frm.doc.push_state !== "Pushed") {
			frm.add_custom_button(__("Retry push"), () =>
				frappe
					.call({
						method: "xero_sales_orders.api.invoices.retry_credit_note",
						args: { credit_note: frm.doc.name },
						freeze: true,
						freeze_message: __("Sending to Xero..."),
					})
					.then(() => frm.reload_doc())
			).addClass("btn-primary");
		}
		if (frm.doc.last_error) {
			frm.dashboard.set_headline_alert(frappe.utils.escape_html(frm.doc.last_error), "red");
		}
	},
});
