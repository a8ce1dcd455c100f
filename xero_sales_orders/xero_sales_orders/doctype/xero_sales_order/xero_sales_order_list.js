// Copyright (c) 2026, Xero Sales Orders developers
// For license information, please see license.txt

frappe.listview_settings["Xero Sales Order"] = {
	add_fields: ["status", "per_invoiced", "outstanding_amount", "currency"],
	has_indicator_for_draft: true,
	get_indicator(doc) {
		const colors = {
			Draft: "red",
			Open: "orange",
			"Partially Invoiced": "yellow",
			"Fully Invoiced": "green",
			Closed: "gray",
			Cancelled: "red",
		};
		return [__(doc.status), colors[doc.status] || "gray", `status,=,${doc.status}`];
	},
};
