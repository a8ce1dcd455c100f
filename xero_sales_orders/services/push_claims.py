"""What every push of a document to Xero shares (invoices in ``invoice_push``, credit notes in
``credit_note_push``), so that none is lost and none is doubled:

- a claim with a lease: a pusher takes the Pending documents it sends by a state change committed on its own,
  counting the attempt, and holds no lock while Xero answers; a claim older than the lease was left by a pusher
  that died, and may be taken again;
- results written only while the pusher still holds its claim, so a late answer never overwrites a newer state;
- the Idempotency-Key: kept within Xero's window, replaced after it (the old key may be forgotten, or hold an
  error), and a batch's key derived from its documents' keys so that a retry of the same batch sends the same;
- the lookup by number: a document with an earlier attempt may be in Xero already (its answer lost), so it is
  first looked up by the number the app assigned; Xero's document under that number is ours only when it is for
  our contact and carries our total or our reference.

The document's doctype needs ``push_state`` (Pending, Pushed, Failed), ``push_claim``, ``push_claimed_until``,
``push_attempts``, ``last_attempt_at``, ``idempotency_key``, ``customer``, ``total`` and ``reference``.
"""

import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

import frappe
from frappe.utils import now_datetime

from xero_sales_orders.core.money import round_money, to_decimal

# Xero keeps an idempotency key for about 6 minutes; past this, a re-send gets a new key.
IDEMPOTENCY_WINDOW = timedelta(minutes=5)
# Longer than a push can take (two retries of its timeout plus rate-limit waits): a claim older than this was
# left by a pusher that died, and the document may be claimed again.
CLAIM_LEASE = timedelta(minutes=5)
RETRY_BACKOFF_SECONDS = (0, 30, 60, 120, 300, 600, 1800)
# Only these doctypes are claimed (their table names go into SQL).
CLAIMABLE = ("Xero Invoice", "Xero Credit Note")


# The most seconds one push call may spend before its last try (waiting for Xero's rate limits, an answer that
# never came, retries): a push made inside a user's request answers (the document Pending, for the scheduled
# retry) before a proxy's 60 s give up on it, and an answer lost after Xero stored the invoice (a 20 s read
# timeout) still gets its retry under the same Idempotency-Key.
CALL_BUDGET = 30.0


def claim_documents(doctype: str, names: list[str], claim: str) -> list:
	"""Claims the documents still Pending and not claimed by a live pusher, counting the attempt, in a commit
	of its own; returns them with ``earlier_attempts`` and ``previous_attempt_at`` set."""
	table = _table(doctype)
	frappe.db.commit()
	if not names:
		return []
	before = {
		r.name: r
		for r in frappe.get_all(
			doctype, {"name": ["in", names]}, ["name", "push_attempts", "last_attempt_at"]
		)
	}
	now = now_datetime()
	frappe.db.sql(
		f"""update {table}
		set push_claim = %(claim)s, push_claimed_until = %(until)s,
			push_attempts = push_attempts + 1, last_attempt_at = %(now)s
		where name in %(names)s and push_state = 'Pending'
			and (push_claim is null or push_claim = '' or push_claimed_until < %(now)s)""",
		{"claim": claim, "until": now + CLAIM_LEASE, "now": now, "names": names},
	)
	frappe.db.commit()
	claimed = frappe.get_all(doctype, {"push_claim": claim}, pluck="name", order_by="name asc")
	documents = []
	for name in claimed:
		document = frappe.get_doc(doctype, name)
		document.earlier_attempts = before[name].push_attempts or 0
		document.previous_attempt_at = before[name].last_attempt_at
		documents.append(document)
	return documents


def release_claim(doctype: str, claim: str) -> None:
	"""Drops whatever this pusher still claims (its results are written already, or it failed)."""
	frappe.db.rollback()
	frappe.db.sql(
		f"update {_table(doctype)} set push_claim = null, push_claimed_until = null where push_claim = %s",
		claim,
	)
	frappe.db.commit()


def push_by_organisation(doctype: str, names: list[str], push_group: Callable, what: str) -> dict[str, str]:
	"""Pushes the given documents one organisation at a time, each group under a claim of its own
	(``push_group(connection, tenant_id, names, claim)``), and returns each document's push state. An
	organisation whose push fails unexpectedly (a token refresh that errors, a bug) costs only its own
	documents' turn: what Xero accepted for the others is already committed."""
	groups = defaultdict(list)
	for row in frappe.get_all(
		doctype, filters={"name": ["in", names]}, fields=["name", "connection", "tenant_id"], order_by="name"
	):
		if row.connection and row.tenant_id:
			groups[(row.connection, row.tenant_id)].append(row.name)
	for (connection, tenant_id), group in groups.items():
		claim = uuid.uuid4().hex
		try:
			push_group(connection, tenant_id, group, claim)
		except Exception:
			frappe.db.rollback()
			frappe.log_error(title=f"Pushing {what} to Xero failed for {connection} / {tenant_id}")
		finally:
			release_claim(doctype, claim)
	return dict(
		frappe.get_all(doctype, filters={"name": ["in", names]}, fields=["name", "push_state"], as_list=True)
	)


def unclaimed() -> dict:
	return {"push_claim": None, "push_claimed_until": None}


def record_push(doctype: str, document, values: dict, claim: str | None = None, **conditions) -> None:
	"""Writes push results straight to the row (db_set would reload the whole document for each one), and only
	while this pusher still holds the claim, so a late answer never overwrites a newer state."""
	document.update(values)
	filters = {"name": document.name, **conditions}
	if claim:
		filters["push_claim"] = claim
	frappe.db.set_value(doctype, filters, values, update_modified=False)


def outside_window(document) -> bool:
	"""Whether the document's last attempt is older than Xero's idempotency window (or unknown)."""
	previous = document.previous_attempt_at
	return not previous or now_datetime() - previous > IDEMPOTENCY_WINDOW


def refresh_keys_outside_window(documents) -> None:
	for document in documents:
		if document.earlier_attempts and outside_window(document):
			document.idempotency_key = uuid.uuid4().hex  # the old key may be forgotten, or hold an error


def key_after_failure(document, transient: bool) -> str:
	"""The key a failed attempt leaves: the same one while the outcome is unknown (a retry in Xero's window is
	then replayed, never doubled), a new one after Xero refused the document (it stored nothing, and the old
	key holds the refusal, which Xero would replay to a retry sent once the cause is fixed)."""
	if not transient:
		document.idempotency_key = uuid.uuid4().hex
	return document.idempotency_key


def batch_key(documents) -> str:
	"""One document's own key; a batch's derived from its documents' keys (a retry of the same batch sends the
	same key, any other batch another one)."""
	if len(documents) == 1:
		return documents[0].idempotency_key
	return uuid.uuid5(uuid.NAMESPACE_OID, ",".join(sorted(d.idempotency_key for d in documents))).hex


def due_for_retry(candidates, now=None) -> list[str]:
	"""The names of the candidates (rows with ``name``, ``push_attempts``, ``last_attempt_at``) whose backoff
	has passed."""
	now = now or now_datetime()
	return [
		c.name
		for c in candidates
		if not c.last_attempt_at
		or (now - c.last_attempt_at).total_seconds()
		>= RETRY_BACKOFF_SECONDS[min(c.push_attempts or 0, len(RETRY_BACKOFF_SECONDS) - 1)]
	]


def found_under_our_numbers(documents, number_field: str, elements, number_key: str) -> dict[str, dict]:
	"""Of the ``elements`` Xero holds (looked up by our numbers), those that are ours, by local name. A number
	Xero holds for another contact or amount is not ours (someone typed it in Xero), and a DELETED one is gone."""
	held = {e.get(number_key): e for e in elements}
	found = {}
	for document in documents:
		element = held.get(document.get(number_field))
		if element and element.get("Status") != "DELETED" and is_ours(document, element):
			found[document.name] = element
	return found


def is_ours(document, element: dict) -> bool:
	"""Xero's document under our number is ours when it is for our contact and carries our reference or our
	total (Xero's total may differ from ours, which is flagged, not a reason to send the document twice)."""
	contact_id = frappe.db.get_value("Xero Contact", document.customer, "contact_id") or document.customer
	theirs = ((element.get("Contact") or {}).get("ContactID") or "").lower()
	if theirs != (contact_id or "").lower():
		return False
	same_total = round_money(to_decimal(element.get("Total"))) == round_money(to_decimal(document.total))
	return same_total or (element.get("Reference") or "") == (document.reference or "")


def _table(doctype: str) -> str:
	if doctype not in CLAIMABLE:
		raise ValueError(f"{doctype} is not pushed to Xero")
	return f"`tab{doctype}`"
