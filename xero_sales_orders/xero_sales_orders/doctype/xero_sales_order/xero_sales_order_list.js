// Copyright (c) 2026, Xero Sales Orders developers
// For license information, please see license.txt

frappe.listview_settings["Xero Sales Order"] = {
	add_fields: ["status", "per_invoiced", "outstanding_amount", "currency"],
	has_indicator_for_draft: true,
	onload(listview) {
		// "From Xero Quote": an order made from an accepted Xero quote (public/js/xero_quotes.js).
		xero_sales_orders.quotes.add_list_button(listview);
	},
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
