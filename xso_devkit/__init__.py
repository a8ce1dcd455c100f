"""Development tooling of the checkout: the demo site, the Frappe-tier tests' sandbox connections, and a runner
for functions of these packages on a site. It may import both the app (xero_sales_orders) and the Xero sandbox
(xero_sandbox); neither imports it, and the app's distribution leaves it out (tools/xso_dev.py puts the
checkout on the bench env's import path)."""
