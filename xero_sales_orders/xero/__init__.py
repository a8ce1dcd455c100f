"""Xero client: OAuth, REST calls with retries and rate limits, webhook signatures. Imports nothing from Frappe."""
