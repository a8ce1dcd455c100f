frappe.query_reports["Order Book by Customer"] = {
	filters: xero_sales_orders.report_filters(),
};
