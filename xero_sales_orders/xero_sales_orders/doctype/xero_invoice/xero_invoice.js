// Copyright (c) 2026, Xero Sales Orders developers
// For license information, please see license.txt

frappe.ui.form.on("Xero Invoice", {
	refresh(frm) {
		const colors = { Pushed: "green", Pending: "orange", Failed: "red" };
		frm.page.set_indicator(__(frm.doc.push_state), colors[frm.doc.push_state] || "gray");
		if (frm.doc.xero_url) {
			frm.add_custom_button(__("View in Xero"), () => window.open(frm.doc.xero_url, "_blank"));
		}
		if (frm.doc.online_url) {
			frm.add_custom_button(__("Online Invoice"), () => window.open(frm.doc.online_url, "_blank"));
		}
		const is_manager = ["Xero Sales Manager", "System Manager"].some((r) => frappe.user.has_role(r));
		if (is_manager && frm.doc.push_state !== "Pushed") {
			frm.add_custom_button(__("Retry push"), () =>
				frappe
					.call({
						method: "xero_sales_orders.api.orders.retry_push",
						args: { invoice: frm.doc.name },
						freeze: true,
						freeze_message: __("Sending to Xero..."),
					})
					.then(() => frm.reload_doc())
			).addClass("btn-primary");
		}
		if (frm.doc.push_state === "Failed" && frm.doc.last_error) {
			frm.dashboard.set_headline_alert(frappe.utils.escape_html(frm.doc.last_error), "red");
		}
	},
});
