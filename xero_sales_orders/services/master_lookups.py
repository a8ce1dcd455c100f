"""Order lines filled from the synced Xero masters."""

import frappe


def find_account(connection: str, tenant_id: str, account_code: str | None) -> str | None:
	if not account_code:
		return None
	return frappe.db.get_value(
		"Xero Account", {"connection": connection, "tenant_id": tenant_id, "account_code": account_code}
	)


def find_tax_rate(connection: str, tenant_id: str, tax_type: str | None) -> str | None:
	if not tax_type:
		return None
	return frappe.db.get_value(
		"Xero Tax Rate", {"connection": connection, "tenant_id": tenant_id, "tax_type": tax_type}
	)


def item_line_defaults(item: str) -> dict:
	"""Description, unit price, account and tax of a Xero item, as links to the same organisation's masters."""
	doc = frappe.get_cached_doc("Xero Item", item)
	tax = find_tax_rate(doc.connection, doc.tenant_id, doc.tax_type)
	tax_rate = frappe.db.get_value("Xero Tax Rate", tax, "effective_rate") if tax else None
	return {
		"item_code": doc.item_code,
		"description": doc.description or doc.item_name or doc.item_code,
		"unit_price": doc.unit_price,
		"account": find_account(doc.connection, doc.tenant_id, doc.account_code),
		"account_code": doc.account_code,
		"tax": tax,
		"tax_type": doc.tax_type,
		"tax_rate": tax_rate,
	}


def starting_currency(connection: str | None, tenant_id: str | None, customer: str | None) -> str | None:
	"""The currency a new order starts in: the customer's own default currency in Xero, else its
	organisation's base currency (None when neither is known)."""
	if customer:
		currency = frappe.db.get_value("Xero Contact", customer, "default_currency")
		if currency:
			return currency
	if connection and tenant_id:
		return frappe.db.get_value(
			"Xero Connection Tenant", {"parent": connection, "tenant_id": tenant_id}, "base_currency"
		)
	return None
