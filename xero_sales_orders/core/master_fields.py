"""Xero's contacts, items, tax rates and accounts mapped onto the app's local master records."""

from datetime import datetime
from decimal import Decimal

from xero_sales_orders.xero.parsing import parse_xero_date

from .payment_terms import sales_terms


def _utc_naive(value) -> datetime | None:
	# Frappe stores naive datetimes; the app keeps Xero's timestamps in UTC.
	moment = parse_xero_date(value) if isinstance(value, str) else value
	return moment.replace(tzinfo=None) if moment else None


# Xero's contact Name holds up to 255 characters, as the app's contact and customer-name columns do.
CONTACT_NAME_LENGTH = 255


def postal_address(addresses, prefer=("POBOX", "STREET")) -> str | None:
	"""One of Xero's addresses as lines of text: the postal (POBOX) one, which Xero prints on invoices, else
	the street one; None when neither has anything in it."""
	by_type = {}
	for address in addresses or []:
		if isinstance(address, dict):
			by_type.setdefault(str(address.get("AddressType") or "").upper(), address)
	for kind in prefer:
		address = by_type.get(kind)
		if not address:
			continue
		place = " ".join(
			str(address.get(k) or "").strip() for k in ("City", "Region", "PostalCode") if address.get(k)
		)
		lines = [
			f"Attn: {address['AttentionTo']}".strip() if address.get("AttentionTo") else "",
			*(str(address.get(f"AddressLine{n}") or "").strip() for n in range(1, 5)),
			place.strip(),
			str(address.get("Country") or "").strip(),
		]
		text = "\n".join(line for line in lines if line)
		if text:
			return text
	return None


def organisation_fields(organisation: dict) -> dict:
	"""What the order confirmation's seller block prints of Xero's ``/Organisation``, kept on the tenant row."""
	return {
		"legal_name": organisation.get("LegalName") or organisation.get("Name") or None,
		"organisation_address": postal_address(organisation.get("Addresses"), ("STREET", "POBOX")),
		"tax_number": organisation.get("TaxNumber") or None,
	}


def contact_fields(contact: dict) -> dict:
	return {
		"contact_id": contact["ContactID"],
		"contact_name": (contact.get("Name") or "")[:CONTACT_NAME_LENGTH],
		"contact_status": contact.get("ContactStatus") or "ACTIVE",
		"email": contact.get("EmailAddress") or None,
		"account_number": contact.get("AccountNumber") or None,
		"default_currency": contact.get("DefaultCurrency") or None,
		"sales_account_code": contact.get("SalesDefaultAccountCode") or None,
		"sales_tax_type": contact.get("AccountsReceivableTaxType") or None,
		"address": postal_address(contact.get("Addresses")),
		"is_customer": 1 if contact.get("IsCustomer") else 0,
		# Xero's sales defaults of the contact: its own branding theme and sales payment terms.
		"branding_theme": (
			str((contact.get("BrandingTheme") or {}).get("BrandingThemeID") or "").lower() or None
		),
		"sales_terms_day": sales_terms(contact)[0] or 0,  # an Int column: 0 when the contact has no terms
		"sales_terms_type": sales_terms(contact)[1],
		"xero_updated_at": _utc_naive(contact.get("UpdatedDateUTC")),
	}


def item_fields(item: dict) -> dict:
	sales = item.get("SalesDetails") or {}
	return {
		"item_id": item["ItemID"],
		"item_code": item.get("Code") or "",
		"item_name": item.get("Name") or None,
		"description": item.get("Description") or None,
		"is_sold": 0 if item.get("IsSold") is False else 1,
		"unit_price": Decimal(str(sales.get("UnitPrice") or 0)),
		"account_code": sales.get("AccountCode") or None,
		"tax_type": sales.get("TaxType") or None,
		"xero_updated_at": _utc_naive(item.get("UpdatedDateUTC")),
	}


def tax_rate_fields(rate: dict) -> dict:
	effective = Decimal(str(rate.get("EffectiveRate") if rate.get("EffectiveRate") is not None else 0))
	return {
		"tax_type": rate["TaxType"],
		"tax_rate_name": rate.get("Name") or rate["TaxType"],
		"effective_rate": effective,
		"status": rate.get("Status") or "ACTIVE",
		"can_apply_to_revenue": 1 if rate.get("CanApplyToRevenue", True) else 0,
		"title": f"{rate.get('Name') or rate['TaxType']} ({format(effective.normalize(), 'f')}%)",
	}


def account_fields(account: dict) -> dict:
	return {
		"account_id": account["AccountID"],
		"account_code": account.get("Code") or "",
		"account_name": account.get("Name") or None,
		"account_type": account.get("Type") or None,
		"account_class": account.get("Class") or None,
		"status": account.get("Status") or "ACTIVE",
		"tax_type": account.get("TaxType") or None,
		"title": f"{account.get('Code') or ''} {account.get('Name') or ''}".strip(),
		"xero_updated_at": _utc_naive(account.get("UpdatedDateUTC")),
	}
