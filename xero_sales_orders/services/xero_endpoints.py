"""Where a Xero Connection's Xero is: the doctype's name and the login, identity and API endpoints its row
names (Xero's own, or the sandbox's)."""

from xero_sales_orders.xero import oauth

CONNECTION = "Xero Connection"


def endpoints(conn) -> oauth.Endpoints:
	return oauth.Endpoints(
		login_url=conn.login_url.rstrip("/"),
		identity_url=conn.identity_url.rstrip("/"),
		api_url=conn.api_url.rstrip("/"),
	)
