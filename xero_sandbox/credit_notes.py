"""Credit notes and their allocations as Xero keeps them (facts §11): validation, status rules, the sandbox's
own arithmetic (``arithmetic.py``, as for invoices) and the JSON shape.

- ``PUT /CreditNotes`` creates, ``POST`` creates or updates; Type ACCRECCREDIT or ACCPAYCREDIT; lines carry no
  discounts; a number is given from the organisation's sequence (``CN-0001``) when none is sent.
- ``PUT /CreditNotes/{id}/Allocations`` applies an AUTHORISED credit note to an invoice of the matching type
  (ACCRECCREDIT to ACCREC), at most its RemainingCredit and the invoice's AmountDue, in the same currency. The
  invoice's AmountCredited grows and its AmountDue shrinks (PAID at 0), the credit note's RemainingCredit
  shrinks (PAID at 0), both are frozen while allocated; ``DELETE …/Allocations/{AllocationID}`` undoes it.
"""

from datetime import date, datetime
from decimal import Decimal

from .arithmetic import cents, invoice_totals
from .invoices import (
	NO_MONEY,
	RATE_ONE,
	_create_contact_for_invoice,
	_lines,
	_lines_as_sent,
	_Problems,
	_text,
	document_amount_type,
	document_contact,
	document_currency,
	new_id,
	render_line,
)
from .tenant import Tenant
from .xerojson import date_string, parse_date, to_number

CREDIT_TYPES = ("ACCRECCREDIT", "ACCPAYCREDIT")
# The invoice type a credit note of each type can be allocated to.
ALLOCATES_TO = {"ACCRECCREDIT": "ACCREC", "ACCPAYCREDIT": "ACCPAY"}
CREATABLE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
FINAL_STATUSES = ("VOIDED", "DELETED")
NOT_MODIFIABLE = "Credit note not of valid status for modification"
FROZEN = "This document cannot be edited as it has a payment or credit note allocated to it"
NO_DISCOUNTS = "Discounts cannot be used on credit notes"
# Xero's words for a refused allocation (facts §11: xeroizer#320, calcinai/xero-php#251).
PAID_OFF = "The invoice you are trying to allocate to has already been paid off"
OVER_OUTSTANDING = "Credit Note cannot be allocated as amount is greater than amount outstanding"
WRONG_TYPE = "Credit Note cannot be allocated to an incorrect invoice type"
SYSTEM_USER = "System Generated"


def allocated(tenant: Tenant, note: dict) -> Decimal:
	return sum((a["Amount"] for a in live_allocations(tenant, note)), NO_MONEY)


def live_allocations(tenant: Tenant, note: dict) -> list[dict]:
	rows = (tenant.allocations[a] for a in note.get("_allocations", []))
	return [a for a in rows if not a["IsDeleted"]]


def _status_change(old: str | None, new: str, has_allocations: bool) -> str | None:
	"""None when Xero allows moving a credit note ``old`` -> ``new``, else its refusal."""
	if old is None:
		return None if new in CREATABLE_STATUSES else f"Credit notes cannot be created with the status {new}"
	if old == new:
		return None
	if old in FINAL_STATUSES:
		return NOT_MODIFIABLE
	if old == "PAID":
		return FROZEN
	if new == "DELETED":
		return (
			None
			if old in ("DRAFT", "SUBMITTED")
			else "Only DRAFT or SUBMITTED credit notes can be deleted; void it instead"
		)
	if new == "VOIDED":
		if old != "AUTHORISED":
			return "Only AUTHORISED credit notes can be voided; delete a DRAFT or SUBMITTED one instead"
		if has_allocations:
			return "This credit note has been allocated: remove its allocations before voiding it"
		return None
	if new == "PAID":
		return "The status PAID is set by Xero when the credit note is fully allocated or refunded"
	order = {"DRAFT": 0, "SUBMITTED": 1, "AUTHORISED": 2}
	if new not in order:
		return f"Invalid credit note status {new}"
	if order[new] < order[old]:
		return f"A credit note cannot go back from {old} to {new}"
	return None


def write_credit_note(
	tenant: Tenant, element, *, now: datetime, today: date, unitdp: int, existing: dict | None
) -> tuple[dict | None, list[str]]:
	"""Creates (``existing`` None) or updates a credit note from one request element.

	Returns (the stored credit note, []) or (None, Xero's validation messages); nothing is stored on error.
	"""
	if not isinstance(element, dict):
		return None, ["Each credit note must be an object"]
	problems = _Problems()
	has_allocations = bool(existing and live_allocations(tenant, existing))
	requested_status = str(element.get("Status") or (existing or {}).get("Status") or "DRAFT").upper()
	if existing is not None:
		if existing["Status"] in FINAL_STATUSES:
			return None, [NOT_MODIFIABLE]
		refusal = _status_change(existing["Status"], requested_status, has_allocations)
		if refusal:
			return None, [refusal]
		if requested_status in FINAL_STATUSES:
			existing.update(Status=requested_status, UpdatedDateUTC=now, RemainingCredit=NO_MONEY)
			add_history(tenant, existing["CreditNoteID"], requested_status.title(), "", now)
			return existing, []
		content_keys = set(element) - {"CreditNoteID", "Status"}
		if has_allocations and content_keys & {"LineItems", "Contact", "LineAmountTypes", "CurrencyCode"}:
			return None, [FROZEN]
	else:
		refusal = _status_change(None, requested_status, False)
		if refusal:
			problems.add(refusal)

	def given(key, default=None):
		if key in element:
			return element[key]
		return (existing or {}).get(key, default)

	note_type = str(given("Type") or "").upper()
	if note_type not in CREDIT_TYPES:
		problems.add(f"Credit note Type must be ACCRECCREDIT or ACCPAYCREDIT, not {given('Type')!r}")
		note_type = "ACCRECCREDIT"
	if existing is not None and note_type != existing["Type"]:
		problems.add("The Type of an existing credit note cannot be changed")

	contact = document_contact(tenant, element, existing, problems)
	line_amount_type = document_amount_type(given("LineAmountTypes"), problems)
	currency = document_currency(tenant, given("CurrencyCode"), problems)
	issued = None
	try:
		issued = parse_date(given("Date")) if given("Date") else today
	except ValueError:
		problems.add(f"Date {given('Date')!r} is not a valid date (use YYYY-MM-DD)")

	number = _text(given("CreditNoteNumber"))
	if number is not None and len(number) > 255:
		problems.add("CreditNoteNumber must be at most 255 characters long")
	reference = _text(given("Reference"))
	if reference is not None and len(reference) > 255:
		problems.add("Reference must be at most 255 characters long")

	reprice = existing is None or "LineItems" in element or "LineAmountTypes" in element
	lines, priced = [], []
	if reprice:
		raw_lines = (
			element["LineItems"] if "LineItems" in element else _lines_as_sent(existing, line_amount_type)
		)
		if not isinstance(raw_lines, list) or not raw_lines:
			problems.add("At least one line item must be specified")
			raw_lines = []
		if any(
			isinstance(raw, dict) and (raw.get("DiscountRate") or raw.get("DiscountAmount"))
			for raw in raw_lines
		):
			problems.add(NO_DISCOUNTS)
		old_line_ids = {line["LineItemID"] for line in (existing or {}).get("LineItems", [])}
		line_unitdp = unitdp if "LineItems" in element else 4
		lines, priced = _lines(
			tenant,
			ALLOCATES_TO[note_type],
			raw_lines,
			line_amount_type,
			line_unitdp,
			problems,
			old_line_ids,
		)
	if requested_status == "AUTHORISED":
		for line in lines if reprice else existing["LineItems"]:
			if "AccountCode" not in line:
				problems.add("Account code must be specified on every line to approve a credit note")
				break
	if problems:
		return None, list(problems)

	if contact.get("ContactID") is None:
		contact = _create_contact_for_invoice(tenant, contact["Name"], now)
	note = existing if existing is not None else _blank_credit_note(note_type)
	if number is None and note_type == "ACCRECCREDIT" and not note.get("CreditNoteNumber"):
		number = tenant.take_credit_note_number()
	was = note.get("Status")
	note.update(
		Contact={"ContactID": contact["ContactID"], "Name": contact["Name"]},
		Date=issued,
		Status=requested_status,
		LineAmountTypes=line_amount_type,
		CurrencyCode=currency,
		CurrencyRate=RATE_ONE
		if currency == tenant.base_currency
		else given("CurrencyRate") or Decimal("1.5"),
		CreditNoteNumber=number or "",
		Reference=reference or "",
		UpdatedDateUTC=now,
	)
	if "BrandingThemeID" in element:
		note["BrandingThemeID"] = element["BrandingThemeID"]
	if reprice:
		note["LineItems"] = lines
		result = invoice_totals(priced, line_amount_type)
		note.update(SubTotal=result.sub_total, TotalTax=result.total_tax, Total=result.total)
	note["RemainingCredit"] = note["Total"] - allocated(tenant, note)
	tenant.credit_notes[note["CreditNoteID"]] = note
	if was != requested_status:
		what = "Created" if was is None else requested_status.title()
		add_history(
			tenant, note["CreditNoteID"], what, f"{note['CreditNoteNumber']} for {note['Total']}.", now
		)
	return note, []


def _blank_credit_note(note_type: str) -> dict:
	return {
		"Type": note_type,
		"CreditNoteID": new_id(),
		"Payments": [],
		"SentToContact": False,
		"HasAttachments": False,
		"_allocations": [],
	}


def allocate(
	tenant: Tenant, note: dict, element, *, now: datetime, today: date
) -> tuple[dict | None, list[str]]:
	"""Applies part or all of a credit note to an invoice, as ``PUT /CreditNotes/{id}/Allocations`` does."""
	if not isinstance(element, dict):
		return None, ["Each allocation must be an object"]
	problems = []
	reference = element.get("Invoice")
	invoice = None
	if isinstance(reference, dict) and reference.get("InvoiceID"):
		invoice = tenant.invoices.get(str(reference["InvoiceID"]).lower())
	elif isinstance(reference, dict) and reference.get("InvoiceNumber"):
		invoice = tenant.invoice_by_number(str(reference["InvoiceNumber"]))
	if not isinstance(reference, dict) or element.get("Amount") in (None, "") or not element.get("Date"):
		problems.append("An allocation needs an Invoice, an Amount and a Date")
	elif invoice is None:
		problems.append("The invoice to allocate to could not be found")
	try:
		amount = cents(to_number(element.get("Amount")))
	except ValueError:
		amount = None
		if element.get("Amount") not in (None, ""):
			problems.append("Amount must be a number")
	try:
		on = parse_date(element["Date"]) if element.get("Date") else today
	except ValueError:
		problems.append("Date is not a valid date (use YYYY-MM-DD)")
		on = today
	if problems:
		return None, problems
	remaining = note["Total"] - allocated(tenant, note)
	if note["Status"] != "AUTHORISED":
		problems.append(f"Only an AUTHORISED credit note can be allocated; this one is {note['Status']}")
	if invoice["Type"] != ALLOCATES_TO[note["Type"]]:
		problems.append(WRONG_TYPE)
	elif invoice["Status"] == "PAID":
		problems.append(PAID_OFF)
	elif invoice["Status"] != "AUTHORISED":
		problems.append(
			f"A credit note can only be allocated to an AUTHORISED invoice, not a {invoice['Status']} one"
		)
	if invoice["CurrencyCode"] != note["CurrencyCode"]:
		problems.append("The credit note and the invoice must be in the same currency")
	if amount is not None and amount <= 0:
		problems.append("The amount allocated must be greater than zero")
	elif amount is not None and amount > remaining:
		problems.append(
			f"The amount allocated ({amount}) is greater than the credit note's remaining credit ({remaining})"
		)
	elif amount is not None and invoice["Status"] == "AUTHORISED" and amount > invoice["AmountDue"]:
		problems.append(OVER_OUTSTANDING)
	if problems:
		return None, problems
	allocation = {
		"AllocationID": new_id(),
		"Amount": amount,
		"Date": on,
		"InvoiceID": invoice["InvoiceID"],
		"CreditNoteID": note["CreditNoteID"],
		"IsDeleted": False,
	}
	tenant.allocations[allocation["AllocationID"]] = allocation
	note["_allocations"].append(allocation["AllocationID"])
	invoice.setdefault("_credit_allocations", []).append(allocation["AllocationID"])
	_apply(tenant, invoice, note, amount, on, now)
	add_history(
		tenant,
		invoice["InvoiceID"],
		"Credit Applied",
		f"Credit note {note['CreditNoteNumber']} applied for {amount}.",
		now,
	)
	add_history(
		tenant,
		note["CreditNoteID"],
		"Credit Applied",
		f"Applied {amount} to invoice {invoice['InvoiceNumber']}.",
		now,
	)
	return allocation, []


def delete_allocation(tenant: Tenant, note: dict, allocation_id: str, *, now: datetime) -> dict | None:
	"""Undoes an allocation (``DELETE …/Allocations/{AllocationID}``); None when there is no such live one."""
	allocation = tenant.allocations.get(allocation_id.lower())
	if allocation is None or allocation["IsDeleted"] or allocation["CreditNoteID"] != note["CreditNoteID"]:
		return None
	allocation["IsDeleted"] = True
	invoice = tenant.invoices[allocation["InvoiceID"]]
	_apply(tenant, invoice, note, -allocation["Amount"], allocation["Date"], now)
	return allocation


def _apply(tenant: Tenant, invoice: dict, note: dict, amount: Decimal, on: date, now: datetime) -> None:
	invoice["AmountCredited"] += amount
	invoice["AmountDue"] = invoice["Total"] - invoice["AmountPaid"] - invoice["AmountCredited"]
	if invoice["AmountDue"] <= 0:
		invoice["Status"] = "PAID"
		invoice["FullyPaidOnDate"] = on
	elif invoice["Status"] == "PAID":
		invoice["Status"] = "AUTHORISED"
		invoice.pop("FullyPaidOnDate", None)
	invoice["UpdatedDateUTC"] = now
	note["RemainingCredit"] = note["Total"] - allocated(tenant, note)
	if note["RemainingCredit"] <= 0:
		note["Status"] = "PAID"
		note["FullyPaidOnDate"] = on
	elif note["Status"] == "PAID":
		note["Status"] = "AUTHORISED"
		note.pop("FullyPaidOnDate", None)
	note["UpdatedDateUTC"] = now


def add_history(tenant: Tenant, document_id: str, changes: str, details: str, now: datetime) -> dict:
	record = {"Changes": changes, "DateUTC": now, "User": SYSTEM_USER, "Details": details}
	tenant.history.setdefault(document_id, []).append(record)
	return record


# --- JSON shapes -------------------------------------------------------------------------------------


def render_allocation(tenant: Tenant, allocation: dict, *, with_credit_note: bool = True) -> dict:
	invoice = tenant.invoices[allocation["InvoiceID"]]
	note = tenant.credit_notes[allocation["CreditNoteID"]]
	out = {
		"AllocationID": allocation["AllocationID"],
		"Amount": allocation["Amount"],
		"Date": allocation["Date"],
		"Invoice": {
			"InvoiceID": invoice["InvoiceID"],
			"InvoiceNumber": invoice["InvoiceNumber"],
			"Type": invoice["Type"],
		},
	}
	if with_credit_note:
		out["CreditNote"] = {
			"CreditNoteID": note["CreditNoteID"],
			"CreditNoteNumber": note["CreditNoteNumber"],
			"Type": note["Type"],
		}
	if allocation["IsDeleted"]:
		out["IsDeleted"] = True
	return out


def render_credit_note(tenant: Tenant, note: dict, *, lines: bool = True, unitdp: int = 2) -> dict:
	contact = tenant.contacts.get(note["Contact"]["ContactID"], note["Contact"])
	out = {
		"Type": note["Type"],
		"CreditNoteID": note["CreditNoteID"],
		"CreditNoteNumber": note["CreditNoteNumber"],
		"Reference": note["Reference"],
		"Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"]},
		"DateString": date_string(note["Date"]),
		"Date": note["Date"],
		"Status": note["Status"],
		"LineAmountTypes": note["LineAmountTypes"],
		"SubTotal": note["SubTotal"],
		"TotalTax": note["TotalTax"],
		"Total": note["Total"],
		"UpdatedDateUTC": note["UpdatedDateUTC"],
		"CurrencyCode": note["CurrencyCode"],
		"CurrencyRate": note["CurrencyRate"],
		"RemainingCredit": note["RemainingCredit"],
		"SentToContact": note["SentToContact"],
		"HasAttachments": note["HasAttachments"],
		"HasErrors": False,
		"Allocations": [
			render_allocation(tenant, a, with_credit_note=False) for a in live_allocations(tenant, note)
		],
		"Payments": [],
	}
	if note.get("FullyPaidOnDate"):
		out["FullyPaidOnDate"] = note["FullyPaidOnDate"]
	if note.get("BrandingThemeID"):
		out["BrandingThemeID"] = note["BrandingThemeID"]
	if lines:
		out["LineItems"] = [render_line(line, unitdp) for line in note["LineItems"]]
	return out


def echo_credit_note(element, messages: list[str]) -> dict:
	"""A refused element as Xero echoes it: the fields it could read, plus its ValidationErrors."""
	echo = {}
	if isinstance(element, dict):
		for key in ("CreditNoteNumber", "Reference", "CurrencyCode"):
			if isinstance(element.get(key), str) and element[key]:
				echo[key] = element[key]
		if element.get("Type") in CREDIT_TYPES:
			echo["Type"] = element["Type"]
		if element.get("Status") in ("DRAFT", "SUBMITTED", "DELETED", "AUTHORISED", "PAID", "VOIDED"):
			echo["Status"] = element["Status"]
	echo["HasErrors"] = True
	echo["StatusAttributeString"] = "ERROR"
	echo["ValidationErrors"] = [{"Message": m} for m in messages]
	return echo


def echo_allocation(element, messages: list[str]) -> dict:
	echo = {}
	if isinstance(element, dict):
		try:
			echo["Amount"] = cents(to_number(element.get("Amount")))
		except ValueError:
			pass
		if isinstance(element.get("Date"), str):
			echo["Date"] = element["Date"]
		invoice = element.get("Invoice")
		if isinstance(invoice, dict):
			echo["Invoice"] = {
				k: v for k, v in invoice.items() if k in ("InvoiceNumber",) and isinstance(v, str)
			}
	echo["StatusAttributeString"] = "ERROR"
	echo["ValidationErrors"] = [{"Message": m} for m in messages]
	return echo
