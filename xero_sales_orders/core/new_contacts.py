"""A new Xero contact typed in the order form: its fields checked as Xero checks them, the body of
``PUT /Contacts``, and Xero's refusals that mean "Xero holds that contact already" (facts §11)."""

import re
from dataclasses import dataclass

from .errors import ContactRuleError

NAME_LENGTH = 255  # Xero's Name, and the app's contact-name column
EMAIL_LENGTH = 255
ACCOUNT_NUMBER_LENGTH = 50
PAYMENT_TERM_TYPES = ("DAYSAFTERBILLDATE", "DAYSAFTERBILLMONTH", "OFCURRENTMONTH", "OFFOLLOWINGMONTH")
OF_A_MONTH = ("OFCURRENTMONTH", "OFFOLLOWINGMONTH")
# What Xero accepts as an address; stricter checks are Xero's own (it answers "Email address must be valid.").
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The request key a retry repeats (the desk makes one per dialog): it becomes part of the Idempotency-Key.
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

# Xero's refusals of a contact it already holds, by what is taken.
NAME_TAKEN = "is already assigned to another contact"
ACCOUNT_NUMBER_TAKEN = "The Account Number already exists"


@dataclass(frozen=True)
class NewContact:
	name: str
	email: str | None = None
	account_number: str | None = None
	payment_terms_day: int | None = None
	payment_terms_type: str | None = None

	def xero_body(self) -> dict:
		"""The contact as ``PUT /Contacts`` takes it."""
		body = {"Name": self.name}
		if self.email:
			body["EmailAddress"] = self.email
		if self.account_number:
			body["AccountNumber"] = self.account_number
		if self.payment_terms_type:
			body["PaymentTerms"] = {"Sales": {"Day": self.payment_terms_day, "Type": self.payment_terms_type}}
		return body


def _text(value, label: str, limit: int) -> str | None:
	if value is None:
		return None
	if not isinstance(value, str):
		raise ContactRuleError(f"{label} must be text, not {type(value).__name__}")
	value = " ".join(value.split())  # Xero trims and keeps one space between words
	if len(value) > limit:
		raise ContactRuleError(f"{label} must be at most {limit} characters, not {len(value)}")
	return value or None


def parse_new_contact(
	name, email=None, account_number=None, payment_terms_day=None, payment_terms_type=None
) -> NewContact:
	"""The typed fields, normalised; a ``ContactRuleError`` names the first one Xero would refuse."""
	name = _text(name, "Name", NAME_LENGTH)
	if not name:
		raise ContactRuleError("Give the contact's name")
	email = _text(email, "Email", EMAIL_LENGTH)
	if email and not EMAIL.match(email):
		raise ContactRuleError(f"Email {email!r} is not an email address")
	account_number = _text(account_number, "Account Number", ACCOUNT_NUMBER_LENGTH)
	kind = _text(payment_terms_type, "Payment terms type", 40)
	day = None
	if payment_terms_day not in (None, ""):
		try:
			day = int(str(payment_terms_day).strip())
		except ValueError:
			raise ContactRuleError(
				f"Payment terms day must be a whole number, not {payment_terms_day!r}"
			) from None
	if kind:
		kind = kind.upper()
		if kind not in PAYMENT_TERM_TYPES:
			raise ContactRuleError(
				f"Payment terms type must be one of {', '.join(PAYMENT_TERM_TYPES)}, not {kind!r}"
			)
		if day is None:
			raise ContactRuleError("Give the payment terms day with the payment terms type")
		if kind in OF_A_MONTH and not 1 <= day <= 31:
			raise ContactRuleError(f"Payment terms {kind} need a day of the month from 1 to 31, not {day}")
		if not 0 <= day <= 366:
			raise ContactRuleError(f"Payment terms day must be from 0 to 366 days, not {day}")
	elif day is not None:
		raise ContactRuleError("Give the payment terms type with the payment terms day")
	return NewContact(name, email, account_number, day, kind)


def parse_request_id(value) -> str | None:
	if value in (None, ""):
		return None
	if not isinstance(value, str) or not REQUEST_ID.match(value):
		raise ContactRuleError("request_id must be 8 to 64 letters, digits, '-' or '_'")
	return value


def taken_by(errors: list[str]) -> str | None:
	"""``"name"`` or ``"account_number"`` when Xero refused the contact because it holds one with that name
	or account number already; None for any other refusal."""
	text = " ".join(errors)
	if NAME_TAKEN in text:
		return "name"
	if ACCOUNT_NUMBER_TAKEN in text:
		return "account_number"
	return None


def holder(contacts: list[dict], new: NewContact, reason: str) -> dict | None:
	"""Of Xero's contacts found for the new one, the one that holds its name (an active one, as Xero's rule
	is) or its account number."""
	if reason == "name":
		wanted = new.name.casefold()
		return next(
			(
				c
				for c in contacts
				if (c.get("Name") or "").casefold() == wanted
				and (c.get("ContactStatus") or "ACTIVE") == "ACTIVE"
			),
			None,
		)
	wanted = (new.account_number or "").casefold()
	return next(
		(c for c in contacts if wanted and (c.get("AccountNumber") or "").strip().casefold() == wanted), None
	)
