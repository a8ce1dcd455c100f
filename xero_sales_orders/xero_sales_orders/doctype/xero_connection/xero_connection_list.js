frappe.listview_settings["Xero Connection"] = {
	get_indicator(doc) {
		const colors = { Connected: "green", "Needs Reconnect": "red", Error: "red", "Not Connected": "gray" };
		return [__(doc.status), colors[doc.status] || "gray", `status,=,${doc.status}`];
	},
};
