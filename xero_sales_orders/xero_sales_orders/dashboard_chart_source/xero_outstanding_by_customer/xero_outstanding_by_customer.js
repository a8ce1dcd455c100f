frappe.provide("frappe.dashboards.chart_sources");

frappe.dashboards.chart_sources["Xero Outstanding by Customer"] = {
	method: "xero_sales_orders.api.dashboard.outstanding_by_customer",
	filters: [],
};
