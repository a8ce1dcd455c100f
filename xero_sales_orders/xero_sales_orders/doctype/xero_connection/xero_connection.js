// Copyright (c) 2026, Xero Sales Orders developers
// For license information, please see license.txt

const XSO_CONNECTION_API = "xero_sales_orders.api.connection";

frappe.ui.form.on("Xero Connection", {
	refresh(frm) {
		// Connecting, syncing, refreshing and disconnecting are writing the connection (System Managers only).
		if (frm.is_new() || !frappe.perm.has_perm(frm.doctype, 0, "write", frm.doc)) return;
		const call = (method, args = {}) =>
			frappe.call({
				method: `${XSO_CONNECTION_API}.${method}`,
				args: { connection: frm.doc.name, ...args },
				freeze: true,
				freeze_message: __("Talking to Xero..."),
			});
		frm.add_custom_button(
			frm.doc.status === "Connected" ? __("Reconnect to Xero") : __("Connect to Xero"),
			() => call("authorize").then((r) => (window.location.href = r.message.url))
		).addClass(frm.doc.status === "Connected" ? "" : "btn-primary");
		if (frm.doc.status === "Connected") {
			frm.add_custom_button(__("Sync now"), () =>
				call("sync").then((r) => {
					const lines = Object.entries(r.message || {}).map(([tenant, kinds]) => {
						const parts = Object.entries(kinds).map(
							([kind, c]) =>
								`${kind}: ${c.fetched} fetched, ${c.created} new, ${c.updated} changed` +
								(c.deleted ? `, ${c.deleted} ${__("no longer in Xero")}` : "") +
								(c.organisation_theme_deleted ? `, <b>${__("the organisation's branding theme was deleted in Xero")}</b>` : "")
						);
						return `<b>${frappe.utils.escape_html(tenant)}</b>: ${parts.join("; ")}`;
					});
					frappe.msgprint({ title: __("Synced from Xero"), message: lines.join("<br>"), indicator: "green" });
					frm.reload_doc();
				})
			);
			frm.add_custom_button(__("Refresh tokens"), () => call("refresh").then(() => frm.reload_doc()), __("Actions"));
			frm.add_custom_button(
				__("Disconnect"),
				() =>
					frappe.confirm(
						__("Disconnect every organisation of this connection from Xero and forget its tokens?"),
						() => call("disconnect").then(() => frm.reload_doc())
					),
				__("Actions")
			);
		}
		const colors = { Connected: "green", "Needs Reconnect": "red", Error: "red", "Not Connected": "gray" };
		frm.page.set_indicator(__(frm.doc.status), colors[frm.doc.status] || "gray");
		if (frm.doc.status === "Needs Reconnect") {
			frm.dashboard.set_headline_alert(
				__("Xero no longer accepts this connection's tokens. Click Connect to Xero to sign in again."),
				"red"
			);
		}
		call("health").then((r) => {
			const w = (r.message && r.message.webhooks) || {};
			frm.dashboard.add_comment(
				__("Last webhook from Xero: {0}; events queued {1}, failed {2}", [
					w.last_received ? frappe.datetime.comment_when(w.last_received) : __("never"),
					w.queued || 0,
					w.failed || 0,
				]),
				w.failed ? "red" : "blue",
				true
			);
			const f = (r.message && r.message.rate_figures) || {};
			if (f.minute !== undefined) {
				frm.dashboard.add_comment(
					__("Xero calls left: {0} this minute, {1} today (seen {2})", [f.minute, f.day, f.at || ""]),
					"blue",
					true
				);
			}
		});
	},
});

// An organisation's branding theme is picked among its own themes that Xero still has (synced by Sync now).
frappe.ui.form.on("Xero Connection", {
	setup(frm) {
		frm.set_query("branding_theme", "tenants", (doc, cdt, cdn) => ({
			filters: { connection: doc.name, tenant_id: locals[cdt][cdn].tenant_id, status: "ACTIVE" },
		}));
	},
});
