frappe.query_reports["Order Book by Customer"] = {
	formatter: xero_sales_orders.report_formatter,
	filters: xero_sales_orders.report_filters(),
};
