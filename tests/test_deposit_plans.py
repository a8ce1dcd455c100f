"""Deposits and progress billing in the pure core: deposit invoices, their deduction by later invoices, and
Xero's own arithmetic (the sandbox's, written from Xero's documentation) over the lines the app sends."""

from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_invoice_plans import make_line, orders
from xero_sales_orders.core.deposit_plans import (
	IN_PROPORTION,
	ON_FINAL_INVOICE,
	DepositLine,
	deposit_amount,
	line_total,
	natural_tax,
	plan_deductions,
	plan_deposit,
	position,
	split_cents,
)
from xero_sales_orders.core.errors import (
	DepositExceedsError,
	InvalidDepositError,
	NothingToInvoiceError,
	OutstandingExceededError,
)
from xero_sales_orders.core.invoice_plans import plan_invoice, xero_line_terms
from xero_sales_orders.core.money import EXCLUSIVE, INCLUSIVE, NO_TAX, ZERO, line_tax
from xero_sales_orders.core.pricing import LineInput, price_line, totals
from xero_sandbox.arithmetic import compute_line, invoice_totals

ACCOUNT = "835"


def order_totals(lines, lat):
	return totals(
		[price_line(LineInput(ln.qty, ln.unit_price, ln.discount_rate, ln.tax_rate), lat) for ln in lines],
		lat,
	)


def shares_of(lines, tax_types=None):
	return [
		((tax_types or {}).get(ln.name, f"T{ln.tax_rate}"), ln.tax_rate, ln.line_amount, ln.tax_amount)
		for ln in lines
	]


def outstanding(lines, lat):
	return sum(
		(
			line_total(ln.line_amount - ln.invoiced_amount, ln.tax_amount - ln.invoiced_tax, lat)
			for ln in lines
		),
		ZERO,
	)


def as_xero_computes(rows, lat):
	"""Sends each (qty, unit, discount %, tax rate, amount, tax) row as the app sends it to Xero
	(``xero_line_terms``) and returns the totals the sandbox's Xero arithmetic computes from those terms."""
	computed = []
	for qty, unit, discount, rate, amount, tax in rows:
		terms = xero_line_terms(qty, unit, discount, rate, amount, tax, lat)
		line, problems = compute_line(
			quantity=terms["Quantity"],
			unit=terms["UnitAmount"],
			tax_rate=ZERO if lat == NO_TAX else rate,
			line_amount_type=lat,
			unitdp=4,
			tax_amount=terms.get("TaxAmount"),
			discount_rate=terms.get("DiscountRate"),
			discount_amount=terms.get("DiscountAmount"),
		)
		assert not problems, (terms, problems)
		assert (line.line_amount, line.tax_amount) == (amount, tax), (terms, line)
		computed.append(line)
	return invoice_totals(computed, lat)


def deposit_rows(deposit_lines):
	# A deposit or deduction line is one unit at its amount (negative for a deduction), as the app stores it.
	return [(D(1), d.line_amount, ZERO, d.tax_rate, d.line_amount, d.tax_amount) for d in deposit_lines]


def goods_rows(plan):
	return [
		(
			p.qty,
			p.order_line.unit_price,
			p.order_line.discount_rate,
			p.order_line.tax_rate,
			p.line_amount,
			p.tax_amount,
		)
		for p in plan.lines
	]


def assert_xero_totals_equal(totals_, xero):
	assert (xero.sub_total, xero.total_tax, xero.total) == (
		totals_.subtotal,
		totals_.total_tax,
		totals_.grand_total,
	)


def book(lines, invoices):
	"""The order's lines with what its live invoices bill (as refresh_order_invoicing derives it)."""
	billed = {}
	for invoice in invoices:
		if not invoice["live"]:
			continue
		for p in invoice["goods"]:
			q, a, t = billed.get(p.order_line.name, (ZERO, ZERO, ZERO))
			billed[p.order_line.name] = (q + p.qty, a + p.line_amount, t + p.tax_amount)
	return [
		replace(ln, invoiced_qty=q, invoiced_amount=a, invoiced_tax=t)
		for ln in lines
		for q, a, t in [billed.get(ln.name, (ZERO, ZERO, ZERO))]
	]


def live_position(invoices, mode):
	return position([d for inv in invoices if inv["live"] for d in inv["deposit"]], mode)


# --- examples -----------------------------------------------------------------------------------------------


def test_a_percentage_deposit_is_one_line_on_the_deposit_account_with_the_orders_tax():
	lines = [make_line("a", "12", "849", "5"), make_line("b", "24", "389.5")]  # 15 % GST, Exclusive
	order = order_totals(lines, EXCLUSIVE)
	assert order.grand_total == D("21880.59")
	total = deposit_amount(order.grand_total, percent="30")
	assert total == D("6564.18")  # 30 % of the total, rounded half-up
	plan = plan_deposit(
		shares_of(lines, {"a": "OUTPUT2", "b": "OUTPUT2"}),
		EXCLUSIVE,
		ACCOUNT,
		total,
		order.grand_total,
		order.grand_total,
	)
	[line] = plan.lines
	assert (line.account_code, line.tax_type, line.tax_rate) == (ACCOUNT, "OUTPUT2", D(15))
	assert line.line_amount + line.tax_amount == total
	assert line.tax_amount == line_tax(line.line_amount, D(15))  # Xero's own tax: nothing overridden
	assert plan.totals.grand_total == total


def test_a_deposit_above_the_total_or_above_what_is_still_to_invoice_is_refused():
	lines = [make_line("a", "10", "100")]
	order_total = order_totals(lines, EXCLUSIVE).grand_total  # 1150.00
	with pytest.raises(DepositExceedsError, match="above the order's total"):
		plan_deposit(shares_of(lines), EXCLUSIVE, ACCOUNT, D("1150.01"), order_total, order_total)
	with pytest.raises(DepositExceedsError, match="above what is still to invoice"):
		plan_deposit(shares_of(lines), EXCLUSIVE, ACCOUNT, D("600"), order_total, D("575.00"))
	with pytest.raises(DepositExceedsError, match="above the order's total"):
		deposit_amount(order_total, percent="100.5")
	assert deposit_amount(order_total, percent="100") == order_total


@pytest.mark.parametrize(
	"percent, amount, message",
	[
		(None, None, "either a percent"),
		("10", "100", "either a percent"),
		("0", None, "greater than 0"),
		(None, "-5", "greater than 0"),
		("abc", None, "must be a number"),
		(None, "nan", "finite"),
		(None, "1e30", "too large"),
		("12.34567", None, "4 decimal places"),
		(None, "10.001", "2 decimal places"),
	],
)
def test_malformed_deposits_are_explained(percent, amount, message):
	with pytest.raises(InvalidDepositError, match=message):
		deposit_amount(D(1000), percent=percent, amount=amount)


def test_an_order_with_two_taxes_gets_a_deposit_line_per_tax_shared_as_its_total():
	lines = [make_line("a", "1", "100", tax="15"), make_line("b", "1", "100", tax="0")]
	order_total = order_totals(lines, EXCLUSIVE).grand_total  # 115 + 100
	plan = plan_deposit(shares_of(lines), EXCLUSIVE, ACCOUNT, D("100"), order_total, order_total)
	assert [(ln.tax_rate, ln.total(EXCLUSIVE)) for ln in plan.lines] == [
		(D(15), D("53.49")),
		(D(0), D("46.51")),
	]
	assert plan.totals.grand_total == D(100)


def test_proportional_deductions_and_the_final_invoice_take_exactly_the_deposit():
	lat = EXCLUSIVE
	lines = [make_line("a", "3", "19.99"), make_line("b", "7", "4.3333", "12.5")]
	order = order_totals(lines, lat)
	deposit = plan_deposit(
		shares_of(lines),
		lat,
		ACCOUNT,
		deposit_amount(order.grand_total, percent="25"),
		order.grand_total,
		order.grand_total,
	)
	invoices = [{"goods": (), "deposit": deposit.lines, "totals": deposit.totals, "live": True}]
	for requested in ([("a", D(1))], [("b", D(3))], None):
		plan = plan_invoice(book(lines, invoices), requested, lat, live_position(invoices, IN_PROPORTION))
		assert plan.deposit_lines and all(d.line_amount < 0 for d in plan.deposit_lines)
		invoices.append(
			{"goods": plan.lines, "deposit": plan.deposit_lines, "totals": plan.totals, "live": True}
		)
	assert sum(inv["totals"].grand_total for inv in invoices) == order.grand_total
	assert sum(inv["totals"].total_tax for inv in invoices) == order.total_tax
	assert live_position(invoices, IN_PROPORTION).remaining == ()


def test_on_final_invoice_the_deposit_waits_for_the_last_invoices():
	lat = EXCLUSIVE
	lines = [make_line("a", "10", "10")]  # 115.00
	order = order_totals(lines, lat)
	deposit = plan_deposit(shares_of(lines), lat, ACCOUNT, D("50"), order.grand_total, order.grand_total)
	invoices = [{"goods": (), "deposit": deposit.lines, "totals": deposit.totals, "live": True}]
	# 69.00 is left after an invoice of 4: the deposit of 50 still fits in what follows.
	first = plan_invoice(book(lines, invoices), [("a", D(4))], lat, live_position(invoices, ON_FINAL_INVOICE))
	assert first.deposit_lines == () and first.totals.grand_total == D("46.00")
	invoices.append({"goods": first.lines, "deposit": (), "totals": first.totals, "live": True})
	# Only 11.50 is left after an invoice of 5 more: it deducts what the last invoice cannot take (38.50).
	second = plan_invoice(
		book(lines, invoices), [("a", D(5))], lat, live_position(invoices, ON_FINAL_INVOICE)
	)
	assert sum(d.total(lat) for d in second.deposit_lines) == D("-38.50")
	assert second.totals.grand_total == D("19.00")
	invoices.append(
		{"goods": second.lines, "deposit": second.deposit_lines, "totals": second.totals, "live": True}
	)
	last = plan_invoice(book(lines, invoices), None, lat, live_position(invoices, ON_FINAL_INVOICE))
	assert sum(d.total(lat) for d in last.deposit_lines) == D("-11.50")
	assert last.totals.grand_total == ZERO
	invoices.append({"goods": last.lines, "deposit": last.deposit_lines, "totals": last.totals, "live": True})
	assert sum(inv["totals"].grand_total for inv in invoices) == order.grand_total
	assert live_position(invoices, ON_FINAL_INVOICE).remaining == ()


def test_a_voided_deposit_is_no_longer_deducted_and_what_was_deducted_is_given_back():
	lat = EXCLUSIVE
	lines = [make_line("a", "10", "10")]
	order = order_totals(lines, lat)
	deposit = plan_deposit(shares_of(lines), lat, ACCOUNT, D("23"), order.grand_total, order.grand_total)
	invoices = [{"goods": (), "deposit": deposit.lines, "totals": deposit.totals, "live": True}]
	first = plan_invoice(book(lines, invoices), [("a", D(5))], lat, live_position(invoices, IN_PROPORTION))
	assert sum(d.total(lat) for d in first.deposit_lines) == D("-11.50")
	invoices.append(
		{"goods": first.lines, "deposit": first.deposit_lines, "totals": first.totals, "live": True}
	)
	invoices[0]["live"] = False  # the deposit is voided in Xero
	last = plan_invoice(book(lines, invoices), None, lat, live_position(invoices, IN_PROPORTION))
	assert [d.total(lat) for d in last.deposit_lines] == [D("11.50")]  # the 11.50 deducted comes back
	invoices.append({"goods": last.lines, "deposit": last.deposit_lines, "totals": last.totals, "live": True})
	assert sum(inv["totals"].grand_total for inv in invoices if inv["live"]) == order.grand_total
	# Voided before anything was deducted, nothing is deducted at all.
	fresh = [{"goods": (), "deposit": deposit.lines, "totals": deposit.totals, "live": False}]
	assert (
		plan_invoice(book(lines, fresh), None, lat, live_position(fresh, IN_PROPORTION)).deposit_lines == ()
	)


def test_split_cents_adds_up_and_natural_tax_is_xeros():
	assert split_cents(D("1.00"), [D(1), D(1), D(1)]) == [D("0.34"), D("0.33"), D("0.33")]
	assert split_cents(D("0.05"), [D(3), D(1)]) == [D("0.04"), D("0.01")]
	assert natural_tax(D("115.00"), D(15), EXCLUSIVE) == D("15.00")
	assert natural_tax(D("115.00"), D(15), INCLUSIVE) == D("15.00")
	assert natural_tax(D("115.00"), D(15), NO_TAX) == ZERO
	# No amount a has a + round(a x 15 %) = 0.50: the nearest amount and the rest as tax.
	assert natural_tax(D("0.50"), D(15), EXCLUSIVE) == D("0.07")


def test_position_sums_live_rows_per_account_and_tax():
	rows = [
		DepositLine("OUTPUT2", D(15), D("100"), D("15"), ACCOUNT),
		DepositLine("OUTPUT2", D(15), D("-40"), D("-6"), ACCOUNT),
		DepositLine("NONE", D(0), D("10"), ZERO, ACCOUNT),
		DepositLine("NONE", D(0), D("-10"), ZERO, ACCOUNT),
	]
	p = position(rows, None)
	assert p.mode == IN_PROPORTION
	assert p.remaining == (DepositLine("OUTPUT2", D(15), D("60"), D("9"), ACCOUNT),)
	assert position([], IN_PROPORTION) is None
	with pytest.raises(InvalidDepositError, match="Deduct deposit must be one of"):
		position(rows, "Whenever")


def test_no_deposit_changes_nothing():
	lines = [make_line("a", "3", "0.3333")]
	assert plan_invoice(lines, [("a", D(1))]) == plan_invoice(lines, [("a", D(1))], EXCLUSIVE, None)
	assert plan_deductions(None, EXCLUSIVE, D(1), D(1), True) == ()


# --- properties ---------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(orders(), st.sampled_from([IN_PROPORTION, ON_FINAL_INVOICE]), st.data())
def test_random_deposits_and_partial_invoices_add_up_to_the_order_to_the_cent(order, mode, data):
	lat, lines = order
	order_ = order_totals(lines, lat)
	shares = shares_of(lines)
	invoices = []
	for _ in range(25):
		booked = book(lines, invoices)
		if not any(ln.outstanding_qty > 0 for ln in booked):
			break
		deposits = live_position(invoices, mode)
		left = outstanding(booked, lat)
		action = data.draw(st.sampled_from(["deposit", "invoice", "invoice", "void deposit", "void invoice"]))
		if action == "deposit":
			still = left - (deposits.total(lat) if deposits else ZERO)
			if data.draw(st.booleans()):
				total = deposit_amount(
					order_.grand_total,
					percent=data.draw(st.decimals(min_value=D("0.0001"), max_value=D(100), places=4)),
				)
			else:
				total = data.draw(
					st.decimals(
						min_value=D("0.01"), max_value=max(order_.grand_total, D("0.01")) * 2, places=2
					)
				)
			if total > order_.grand_total or total > still or order_.grand_total == 0:
				with pytest.raises(DepositExceedsError):
					plan_deposit(shares, lat, ACCOUNT, total, order_.grand_total, still)
				continue
			plan = plan_deposit(shares, lat, ACCOUNT, total, order_.grand_total, still)
			assert plan.totals.grand_total == total
			assert_xero_totals_equal(plan.totals, as_xero_computes(deposit_rows(plan.lines), lat))
			invoices.append({"goods": (), "deposit": plan.lines, "totals": plan.totals, "live": True})
		elif action == "invoice":
			open_lines = [ln for ln in booked if ln.outstanding_qty > 0]
			chosen = data.draw(
				st.lists(st.sampled_from(open_lines), min_size=1, unique_by=lambda ln: ln.name)
			)
			requested = [
				(
					ln.name,
					data.draw(
						st.one_of(
							st.just(ln.outstanding_qty),
							st.decimals(min_value=D("0.0001"), max_value=ln.outstanding_qty, places=4),
						)
					),
				)
				for ln in chosen
			]
			plan = plan_invoice(booked, requested, lat, deposits)
			assert plan.totals.grand_total >= 0, "an invoice below zero is a credit note, not an invoice"
			assert_xero_totals_equal(
				plan.totals, as_xero_computes(goods_rows(plan) + deposit_rows(plan.deposit_lines), lat)
			)
			invoices.append(
				{"goods": plan.lines, "deposit": plan.deposit_lines, "totals": plan.totals, "live": True}
			)
		else:
			kind = "goods" if action == "void invoice" else "deposit"
			live = [inv for inv in invoices if inv["live"] and (bool(inv["goods"]) == (kind == "goods"))]
			if live:
				data.draw(st.sampled_from(live))["live"] = False
		after = live_position(invoices, mode)
		booked = book(lines, invoices)
		# What is left to deduct always fits in what is left to invoice (and what is owed back).
		if after:
			owed = -sum((d.total(lat) for d in after.remaining if d.total(lat) < 0), ZERO)
			due = sum((d.total(lat) for d in after.remaining if d.total(lat) > 0), ZERO)
			assert due <= outstanding(booked, lat) + owed
	booked = book(lines, invoices)
	if any(ln.outstanding_qty > 0 for ln in booked):
		plan = plan_invoice(booked, None, lat, live_position(invoices, mode))
		assert plan.totals.grand_total >= 0
		assert_xero_totals_equal(
			plan.totals, as_xero_computes(goods_rows(plan) + deposit_rows(plan.deposit_lines), lat)
		)
		invoices.append(
			{"goods": plan.lines, "deposit": plan.deposit_lines, "totals": plan.totals, "live": True}
		)
	booked = book(lines, invoices)
	live = [inv for inv in invoices if inv["live"]]
	remaining = live_position(invoices, mode)
	assert remaining is None or remaining.remaining == (), remaining
	assert sum(inv["totals"].subtotal for inv in live) == order_.subtotal
	assert sum(inv["totals"].total_tax for inv in live) == order_.total_tax
	assert sum(inv["totals"].grand_total for inv in live) == order_.grand_total
	for ln in booked:
		assert (ln.invoiced_qty, ln.invoiced_amount, ln.invoiced_tax) == (
			ln.qty,
			ln.line_amount,
			ln.tax_amount,
		)
	with pytest.raises((NothingToInvoiceError, OutstandingExceededError)):
		plan_invoice(booked, None, lat, live_position(invoices, mode))


@settings(max_examples=200, deadline=None)
@given(orders(), st.data())
def test_a_deposit_on_the_deposit_account_totals_in_xero_as_in_the_app(order, data):
	lat, lines = order
	grand = order_totals(lines, lat).grand_total
	if grand <= 0:
		return
	total = data.draw(st.decimals(min_value=D("0.01"), max_value=grand, places=2))
	plan = plan_deposit(shares_of(lines), lat, ACCOUNT, total, grand, grand)
	assert plan.totals.grand_total == total
	for line in plan.lines:
		assert line.account_code == ACCOUNT and line.line_amount >= 0 and line.tax_amount >= 0
		if lat == NO_TAX:
			assert line.tax_amount == 0
	assert_xero_totals_equal(plan.totals, as_xero_computes(deposit_rows(plan.lines), lat))
