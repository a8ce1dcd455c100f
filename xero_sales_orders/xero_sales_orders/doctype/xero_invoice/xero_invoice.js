// Copyright (c) 2026, Xero Sales Orders developers
// For license information, please see license.txt

// References, descriptions and Xero's messages are shown as text, never as HTML; links only when safe.
xero_sales_orders.guard_text_fields("Xero Invoice");
xero_sales_orders.guard_text_fields("Xero Invoice Item");

frappe.ui.form.on("Xero Invoice", {
	refresh(frm) {
		const colors = { Pushed: "green", Pending: "orange", Failed: "red" };
		frm.page.set_indicator(__(frm.doc.push_state), colors[frm.doc.push_state] || "gray");
		const open = (url) => window.open(url, "_blank", "noopener,noreferrer");
		const xero_url = xero_sales_orders.safe_link(frm.doc.xero_url);
		if (xero_url) {
			frm.add_custom_button(__("View in Xero"), () => open(xero_url));
		}
		const online_url = xero_sales_orders.safe_link(frm.doc.online_url);
		if (online_url) {
			frm.add_custom_button(__("Online Invoice"), () => open(online_url));
		}
		// Sending an invoice again is writing it: the invoice's write permission decides.
		const can_retry = frappe.perm.has_perm(frm.doctype, 0, "write", frm.doc);
		if (can_retry && frm.doc.push_state !== "Pushed") {
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
		// Credit, Approve & Email, Email (xero_invoice_actions.js); the server checks the rights again.
		const can = xero_sales_orders.invoice_actions(frm.doc);
		if (can.approve_and_email) {
			frm.add_custom_button(__("Approve & Email"), () =>
				xero_sales_orders.email_invoice(frm.doc.name, true, () => frm.reload_doc())
			);
		} else if (can.email) {
			frm.add_custom_button(__("Email"), () =>
				xero_sales_orders.email_invoice(frm.doc.name, false, () => frm.reload_doc())
			);
		}
		if (can.credit) {
			frm.add_custom_button(__("Credit"), () =>
				xero_sales_orders.credit_dialog(frm.doc.name, () => frm.reload_doc())
			);
		}
		if (frm.doc.sent_to_contact) {
			frm.dashboard.add_indicator(__("Sent to customer"), "green");
		}
		const notes_field = frm.get_field("credit_notes_html");
		if (notes_field && !frm.is_new()) {
			frappe
				.call({
					method: "xero_sales_orders.api.invoices.invoice_credit_notes",
					args: { invoice: frm.doc.name },
				})
				.then((r) =>
					notes_field.$wrapper.html(xero_sales_orders.credit_notes_html(r.message || [], frm.doc.currency))
				);
		}
		if (frm.doc.push_state === "Failed" && frm.doc.last_error) {
			frm.dashboard.set_headline_alert(frappe.utils.escape_html(frm.doc.last_error), "red");
		} else if (frm.doc.totals_differ) {
			frm.dashboard.set_headline_alert(
				frappe.utils.escape_html(__("Xero's totals differ from the app's: {0}", [frm.doc.totals_difference || ""])),
				"red"
			);
		}
	},
});
