"""One Xero organisation held in memory: its settings and its documents, keyed as Xero keys them."""

from dataclasses import dataclass, field


@dataclass
class Tenant:
	tenant_id: str
	name: str
	organisation: dict
	timezone: str
	currencies: list[dict]
	tax_rates: dict[str, dict]  # by TaxType
	accounts: dict[str, dict]  # by Code
	contacts: dict[str, dict] = field(default_factory=dict)  # by ContactID, in creation order
	items: dict[str, dict] = field(default_factory=dict)  # by ItemID
	invoices: dict[str, dict] = field(default_factory=dict)  # by InvoiceID, in creation order
	payments: dict[str, dict] = field(default_factory=dict)  # by PaymentID
	invoice_ids_by_number: dict[str, str] = field(default_factory=dict)  # ACCREC numbers (casefolded)
	next_invoice_number: int = 1
	tracking_categories: dict[str, dict] = field(default_factory=dict)  # by TrackingCategoryID
	branding_themes: dict[str, dict] = field(default_factory=dict)  # by BrandingThemeID
	credit_notes: dict[str, dict] = field(default_factory=dict)  # by CreditNoteID, in creation order
	allocations: dict[str, dict] = field(default_factory=dict)  # credit note allocations, by AllocationID
	next_credit_note_number: int = 1
	# History and notes of a document, by its id (InvoiceID, CreditNoteID), oldest first.
	history: dict[str, list[dict]] = field(default_factory=dict)
	quotes: dict[str, dict] = field(default_factory=dict)  # by QuoteID, in creation order (quotes.py)
	next_quote_number: int = 1

	@property
	def base_currency(self) -> str:
		return self.organisation["BaseCurrency"]

	def item_by_code(self, code: str) -> dict | None:
		wanted = code.strip().casefold()
		return next((i for i in self.items.values() if i["Code"].casefold() == wanted), None)

	def contact_by_name(self, name: str) -> dict | None:
		wanted = name.strip().casefold()
		return next(
			(
				c
				for c in self.contacts.values()
				if c["Name"].casefold() == wanted and c["ContactStatus"] == "ACTIVE"
			),
			None,
		)

	def contact_by_number(self, number: str) -> dict | None:
		return next((c for c in self.contacts.values() if c.get("ContactNumber") == number), None)

	def invoice_by_number(self, number: str) -> dict | None:
		invoice_id = self.invoice_ids_by_number.get(number.strip().casefold())
		return self.invoices.get(invoice_id) if invoice_id else None

	def find_invoice(self, key: str) -> dict | None:
		"""By InvoiceID, or by InvoiceNumber in the same position, as Xero allows."""
		return self.invoices.get(key.lower()) or self.invoice_by_number(key)

	def find_credit_note(self, key: str) -> dict | None:
		"""By CreditNoteID, or by CreditNoteNumber in the same position."""
		found = self.credit_notes.get(key.lower())
		if found is not None:
			return found
		wanted = key.strip().casefold()
		return next(
			(c for c in self.credit_notes.values() if (c.get("CreditNoteNumber") or "").casefold() == wanted),
			None,
		)

	def take_credit_note_number(self) -> str:
		taken = {(c.get("CreditNoteNumber") or "").casefold() for c in self.credit_notes.values()}
		while True:
			number = f"CN-{self.next_credit_note_number:04d}"
			self.next_credit_note_number += 1
			if number.casefold() not in taken:
				return number

	def take_invoice_number(self) -> str:
		while True:
			number = f"INV-{self.next_invoice_number:04d}"
			self.next_invoice_number += 1
			if number.casefold() not in self.invoice_ids_by_number:
				return number

	def counts(self) -> dict:
		return {
			"tenantId": self.tenant_id,
			"tenantName": self.name,
			"baseCurrency": self.base_currency,
			"shortCode": self.organisation["ShortCode"],
			"invoices": len(self.invoices),
			"contacts": len(self.contacts),
			"items": len(self.items),
			"payments": len(self.payments),
			"credit_notes": len(self.credit_notes),
		}
