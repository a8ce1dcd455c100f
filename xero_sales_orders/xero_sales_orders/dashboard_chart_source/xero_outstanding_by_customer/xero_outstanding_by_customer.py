# The data comes from xero_sales_orders.api.dashboard.outstanding_by_customer (see the .js file).
