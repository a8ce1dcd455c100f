app_name = "xero_sales_orders"
app_title = "Xero Sales Orders"
app_publisher = "Xero Sales Orders developers"
app_description = "Sales orders with line-item invoicing for businesses whose books are in Xero"
app_email = "dev@example.com"
app_license = "mit"

after_install = "xero_sales_orders.install.after_install"
# The desk's copy of the manager roles, for the one action no doctype permission stands for (see permissions.py).
extend_bootinfo = ["xero_sales_orders.permissions.extend_bootinfo"]

before_uninstall = "xero_sales_orders.install.before_uninstall"
# A Xero rate limit answered as 429 (or an outage as 503) carries Xero's Retry-After; see api/xero_answers.py.
after_request = ["xero_sales_orders.api.xero_answers.add_retry_after"]

scheduler_events = {
	# Refresh tokens long before Xero's 60-day idle expiry, and keep the synced masters current.
	"daily": ["xero_sales_orders.services.xero_tokens.keep_tokens_alive"],
	"hourly": ["xero_sales_orders.services.master_sync.sync_all"],
	"cron": {
		# Pending invoices go out as soon as their backoff has passed; reconciliation catches lost webhooks.
		"* * * * *": [
			"xero_sales_orders.services.invoice_push.retry_pending",
			# Credit notes (and their allocations) still Pending; History notes that batch pushes left.
			"xero_sales_orders.services.credit_note_push.retry_pending",
			"xero_sales_orders.services.invoice_actions.note_pending_history",
			"xero_sales_orders.services.webhook_drain.drain_scheduled",
			# The quotes of fully invoiced orders that Xero could not be told about yet (quote_invoicing.py).
			"xero_sales_orders.services.quote_invoicing.retry_pending",
		],
		"*/15 * * * *": ["xero_sales_orders.services.reconciliation.reconcile"],
	},
}

# The reports' shared filters (public/js/xero_reports.js) must be loaded before a report's own script, and the
# escaping and safe-link helpers (public/js/xero_safe.js) before the forms' scripts.
app_include_js = [
	"/assets/xero_sales_orders/js/xero_safe.js",
	"/assets/xero_sales_orders/js/xero_reports.js",
	# The "From Xero quote" dialog of the order list (and of the import batch for quotes).
	"/assets/xero_sales_orders/js/xero_quotes.js",
	# Credit, Approve & Email and Email on an invoice, from its form and from its order's invoice list.
	"/assets/xero_sales_orders/js/xero_invoice_actions.js",
]

# Every Xero Contact link search shows each contact's organisation (two "Boom FM", one per organisation).
standard_queries = {"Xero Contact": "xero_sales_orders.api.masters.contact_query"}

doc_events = {
	# The webhook endpoint keeps connections' keys and organisations, and the time zone, in memory; a change
	# invalidates them.
	"Xero Connection": {
		"on_update": "xero_sales_orders.services.webhook_config.forget_webhook_config",
		"on_trash": "xero_sales_orders.services.webhook_config.forget_webhook_config",
	},
	"System Settings": {"on_update": "xero_sales_orders.services.webhook_config.forget_webhook_config"},
	# Frappe consults shares after role permissions and the app's controllers, so a share of write on a
	# connection or a master would beat every role rule: a share may grant only what the user's roles grant.
	"DocShare": {"validate": "xero_sales_orders.permissions.validate_share"},
}
