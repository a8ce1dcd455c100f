"""Reconciliation (Xero -> here): every quarter of an hour, the invoices changed in Xero since the last run,
so that whatever a lost webhook missed still reaches the local invoices."""

from datetime import timezone

import frappe

from xero_sales_orders.services.credit_note_updates import apply_xero_credit_notes
from xero_sales_orders.services.invoice_updates import apply_xero_invoices
from xero_sales_orders.services.master_sync import OVERLAP, utc_now_naive
from xero_sales_orders.services.xero_clients import client_for
from xero_sales_orders.services.xero_endpoints import CONNECTION
from xero_sales_orders.xero.errors import XeroAPIError

RECONCILE_BATCH = 200


def reconcile(connection: str | None = None) -> dict:
	"""Scheduled: applies every ACCREC invoice and ACCRECCREDIT credit note changed in Xero since the last
	run (If-Modified-Since), catching whatever a lost webhook missed. One unreachable organisation costs one
	short try, not the others' turn."""
	applied = {}
	tenants = frappe.get_all(
		"Xero Connection Tenant",
		filters={"parenttype": CONNECTION},
		fields=["name", "parent", "tenant_id", "invoices_reconciled_at"],
	)
	filters = {"status": "Connected", **({"name": connection} if connection else {})}
	connected = set(frappe.get_all(CONNECTION, filters, pluck="name"))
	for tenant in tenants:
		if tenant.parent not in connected:
			continue
		started = utc_now_naive()
		since = tenant.invoices_reconciled_at
		client = client_for(tenant.parent, tenant.tenant_id, max_retries=1)
		try:
			count, page = 0, []
			for element in client.invoices(
				where='Type=="ACCREC"',
				modified_since=(since.replace(tzinfo=timezone.utc) - OVERLAP) if since else None,
			):
				page.append(element)
				if len(page) == RECONCILE_BATCH:
					count += len(apply_xero_invoices(page, tenant.parent, tenant.tenant_id))
					page = []
			count += len(apply_xero_invoices(page, tenant.parent, tenant.tenant_id))
			# Credit notes changed since (one call a page): one raised in Xero against an invoice of ours shows
			# up, and ours follow Xero's status (a void returns nothing to the order any more).
			notes = list(
				client.credit_notes(
					where='Type=="ACCRECCREDIT"',
					modified_since=(since.replace(tzinfo=timezone.utc) - OVERLAP) if since else None,
				)
			)
			for start in range(0, len(notes), RECONCILE_BATCH):
				apply_xero_credit_notes(
					client, notes[start : start + RECONCILE_BATCH], tenant.parent, tenant.tenant_id
				)
			frappe.db.set_value("Xero Connection Tenant", tenant.name, "invoices_reconciled_at", started)
			frappe.db.commit()
			applied[tenant.tenant_id] = count
		except (XeroAPIError, OSError, frappe.ValidationError):  # a requests error is an OSError
			frappe.db.rollback()
			frappe.log_error(title=f"Xero reconciliation failed for {tenant.parent} / {tenant.tenant_id}")
		finally:
			client.close()
	return applied
