frappe.query_reports["Uninvoiced Orders"] = {
	formatter: xero_sales_orders.report_formatter,
	filters: [
		...xero_sales_orders.report_filters(["Open", "Partially Invoiced"]),
		{
			fieldname: "age_based_on",
			label: __("Age Based On"),
			fieldtype: "Select",
			options: ["Order Date", "Expected Date"],
			default: "Order Date",
		},
	],
};
