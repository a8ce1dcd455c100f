// Copyright (c) 2026, Xero Sales Orders developers
// For license information, please see license.txt

frappe.listview_settings["Xero Webhook Event"] = {
	add_fields: ["status"],
	get_indicator(doc) {
		const colors = { Queued: "orange", Processed: "green", Ignored: "gray", Failed: "red" };
		return [__(doc.status), colors[doc.status] || "gray", `status,=,${doc.status}`];
	},
	onload(listview) {
		if (!frappe.user.has_role(frappe.boot.xso_manager_roles || [])) return;
		listview.page.add_action_item(__("Retry"), () => {
			const events = listview.get_checked_items(true);
			frappe.call({
				method: "xero_sales_orders.api.webhook.retry_events",
				args: { events },
				freeze: true,
				callback: (r) => {
					frappe.show_alert({
						message: __("{0} events queued again", [r.message.queued]),
						indicator: "green",
					});
					listview.refresh();
				},
			});
		});
	},
};
