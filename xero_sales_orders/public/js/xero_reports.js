// Filters shared by the Xero Sales Orders reports; each report adds its own after these.
frappe.provide("xero_sales_orders");

xero_sales_orders.report_filters = function (statuses) {
	return [
		{ fieldname: "customer", label: __("Customer"), fieldtype: "Link", options: "Xero Contact" },
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date" },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date" },
		{
			fieldname: "status",
			label: __("Status"),
			fieldtype: "Select",
			options: ["", ...(statuses || ["Open", "Partially Invoiced", "Fully Invoiced", "Closed"])],
		},
		{ fieldname: "po_number", label: __("PO Reference"), fieldtype: "Data" },
		{ fieldname: "connection", label: __("Xero Connection"), fieldtype: "Link", options: "Xero Connection" },
		{ fieldname: "organisation", label: __("Organisation"), fieldtype: "Data" },
		{ fieldname: "currency", label: __("Currency"), fieldtype: "Data" },
		{ fieldname: "tracking_option", label: __("Tracking Option"), fieldtype: "Link", options: "Xero Tracking Option" },
	];
};
