"""A connection's health as the desk shows it: its status and token times, its last sync and Xero's rate figures,
when Xero's webhooks last reached it and what of them waits or failed."""

import frappe

from xero_sales_orders.services.xero_clients import rate_figures
from xero_sales_orders.services.xero_endpoints import CONNECTION


def health(name: str) -> dict:
	conn = frappe.get_doc(CONNECTION, name)
	figures = rate_figures(name)
	return {
		"status": conn.status,
		"token_expires_at": conn.token_expires_at,
		"refresh_token_issued_at": conn.refresh_token_issued_at,
		"last_refresh": conn.last_refresh,
		"last_sync": conn.last_sync,
		"last_error": conn.last_error,
		"rate_figures": figures,
		"webhooks": webhook_health(name),
		"organisations": [
			{"tenant_id": t.tenant_id, "name": t.tenant_name, "is_default": t.is_default}
			for t in conn.tenants
		],
	}


def webhook_health(name: str) -> dict:
	"""When Xero last reached us for this connection, and what is waiting or failed."""
	counts = dict(
		frappe.get_all(
			"Xero Webhook Event",
			filters={"connection": name},
			fields=["status", "count(*) as n"],
			group_by="status",
			as_list=True,
		)
	)
	return {
		"last_received": frappe.db.get_value("Xero Webhook Event", {"connection": name}, "max(creation)"),
		"queued": counts.get("Queued", 0),
		"failed": counts.get("Failed", 0),
		"processed": counts.get("Processed", 0),
	}
