"""Domain rules of Xero Sales Orders: money, pricing, statuses, invoice plans. No Frappe import here."""
