frappe.query_reports["Order Invoicing Status"] = {
	filters: xero_sales_orders.report_filters(),
};
