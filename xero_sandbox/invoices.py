"""Invoices and payments as Xero keeps them: validation, status rules, arithmetic and the JSON shape.

The arithmetic is the sandbox's own (``arithmetic.py``, written from Xero's documentation): the sandbox
is an independent oracle for the app, so it shares none of the app's code.
"""

import hashlib
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from .arithmetic import (
	EXCLUSIVE,
	LINE_AMOUNT_TYPES,
	NO_TAX,
	ZERO,
	Line,
	cents,
	compute_line,
	invoice_totals,
	unit_amount,
)
from .org_settings import RATE_PLACES, line_tracking, theme_problem, xe_rate
from .tenant import Tenant
from .xerojson import date_string, parse_date, to_number

CREATABLE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
EDITABLE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
FINAL_STATUSES = ("VOIDED", "DELETED")
SUPPORTED_TYPES = ("ACCREC", "ACCPAY")
NO_MONEY = Decimal("0.00")  # Xero writes amounts with their 2 places: 0.00
RATE_ONE = Decimal("1.000000")
NOT_MODIFIABLE = "Invoice not of valid status for modification"


def new_id() -> str:
	return str(uuid.uuid4())


def price_line(
	qty: Decimal,
	unit: Decimal,
	tax_rate: Decimal,
	line_amount_type: str,
	discount_rate: Decimal = ZERO,
	discount_amount: Decimal | None = None,
	tax_amount: Decimal | None = None,
	unitdp: int = 4,
) -> Line:
	"""One line priced by Xero's arithmetic (for seeded documents: the figures must be valid)."""
	line, problems = compute_line(
		quantity=qty,
		unit=unit,
		tax_rate=tax_rate,
		line_amount_type=line_amount_type,
		unitdp=unitdp,
		discount_rate=discount_rate or None,
		discount_amount=discount_amount or None,
		tax_amount=tax_amount,
	)
	if problems:
		raise ValueError("; ".join(problems))
	return line


def set_totals(invoice: dict, priced: list[Line]) -> None:
	result = invoice_totals(priced, invoice["LineAmountTypes"])
	invoice["SubTotal"] = result.sub_total
	invoice["TotalTax"] = result.total_tax
	invoice["Total"] = result.total
	invoice["TotalDiscount"] = result.total_discount
	invoice["AmountDue"] = result.total - invoice["AmountPaid"] - invoice["AmountCredited"]


def default_due_date(tenant: Tenant, contact: dict, issued: date) -> date:
	"""The contact's sales payment terms, else the organisation's (as Xero fills DueDate)."""
	terms = (contact.get("PaymentTerms") or {}).get("Sales") or tenant.organisation["PaymentTerms"]["Sales"]
	day, kind = int(terms["Day"]), terms["Type"]
	if kind == "DAYSAFTERBILLDATE":
		return issued + timedelta(days=day)
	if kind == "DAYSAFTERBILLMONTH":
		return _month_end(issued) + timedelta(days=day)
	if kind == "OFCURRENTMONTH":
		return _day_of_month(issued.year, issued.month, day)
	next_month = _month_end(issued) + timedelta(days=1)  # OFFOLLOWINGMONTH
	return _day_of_month(next_month.year, next_month.month, day)


def _month_end(day: date) -> date:
	first_of_next = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
	return first_of_next - timedelta(days=1)


def _day_of_month(year: int, month: int, day: int) -> date:
	last = _month_end(date(year, month, 1)).day
	return date(year, month, min(max(day, 1), last))


class _Problems(list):
	def add(self, message: str) -> None:
		if message not in self:
			self.append(message)


def _text(value, limit: int | None = None) -> str | None:
	if value is None:
		return None
	text = str(value)
	return text[:limit] if limit else text


def _number(value, label: str, problems: _Problems) -> Decimal | None:
	if value is None or value == "":
		return None
	try:
		return to_number(value)
	except ValueError:
		problems.add(f"{label} must be a number, not {value!r}")
		return None


def document_contact(
	tenant: Tenant, element: dict, existing: dict | None, problems: _Problems
) -> dict | None:
	"""An invoice's or credit note's contact: the one it has, unless the request names another."""
	if existing is not None and "Contact" not in element:
		return tenant.contacts.get(existing["Contact"]["ContactID"])
	return _resolve_contact(tenant, element.get("Contact"), problems)


def document_amount_type(value, problems: _Problems) -> str:
	"""Xero's LineAmountTypes (any case) of an invoice or credit note; Exclusive when refused."""
	line_amount_type = str(value or EXCLUSIVE)
	matched = next((t for t in LINE_AMOUNT_TYPES if t.lower() == line_amount_type.lower()), None)
	if matched is None:
		problems.add(
			f"LineAmountTypes must be one of {', '.join(LINE_AMOUNT_TYPES)}, not {line_amount_type!r}"
		)
	return matched or EXCLUSIVE


def document_currency(tenant: Tenant, value, problems: _Problems) -> str:
	"""A document's currency: the organisation's base one when none is given; one it has not enabled is
	refused in Xero's words (facts §11)."""
	currency = str(value or tenant.base_currency).upper()
	if currency not in {c["Code"] for c in tenant.currencies}:
		problems.add(f"Organisation is not subscribed to currency {currency}")
	return currency


def _resolve_contact(tenant: Tenant, value, problems: _Problems) -> dict | None:
	if not isinstance(value, dict) or not any(value.get(k) for k in ("ContactID", "Name", "ContactNumber")):
		problems.add("A Contact must be specified for this type of transaction")
		return None
	if value.get("ContactID"):
		contact = tenant.contacts.get(str(value["ContactID"]).lower())
		if contact is None:
			problems.add(f"The contact with ContactID {value['ContactID']} could not be found")
		elif contact["ContactStatus"] != "ACTIVE":
			problems.add(f"The contact {contact['Name']} is archived and cannot be used")
		return contact
	if value.get("ContactNumber"):
		contact = tenant.contact_by_number(str(value["ContactNumber"]))
		if contact is None:
			problems.add(f"The contact with ContactNumber {value['ContactNumber']} could not be found")
		return contact
	name = str(value["Name"]).strip()
	# Xero creates a contact on the fly when an invoice names one it does not know.
	return tenant.contact_by_name(name) or {"ContactID": None, "Name": name[:255]}


def _lines(
	tenant: Tenant,
	invoice_type: str,
	raw_lines,
	line_amount_type: str,
	unitdp: int,
	problems: _Problems,
	old: dict,
) -> tuple[list[dict], list[Line]]:
	lines, priced = [], []
	for raw in raw_lines:
		if not isinstance(raw, dict):
			problems.add("Each line item must be an object")
			continue
		item = None
		if raw.get("ItemCode"):
			item = tenant.item_by_code(str(raw["ItemCode"]))
			if item is None:
				problems.add(f"Item code '{raw['ItemCode']}' is not valid")
			elif invoice_type == "ACCREC" and not item["IsSold"]:
				problems.add(f"Item code '{item['Code']}' is not set up to be sold")
		details = (item or {}).get("SalesDetails" if invoice_type == "ACCREC" else "PurchaseDetails") or {}
		description = raw.get("Description") or (item or {}).get("Description") or (item or {}).get("Name")
		if not description:
			problems.add("Description is required for a line item")

		sent = {
			key: _number(raw.get(key), key, problems)
			for key in ("Quantity", "UnitAmount", "LineAmount", "TaxAmount", "DiscountRate", "DiscountAmount")
		}
		if (sent["DiscountRate"] or sent["DiscountAmount"]) and invoice_type != "ACCREC":
			problems.add("Discounts can only be used on sales invoices")

		account_code = raw.get("AccountCode") or details.get("AccountCode")
		account = None
		if account_code:
			account = tenant.accounts.get(str(account_code))
			usable = account and account["Status"] == "ACTIVE" and account["Type"] != "BANK"
			if not usable or account.get("SystemAccount") not in (None, "ROUNDING"):
				problems.add(f"Account code '{account_code}' is not a valid code for this document.")
				account = None
		tax_type = raw.get("TaxType") or details.get("TaxType") or (account or {}).get("TaxType") or "NONE"
		if line_amount_type == NO_TAX:
			tax_type = "NONE" if "NONE" in tenant.tax_rates else tax_type
		tax = tenant.tax_rates.get(str(tax_type))
		revenue_side = invoice_type == "ACCREC"
		if (
			tax is None
			or tax["Status"] != "ACTIVE"
			or tax[f"CanApplyTo{'Revenue' if revenue_side else 'Expenses'}"] is False
		):
			problems.add(
				f"The TaxType code '{tax_type}' does not exist or cannot be used for this type of transaction."
			)
			tax = None
		rate = ZERO if line_amount_type == NO_TAX or tax is None else tax["EffectiveRate"]
		priced_line, line_problems = compute_line(
			quantity=sent["Quantity"],
			unit=sent["UnitAmount"],
			tax_rate=rate,
			line_amount_type=line_amount_type,
			unitdp=unitdp,
			line_amount=sent["LineAmount"],
			tax_amount=sent["TaxAmount"],
			discount_rate=sent["DiscountRate"],
			discount_amount=sent["DiscountAmount"],
			default_unit=_decimal(details.get("UnitPrice")),
		)
		for message in line_problems:
			problems.add(message)
		if problems:
			continue
		line_id = str(raw.get("LineItemID") or "").lower()
		line = {
			"LineItemID": line_id if line_id in old else new_id(),
			"Description": _text(description, 4000),
			"Quantity": priced_line.quantity,
			"UnitAmount": priced_line.unit_amount,
			"TaxType": tax["TaxType"],
			"TaxAmount": priced_line.tax_amount,
			"LineAmount": priced_line.line_amount,
			"Tracking": line_tracking(tenant, raw.get("Tracking"), problems),
			# What the client sent, so that a later change of LineAmountTypes re-prices the line from it.
			"_sent": {
				**{key: value for key, value in sent.items() if value is not None},
				**({"UnitAmount": priced_line.unit_amount} if sent["UnitAmount"] is not None else {}),
			},
		}
		if item:
			line["ItemCode"] = item["Code"]
			line["Item"] = {"ItemID": item["ItemID"], "Name": item["Name"], "Code": item["Code"]}
		if account:
			line["AccountCode"] = account["Code"]
			line["AccountID"] = account["AccountID"]
		if priced_line.discount_rate is not None:
			line["DiscountRate"] = priced_line.discount_rate
		if priced_line.discount_amount is not None:
			line["DiscountAmount"] = priced_line.discount_amount
		lines.append(line)
		priced.append(priced_line)
	return lines, priced


def _decimal(value) -> Decimal:
	try:
		return to_number(value) if value not in (None, "") else ZERO
	except ValueError:
		return ZERO


def _status_change(old: str | None, new: str, has_payments: bool) -> str | None:
	"""None when Xero allows moving ``old`` -> ``new``, else its refusal."""
	if old is None:
		return None if new in CREATABLE_STATUSES else f"Invoices cannot be created with the status {new}"
	if old == new:
		return None
	if old in FINAL_STATUSES or old == "PAID":
		return NOT_MODIFIABLE
	if new == "DELETED":
		return (
			None
			if old in ("DRAFT", "SUBMITTED")
			else "Only DRAFT or SUBMITTED invoices can be deleted; void it instead"
		)
	if new == "VOIDED":
		if old != "AUTHORISED":
			return "Only AUTHORISED invoices can be voided; delete a DRAFT or SUBMITTED one instead"
		if has_payments:
			return "This invoice has payments or credit allocated: remove them before voiding it"
		return None
	if new == "PAID":
		return "The status PAID is set by Xero when the invoice is paid in full"
	order = {"DRAFT": 0, "SUBMITTED": 1, "AUTHORISED": 2}
	if new not in order:
		return f"Invalid invoice status {new}"
	if order[new] < order[old]:
		return f"An invoice cannot go back from {old} to {new}"
	return None


def write_invoice(
	tenant: Tenant,
	element,
	*,
	now: datetime,
	today: date,
	unitdp: int,
	existing: dict | None,
	by_app: bool = True,
) -> tuple[dict | None, list[str]]:
	"""Creates (``existing`` None) or updates an invoice from one request element.

	Returns (the stored invoice, []) or (None, Xero's validation messages); nothing is stored on error.
	"""
	problems = _Problems()
	if not isinstance(element, dict):
		return None, ["Each invoice must be an object"]
	has_payments = bool(existing and (existing["AmountPaid"] or existing["AmountCredited"]))
	requested_status = str(element.get("Status") or (existing or {}).get("Status") or "DRAFT").upper()
	if existing is not None:
		if existing["Status"] in (*FINAL_STATUSES, "PAID"):
			return None, [NOT_MODIFIABLE]
		refusal = _status_change(existing["Status"], requested_status, has_payments)
		if refusal:
			return None, [refusal]
		if requested_status in FINAL_STATUSES:
			return _finalise(existing, requested_status, now), []
		content_keys = set(element) - {"InvoiceID", "Status"}
		if has_payments and content_keys & {"LineItems", "Contact", "LineAmountTypes", "CurrencyCode"}:
			return None, [NOT_MODIFIABLE]
	else:
		refusal = _status_change(None, requested_status, False)
		if refusal:
			problems.add(refusal)

	def given(key, default=None):
		if key in element:
			return element[key]
		return (existing or {}).get(key, default)

	invoice_type = str(given("Type") or "").upper()
	if invoice_type not in SUPPORTED_TYPES:
		problems.add(f"Invoice Type must be ACCREC or ACCPAY, not {given('Type')!r}")
		invoice_type = "ACCREC"
	if existing is not None and invoice_type != existing["Type"]:
		problems.add("The Type of an existing invoice cannot be changed")

	contact = document_contact(tenant, element, existing, problems)
	line_amount_type = document_amount_type(given("LineAmountTypes"), problems)
	currency = document_currency(tenant, given("CurrencyCode"), problems)
	rate = None
	if currency != tenant.base_currency and given("CurrencyRate") not in (None, ""):
		rate = _number(given("CurrencyRate"), "CurrencyRate", problems)
		if rate is not None and (rate <= 0 or rate != rate.quantize(RATE_PLACES) or rate >= 10**12):
			problems.add("CurrencyRate must be a positive number with at most 6 decimal places")
	if "BrandingThemeID" in element:
		refusal = theme_problem(tenant, element["BrandingThemeID"])
		if refusal:
			problems.add(refusal)

	issued = due = None
	try:
		issued = parse_date(given("Date")) if given("Date") else today
	except ValueError:
		problems.add(f"Date {given('Date')!r} is not a valid date (use YYYY-MM-DD)")
	try:
		due = parse_date(given("DueDate")) if given("DueDate") else None
	except ValueError:
		problems.add(f"DueDate {given('DueDate')!r} is not a valid date (use YYYY-MM-DD)")
	expected_payment = None
	if element.get("ExpectedPaymentDate"):
		try:
			expected_payment = parse_date(element["ExpectedPaymentDate"])
		except ValueError:
			problems.add("ExpectedPaymentDate is not a valid date (use YYYY-MM-DD)")

	number = _text(given("InvoiceNumber"))
	if number is not None and len(number) > 255:
		problems.add("InvoiceNumber must be at most 255 characters long")
	if number and invoice_type == "ACCREC":
		holder = tenant.invoice_by_number(number)
		if holder is not None and (existing is None or holder["InvoiceID"] != existing["InvoiceID"]):
			problems.add("Invoice # must be unique.")
	reference = _text(given("Reference"))
	if reference is not None and len(reference) > 255:
		problems.add("Reference must be at most 255 characters long")

	reprice = existing is None or "LineItems" in element or "LineAmountTypes" in element
	if reprice:
		raw_lines = (
			element["LineItems"] if "LineItems" in element else _lines_as_sent(existing, line_amount_type)
		)
		if not isinstance(raw_lines, list) or not raw_lines:
			problems.add("At least one line item must be specified")
			raw_lines = []
		old_line_ids = {line["LineItemID"] for line in (existing or {}).get("LineItems", [])}
		# Stored lines keep the unit amounts they were priced with: re-priced at 4 places, nothing is lost.
		line_unitdp = unitdp if "LineItems" in element else 4
		lines, priced = _lines(
			tenant, invoice_type, raw_lines, line_amount_type, line_unitdp, problems, old_line_ids
		)
	if requested_status == "AUTHORISED":
		for line in lines if reprice else existing["LineItems"]:
			if "AccountCode" not in line:
				problems.add("Account code must be specified on every line to approve an invoice")
				break
	if problems:
		return None, list(problems)

	if contact.get("ContactID") is None:
		contact = _create_contact_for_invoice(tenant, contact["Name"], now)
	if invoice_type == "ACCREC" and not contact["IsCustomer"]:
		contact["IsCustomer"] = True  # Xero does not bump UpdatedDateUTC for this (facts §5)

	invoice = existing if existing is not None else _blank_invoice(invoice_type, by_app)
	if number is None and invoice_type == "ACCREC" and not invoice.get("InvoiceNumber"):
		number = tenant.take_invoice_number()
	previous_number = invoice.get("InvoiceNumber")
	invoice.update(
		Contact={"ContactID": contact["ContactID"], "Name": contact["Name"]},
		Date=issued,
		DueDate=due or default_due_date(tenant, contact, issued),
		Status=requested_status,
		LineAmountTypes=line_amount_type,
		CurrencyCode=currency,
		# Omitted, Xero takes the XE.com rate of the document's date (facts §11).
		CurrencyRate=rate.quantize(RATE_PLACES)
		if rate is not None
		else xe_rate(tenant.base_currency, currency),
		InvoiceNumber=number or "",
		Reference=reference or "",
		UpdatedDateUTC=now,
	)
	for key in ("Url", "BrandingThemeID", "SentToContact"):
		if key in element:
			invoice[key] = element[key]
	if expected_payment:
		invoice["ExpectedPaymentDate"] = expected_payment
	if reprice:
		invoice["LineItems"] = lines
		invoice["IsDiscounted"] = any(
			line.get("DiscountRate") or line.get("DiscountAmount") for line in lines
		)
		set_totals(invoice, priced)
	if previous_number and previous_number.casefold() != invoice["InvoiceNumber"].casefold():
		tenant.invoice_ids_by_number.pop(previous_number.casefold(), None)
	store_invoice(tenant, invoice)
	return invoice, []


def _lines_as_sent(existing: dict | None, line_amount_type: str) -> list[dict]:
	"""The stored lines as their client sent them, to be priced again under another LineAmountTypes; a
	TaxAmount given for the old amount type does not carry over to the new one."""
	changed = existing is not None and existing["LineAmountTypes"] != line_amount_type
	lines = []
	for line in (existing or {}).get("LineItems", []):
		raw = {
			key: value
			for key, value in line.items()
			if not key.startswith("_")
			and key
			not in ("Quantity", "UnitAmount", "LineAmount", "TaxAmount", "DiscountRate", "DiscountAmount")
		}
		# Lines stored without what was sent (seeded ones) are re-priced from their stored figures.
		stored = {
			k: line[k] for k in ("Quantity", "UnitAmount", "DiscountRate", "DiscountAmount") if k in line
		}
		raw.update(line.get("_sent") or stored)
		if changed:
			raw.pop("TaxAmount", None)
		lines.append(raw)
	return lines


def _blank_invoice(invoice_type: str, by_app: bool) -> dict:
	return {
		"Type": invoice_type,
		"InvoiceID": new_id(),
		"AmountPaid": NO_MONEY,
		"AmountCredited": NO_MONEY,
		"Payments": [],
		"SentToContact": False,
		"HasAttachments": False,
		"IsDiscounted": False,
		"_created_by_app": by_app,
	}


def store_invoice(tenant: Tenant, invoice: dict) -> None:
	tenant.invoices[invoice["InvoiceID"]] = invoice
	if invoice["Type"] == "ACCREC" and invoice["InvoiceNumber"]:
		tenant.invoice_ids_by_number[invoice["InvoiceNumber"].casefold()] = invoice["InvoiceID"]


def _finalise(invoice: dict, status: str, now: datetime) -> dict:
	invoice["Status"] = status
	invoice["UpdatedDateUTC"] = now
	if status == "VOIDED":
		invoice["AmountDue"] = NO_MONEY
	return invoice


def _create_contact_for_invoice(tenant: Tenant, name: str, now: datetime) -> dict:
	contact = {
		"ContactID": new_id(),
		"Name": name,
		"ContactStatus": "ACTIVE",
		"IsSupplier": False,
		"IsCustomer": False,
		"Addresses": [],
		"Phones": [],
		"UpdatedDateUTC": now,
		"HasAttachments": False,
	}
	tenant.contacts[contact["ContactID"]] = contact
	return contact


def record_payment(
	tenant: Tenant,
	invoice: dict,
	amount: Decimal,
	*,
	now: datetime,
	paid_on: date,
	account_code: str | None = None,
	reference: str = "",
) -> tuple[dict | None, list[str]]:
	"""A payment against an invoice, as Xero records it (PAID when nothing is left to pay)."""
	problems = []
	if invoice["Status"] != "AUTHORISED":
		problems.append("Payments can only be made against AUTHORISED invoices")
	amount = cents(amount)
	if amount <= 0:
		problems.append("Payment amount must be greater than zero")
	elif amount > invoice["AmountDue"]:
		problems.append("Payment amount exceeds the amount outstanding on this document")
	bank = tenant.accounts.get(account_code or "090")
	if bank is None or not (bank["Type"] == "BANK" or bank.get("EnablePaymentsToAccount")):
		problems.append(f"Account code '{account_code}' is not a bank account or does not accept payments")
	if problems:
		return None, problems
	payment = {
		"PaymentID": new_id(),
		"Date": paid_on,
		"Amount": amount,
		"Reference": reference,
		"CurrencyRate": invoice["CurrencyRate"],
		"PaymentType": "ACCRECPAYMENT" if invoice["Type"] == "ACCREC" else "ACCPAYPAYMENT",
		"Status": "AUTHORISED",
		"IsReconciled": False,
		"UpdatedDateUTC": now,
		"InvoiceID": invoice["InvoiceID"],
		"AccountCode": bank["Code"],
	}
	tenant.payments[payment["PaymentID"]] = payment
	invoice["Payments"].append(payment["PaymentID"])
	invoice["AmountPaid"] += amount
	invoice["AmountDue"] = invoice["Total"] - invoice["AmountPaid"] - invoice["AmountCredited"]
	if invoice["AmountDue"] <= 0:
		invoice["Status"] = "PAID"
		invoice["FullyPaidOnDate"] = paid_on
	invoice["UpdatedDateUTC"] = now
	return payment, []


def online_invoice_url(invoice: dict) -> str:
	token = hashlib.sha256(invoice["InvoiceID"].encode()).hexdigest()[:40]
	return f"https://in.xero.com/{token}"


# --- JSON shapes -------------------------------------------------------------------------------------


def render_line(line: dict, unitdp: int) -> dict:
	out = {key: value for key, value in line.items() if not key.startswith("_")}
	out["UnitAmount"] = unit_amount(line["UnitAmount"], unitdp)
	return out


def render_invoice(
	tenant: Tenant, invoice: dict, *, lines: bool, summary: bool = False, unitdp: int = 2
) -> dict:
	contact = tenant.contacts.get(invoice["Contact"]["ContactID"], invoice["Contact"])
	out = {
		"Type": invoice["Type"],
		"InvoiceID": invoice["InvoiceID"],
		"InvoiceNumber": invoice["InvoiceNumber"],
		"Reference": invoice["Reference"],
		"AmountDue": invoice["AmountDue"],
		"AmountPaid": invoice["AmountPaid"],
		"AmountCredited": invoice["AmountCredited"],
		"CurrencyRate": invoice["CurrencyRate"],
		"IsDiscounted": invoice["IsDiscounted"],
		"HasAttachments": invoice["HasAttachments"],
		"HasErrors": False,
		"Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"]},
		"DateString": date_string(invoice["Date"]),
		"Date": invoice["Date"],
		"DueDateString": date_string(invoice["DueDate"]),
		"DueDate": invoice["DueDate"],
		"Status": invoice["Status"],
		"LineAmountTypes": invoice["LineAmountTypes"],
		"SubTotal": invoice["SubTotal"],
		"TotalTax": invoice["TotalTax"],
		"Total": invoice["Total"],
		"UpdatedDateUTC": invoice["UpdatedDateUTC"],
		"CurrencyCode": invoice["CurrencyCode"],
	}
	if summary:
		return out
	out["SentToContact"] = invoice["SentToContact"]
	if invoice["TotalDiscount"]:
		out["TotalDiscount"] = invoice["TotalDiscount"]
	if invoice.get("FullyPaidOnDate"):
		out["FullyPaidOnDate"] = invoice["FullyPaidOnDate"]
	for key in ("Url", "BrandingThemeID", "ExpectedPaymentDate"):
		if invoice.get(key):
			out[key] = invoice[key]
	out["Payments"] = [render_payment_on_invoice(tenant.payments[p]) for p in invoice["Payments"]]
	out["CreditNotes"] = applied_credit_notes(tenant, invoice)
	out["Prepayments"] = []
	out["Overpayments"] = []
	if lines:
		out["LineItems"] = [render_line(line, unitdp) for line in invoice["LineItems"]]
	return out


def applied_credit_notes(tenant: Tenant, invoice: dict) -> list[dict]:
	"""``Invoice.CreditNotes``: each credit note allocated to the invoice with the amount applied (Xero lists
	them without their Allocations, facts §11)."""
	applied = []
	for allocation_id in invoice.get("_credit_allocations", []):
		allocation = tenant.allocations[allocation_id]
		if allocation["IsDeleted"]:
			continue
		note = tenant.credit_notes[allocation["CreditNoteID"]]
		applied.append(
			{
				"CreditNoteID": note["CreditNoteID"],
				"CreditNoteNumber": note["CreditNoteNumber"],
				"AppliedAmount": allocation["Amount"],
				"Total": note["Total"],
				"Date": allocation["Date"],
			}
		)
	return applied


def render_payment_on_invoice(payment: dict) -> dict:
	return {
		"PaymentID": payment["PaymentID"],
		"Date": payment["Date"],
		"Amount": payment["Amount"],
		"Reference": payment["Reference"],
		"CurrencyRate": payment["CurrencyRate"],
		"HasAccount": False,
		"HasValidationErrors": False,
	}


def render_payment(tenant: Tenant, payment: dict) -> dict:
	invoice = tenant.invoices[payment["InvoiceID"]]
	account = tenant.accounts[payment["AccountCode"]]
	return {
		"PaymentID": payment["PaymentID"],
		"Date": payment["Date"],
		"Amount": payment["Amount"],
		"BankAmount": payment["Amount"],
		"Reference": payment["Reference"],
		"CurrencyRate": payment["CurrencyRate"],
		"PaymentType": payment["PaymentType"],
		"Status": payment["Status"],
		"UpdatedDateUTC": payment["UpdatedDateUTC"],
		"HasAccount": True,
		"IsReconciled": payment["IsReconciled"],
		"Account": {"AccountID": account["AccountID"], "Code": account["Code"]},
		"Invoice": {
			"Type": invoice["Type"],
			"InvoiceID": invoice["InvoiceID"],
			"InvoiceNumber": invoice["InvoiceNumber"],
			"Contact": dict(invoice["Contact"]),
		},
		"HasValidationErrors": False,
	}


def echo_with_errors(element, messages: list[str]) -> dict:
	"""A refused element as Xero echoes it: the fields it could read, plus its ValidationErrors."""
	echo = {}
	if isinstance(element, dict):
		for key in (
			"Type",
			"InvoiceID",
			"InvoiceNumber",
			"Reference",
			"Status",
			"LineAmountTypes",
			"CurrencyCode",
		):
			if isinstance(element.get(key), str) and element[key]:
				echo[key] = element[key]
		if echo.get("Type") not in (
			"ACCPAY",
			"ACCPAYCREDIT",
			"APOVERPAYMENT",
			"APPREPAYMENT",
			"ACCREC",
			"ACCRECCREDIT",
			"AROVERPAYMENT",
			"ARPREPAYMENT",
		):
			echo.pop("Type", None)
		if echo.get("Status") not in ("DRAFT", "SUBMITTED", "DELETED", "AUTHORISED", "PAID", "VOIDED"):
			echo.pop("Status", None)
		if not _is_uuid(echo.get("InvoiceID")):
			echo.pop("InvoiceID", None)
		contact = element.get("Contact")
		if isinstance(contact, dict):
			echo["Contact"] = {
				k: contact[k]
				for k in ("ContactID", "Name")
				if isinstance(contact.get(k), str) and (k != "ContactID" or _is_uuid(contact[k]))
			}
	echo["HasErrors"] = True
	echo["StatusAttributeString"] = "ERROR"
	echo["ValidationErrors"] = [{"Message": m} for m in messages]
	return echo


def _is_uuid(value) -> bool:
	try:
		uuid.UUID(str(value))
		return True
	except ValueError:
		return False
