"""The order lifecycle: Draft -> Open -> Partially Invoiced -> Fully Invoiced, Closed, Cancelled."""

from collections.abc import Iterable
from decimal import Decimal

from .errors import StatusRuleError

DRAFT = "Draft"
OPEN = "Open"
PARTIALLY_INVOICED = "Partially Invoiced"
FULLY_INVOICED = "Fully Invoiced"
CLOSED = "Closed"
CANCELLED = "Cancelled"
ORDER_STATUSES = (DRAFT, OPEN, PARTIALLY_INVOICED, FULLY_INVOICED, CLOSED, CANCELLED)

# Xero invoice statuses; an invoice counts towards invoiced qty unless it is dead.
DEAD_INVOICE_STATUSES = frozenset({"VOIDED", "DELETED"})
INVOICE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED")


def invoicing_status(lines: Iterable[tuple[Decimal, Decimal]]) -> str:
	"""Open, Partially or Fully Invoiced from (ordered qty, invoiced qty) pairs."""
	any_invoiced = False
	all_invoiced = True
	for qty, invoiced in lines:
		if invoiced > 0:
			any_invoiced = True
		if invoiced < qty:
			all_invoiced = False
	if any_invoiced and all_invoiced:
		return FULLY_INVOICED
	return PARTIALLY_INVOICED if any_invoiced else OPEN


def derive_status(docstatus: int, is_closed: bool, lines: Iterable[tuple[Decimal, Decimal]]) -> str:
	if docstatus == 0:
		return DRAFT
	if docstatus == 2:
		return CANCELLED
	if is_closed:
		return CLOSED
	return invoicing_status(lines)


def is_live_invoice(xero_status: str | None) -> bool:
	return (xero_status or "DRAFT") not in DEAD_INVOICE_STATUSES


def ensure_can_invoice(status: str) -> None:
	if status in (OPEN, PARTIALLY_INVOICED):
		return
	reasons = {
		DRAFT: "it is a Draft; submit it first",
		FULLY_INVOICED: "it is already fully invoiced",
		CLOSED: "it is Closed; re-open it first",
		CANCELLED: "it is Cancelled",
	}
	raise StatusRuleError(f"Cannot invoice this order: {reasons.get(status, f'its status is {status}')}")


def ensure_can_close(status: str) -> None:
	if status not in (OPEN, PARTIALLY_INVOICED, FULLY_INVOICED):
		raise StatusRuleError(
			f"Only an Open, Partially Invoiced or Fully Invoiced order can be closed, not a {status} one"
		)


def ensure_can_reopen(status: str) -> None:
	if status != CLOSED:
		raise StatusRuleError(f"Only a Closed order can be re-opened; this one is {status}")
