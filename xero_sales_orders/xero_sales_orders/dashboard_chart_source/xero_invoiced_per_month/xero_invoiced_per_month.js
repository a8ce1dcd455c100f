frappe.provide("frappe.dashboards.chart_sources");

frappe.dashboards.chart_sources["Xero Invoiced per Month"] = {
	method: "xero_sales_orders.api.dashboard.invoiced_per_month",
	filters: [],
};
