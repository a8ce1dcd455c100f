// Copyright (c) 2026, Xero Sales Orders developers
// For license information, please see license.txt

frappe.listview_settings["Xero Credit Note"] = {
	add_fields: ["status", "push_state"],
	get_indicator(doc) {
		if (doc.push_state === "Failed") return [__("Push Failed"), "red", "push_state,=,Failed"];
		if (doc.push_state === "Pending") return [__("Not in Xero yet"), "orange", "push_state,=,Pending"];
		const colors = { DRAFT: "gray", SUBMITTED: "blue", AUTHORISED: "blue", PAID: "green", VOIDED: "red", DELETED: "red" };
		return [doc.status, colors[doc.status] || "gray", `status,=,${doc.status}`];
	},
};
