frappe.query_reports["Order Invoicing Status"] = {
	formatter: xero_sales_orders.report_formatter,
	filters: xero_sales_orders.report_filters(),
};
