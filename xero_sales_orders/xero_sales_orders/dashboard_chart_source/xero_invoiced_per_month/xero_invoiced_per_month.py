# The data comes from xero_sales_orders.api.dashboard.invoiced_per_month (see the .js file).
