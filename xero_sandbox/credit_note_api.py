"""``/CreditNotes`` (with ``/Allocations`` and ``/History``), ``/Invoices/{id}/Email`` and ``/Invoices/{id}/History``
as Xero answers them (facts §11). Routed from ``accounting.ROUTES``."""

from .accounting import (
	Answer,
	ApiError,
	ApiRequest,
	_batch,
	_filter,
	_listing,
	_paginate,
	bad_request,
	envelope,
	not_found,
)
from .credit_notes import (
	SYSTEM_USER,
	add_history,
	allocate,
	delete_allocation,
	echo_allocation,
	echo_credit_note,
	render_allocation,
	render_credit_note,
	write_credit_note,
)

MAX_HISTORY_DETAILS = 250  # facts §11: a note holds at most 250 characters
EMAILABLE_STATUSES = ("SUBMITTED", "AUTHORISED", "PAID")


def credit_notes(request: ApiRequest) -> Answer:
	tenant = request.tenant
	segments = request.segments
	method = request.method
	if len(segments) >= 3 and segments[2].lower() == "allocations":
		return _allocations(request)
	if len(segments) == 3 and segments[2].lower() == "history":
		note = tenant.find_credit_note(segments[1])
		if note is None:
			raise not_found()
		return history(request, note["CreditNoteID"])
	if len(segments) > 2:
		raise not_found()
	if method == "DELETE":
		raise ApiError(
			405, {"Title": "MethodNotAllowed", "Status": 405, "Detail": "DELETE is not allowed here"}
		)
	if method in ("PUT", "POST"):
		return _write(request)
	unitdp = request.unitdp
	if len(segments) == 2:
		note = tenant.find_credit_note(segments[1])
		if note is None:
			raise not_found()
		return Answer(200, envelope(request, CreditNotes=[render_credit_note(tenant, note, unitdp=unitdp)]))
	rows = list(tenant.credit_notes.values())
	# Filtered in their public shape, so ``where=Type=="ACCRECCREDIT"`` and ``CreditNoteID==Guid("…")`` work.
	rendered = [render_credit_note(tenant, note, lines=True, unitdp=unitdp) for note in rows]
	rendered, pagination = _paginate(_filter(rendered, request), request)
	if pagination is None:  # as for invoices, a list carries lines only when it is paged
		for row in rendered:
			row.pop("LineItems", None)
	return _listing(request, "CreditNotes", rendered, pagination)


def _write(request: ApiRequest) -> Answer:
	tenant = request.tenant
	path_key = request.segments[1] if len(request.segments) == 2 else None
	if path_key and request.method == "PUT":
		raise ApiError(405, {"Title": "MethodNotAllowed", "Status": 405, "Detail": "PUT is not allowed here"})

	def write_one(element):
		existing = None
		if path_key:
			existing = tenant.find_credit_note(path_key)
			if existing is None:
				return None, [f"Credit note {path_key} could not be found"]
		elif isinstance(element, dict) and element.get("CreditNoteID"):
			if request.method == "PUT":
				return None, ["PUT creates credit notes only; use POST to update one"]
			existing = tenant.credit_notes.get(str(element["CreditNoteID"]).lower())
			if existing is None:
				return None, [f"Credit note {element['CreditNoteID']} could not be found"]
		return write_credit_note(
			tenant, element, now=request.now, today=request.today, unitdp=request.unitdp, existing=existing
		)

	return _batch(
		request,
		"CreditNotes",
		write_one,
		lambda note: render_credit_note(tenant, note, unitdp=request.unitdp),
		echo_credit_note,
	)


def _allocations(request: ApiRequest) -> Answer:
	tenant = request.tenant
	segments = request.segments
	note = tenant.find_credit_note(segments[1])
	if note is None:
		raise not_found()
	if len(segments) == 4 and request.method == "DELETE":
		allocation = delete_allocation(tenant, note, segments[3], now=request.now)
		if allocation is None:
			raise not_found()
		return Answer(200, render_allocation(tenant, allocation))
	if len(segments) != 3 or request.method not in ("PUT", "POST"):
		raise ApiError(
			405,
			{"Title": "MethodNotAllowed", "Status": 405, "Detail": "PUT allocations; DELETE one by its id"},
		)
	return _batch(
		request,
		"Allocations",
		lambda element: allocate(tenant, note, element, now=request.now, today=request.today),
		lambda allocation: render_allocation(tenant, allocation),
		echo_allocation,
	)


def history(request: ApiRequest, document_id: str) -> Answer:
	"""GET a document's history; PUT (or POST) adds notes of at most 250 characters, by "System Generated"."""
	tenant = request.tenant
	if request.method == "GET":
		records = [dict(r) for r in tenant.history.get(document_id, [])]
		return Answer(200, envelope(request, HistoryRecords=records))
	if request.method not in ("PUT", "POST"):
		raise ApiError(405, {"Title": "MethodNotAllowed", "Status": 405, "Detail": "GET or PUT history"})
	body = request.json_body()
	records = body.get("HistoryRecords") if isinstance(body, dict) else None
	if not isinstance(records, list) or not records:
		raise bad_request(
			"The request body must be {'HistoryRecords': [...]}", "PostDataInvalidException", 14
		)
	problems = []
	for record in records:
		details = record.get("Details") if isinstance(record, dict) else None
		if not isinstance(details, str) or not details.strip():
			problems.append("A history note needs its Details")
		elif len(details) > MAX_HISTORY_DETAILS:
			problems.append(
				f"The Details of a history note must be at most {MAX_HISTORY_DETAILS} characters long"
			)
	if problems:
		raise bad_request("; ".join(dict.fromkeys(problems)))
	added = [add_history(tenant, document_id, "Note", r["Details"], request.now) for r in records]
	return Answer(
		200,
		envelope(
			request,
			HistoryRecords=[
				{"DateUTC": r["DateUTC"], "Details": r["Details"], "ValidationErrors": []} for r in added
			],
		),
	)


def email_invoice(request: ApiRequest, invoice: dict) -> Answer:
	"""``POST /Invoices/{id}/Email`` (body ``{}``): Xero emails a sales invoice that is SUBMITTED, AUTHORISED or
	PAID to the contact's address (and its contact persons marked IncludeInEmails) and answers 204; it refuses
	with 400 when there is nobody to send it to."""
	tenant = request.tenant
	body = request.json_body()
	if not isinstance(body, dict):
		raise bad_request("The request body must be a JSON object, e.g. {}", "PostDataInvalidException", 14)
	if invoice["Type"] != "ACCREC":
		raise bad_request("Only sales invoices (ACCREC) can be emailed")
	if invoice["Status"] not in EMAILABLE_STATUSES:
		raise bad_request(
			f"An invoice can only be emailed when it is SUBMITTED, AUTHORISED or PAID, not {invoice['Status']}"
		)
	contact = tenant.contacts.get(invoice["Contact"]["ContactID"]) or {}
	recipients = [contact.get("EmailAddress")] + [
		person.get("EmailAddress")
		for person in contact.get("ContactPersons") or []
		if isinstance(person, dict) and person.get("IncludeInEmails")
	]
	recipients = [r for r in recipients if isinstance(r, str) and r.strip()]
	if not recipients:
		raise bad_request(
			f"The contact {contact.get('Name') or ''} has no email address to send the invoice to"
		)
	invoice["SentToContact"] = True
	# Xero does not bump UpdatedDateUTC for SentToContact on a partly paid invoice (facts §5).
	if not invoice["AmountPaid"]:
		invoice["UpdatedDateUTC"] = request.now
	add_history(
		tenant,
		invoice["InvoiceID"],
		"Sent",
		f"This invoice has been sent to {', '.join(recipients)} by email.",
		request.now,
	)
	return Answer(204, None)


__all__ = ["SYSTEM_USER", "credit_notes", "email_invoice", "history"]
