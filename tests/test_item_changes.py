"""Update items on a submitted order in the pure core: what the invoices allow, prices, totals, the timeline."""

import itertools
from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_invoice_plans import apply, orders
from xero_sales_orders.core.errors import InvalidItemChangeError, ItemChangeRefusedError, LineValidationError
from xero_sales_orders.core.invoice_plans import OrderLine, plan_invoice
from xero_sales_orders.core.item_changes import (
	StoredLine,
	WantedLine,
	ensure_can_change_items,
	plan_item_changes,
)
from xero_sales_orders.core.money import EXCLUSIVE, ZERO
from xero_sales_orders.core.pricing import LineInput, PricedLine, price_line, totals


def stored(
	name, idx, qty, unit, discount="0", tax="15", invoiced=(ZERO, ZERO, ZERO), lat=EXCLUSIVE, **details
):
	figures = LineInput(D(qty), D(unit), D(discount), D(tax))
	p = price_line(figures, lat)
	return StoredLine(
		name,
		idx,
		figures,
		p.line_amount,
		p.tax_amount,
		*invoiced,
		details={"item_code": name.upper(), **details},
	)


def keep(line: StoredLine, **changes):
	f = line.figures
	values = {
		"qty": f.qty,
		"unit_price": f.unit_price,
		"discount_rate": f.discount_rate,
		"tax_rate": f.tax_rate,
	}
	details = dict(line.details)
	for key, value in changes.items():
		if key in values:
			values[key] = value
		else:
			details[key] = value
	return WantedLine(line.name, details=details, **values)


def test_change_add_and_remove_lines_of_an_uninvoiced_order():
	a, b = stored("a", 1, "10", "12.5"), stored("b", 2, "3", "0.3333")
	result = plan_item_changes(
		[a, b],
		[
			keep(a, qty=D(8), unit_price=D(13), discount_rate=D(5)),
			WantedLine(None, "2", "100", "0", "15", {"description": "Oak desk"}),
		],
		EXCLUSIVE,
	)
	assert [line.name for line in result.lines] == ["a", None]
	assert result.removed == ("b",)
	assert [line.line_amount for line in result.lines] == [D("98.80"), D("200.00")]
	assert result.totals.grand_total == D("343.62")
	assert [c.kind for c in result.changes] == ["changed", "added", "removed"]
	assert result.changes[0].fields == (
		("qty", "10", "8"),
		("unit_price", "12.5", "13"),
		("discount_rate", "0", "5"),
	)
	assert result.changes[1].label == "row 2 (Oak desk)"
	assert result.changes[2].fields[0] == ("qty", "3", None)


def test_an_invoiced_line_only_changes_its_quantity_and_never_below_what_is_invoiced():
	a = stored("a", 1, "10", "12.5", invoiced=(D(4), D("50.00"), D("7.50")))
	with pytest.raises(ItemChangeRefusedError, match="4 of it is invoiced already"):
		plan_item_changes([a], [keep(a, qty=D("3.9999"))], EXCLUSIVE)
	with pytest.raises(ItemChangeRefusedError, match=r"Cannot change Unit Price of row 1 \(A\)"):
		plan_item_changes([a], [keep(a, unit_price=D(13))], EXCLUSIVE)
	with pytest.raises(ItemChangeRefusedError, match="Discount %, Description, Tracking Option 1"):
		plan_item_changes(
			[a], [keep(a, discount_rate=D(1), description="other", tracking_option_1="x")], EXCLUSIVE
		)
	with pytest.raises(ItemChangeRefusedError, match="Cannot remove row 1"):
		plan_item_changes([a, stored("b", 2, "1", "1")], [keep(stored("b", 2, "1", "1"))], EXCLUSIVE)
	more = plan_item_changes([a], [keep(a, qty=D(12))], EXCLUSIVE)
	assert (more.lines[0].line_amount, more.lines[0].tax_amount) == (D("150.00"), D("22.50"))
	less = plan_item_changes([a], [keep(a, qty=D(4))], EXCLUSIVE)
	assert (less.lines[0].line_amount, less.lines[0].tax_amount) == (D("50.00"), D("7.50"))


def test_a_quantity_down_to_what_is_invoiced_keeps_the_invoiced_figures():
	# 3 x 0.3333 = 1.00; two invoices of 1 billed 0.33 each: at qty 2 the line is 0.66, not round(0.6666).
	a = stored("a", 1, "3", "0.3333", invoiced=(D(2), D("0.66"), D("0.10")))
	result = plan_item_changes([a], [keep(a, qty=D(2))], EXCLUSIVE)
	assert (result.lines[0].line_amount, result.lines[0].tax_amount) == (D("0.66"), D("0.10"))
	assert result.totals.grand_total == D("0.76")


def test_refusals_and_malformed_requests():
	a = stored("a", 1, "10", "12.5")
	with pytest.raises(InvalidItemChangeError, match="at least one line"):
		plan_item_changes([a], [], EXCLUSIVE)
	with pytest.raises(InvalidItemChangeError, match="not a line of this order"):
		plan_item_changes([a], [WantedLine("zzz", "1", "1", details={"description": "x"})], EXCLUSIVE)
	with pytest.raises(InvalidItemChangeError, match="more than once"):
		plan_item_changes([a], [keep(a), keep(a)], EXCLUSIVE)
	with pytest.raises(InvalidItemChangeError, match="item code or a description"):
		plan_item_changes([a], [keep(a), WantedLine(None, "1", "1")], EXCLUSIVE)
	with pytest.raises(LineValidationError, match="Quantity must be greater than 0"):
		plan_item_changes([a], [keep(a, qty=D(0))], EXCLUSIVE)
	with pytest.raises(LineValidationError, match="Discount % must be between 0 and 100"):
		plan_item_changes([a], [keep(a, discount_rate=D(101))], EXCLUSIVE)
	with pytest.raises(LineValidationError, match="must be a number"):
		plan_item_changes([a], [keep(a, qty="lots")], EXCLUSIVE)
	for status in ("Draft", "Fully Invoiced", "Closed", "Cancelled"):
		with pytest.raises(ItemChangeRefusedError, match="Cannot update the items"):
			ensure_can_change_items(status)
	ensure_can_change_items("Open")
	ensure_can_change_items("Partially Invoiced")


def test_the_deposit_not_yet_deducted_must_still_fit():
	a = stored("a", 1, "10", "10")  # 115.00
	with pytest.raises(ItemChangeRefusedError, match="less than the 60.00 of deposit"):
		plan_item_changes([a], [keep(a, qty=D(5))], EXCLUSIVE, deposit_remaining=D(60))
	assert plan_item_changes(
		[a], [keep(a, qty=D(6))], EXCLUSIVE, deposit_remaining=D(60)
	).totals.grand_total == D("69.00")


def test_nothing_changed_changes_nothing_and_keeps_stored_figures():
	# An imported line carrying Xero's own amounts (not what the app would compute) is left as it is.
	a = replace(stored("a", 1, "3", "0.3333"), line_amount=D("1.01"))
	result = plan_item_changes([a], [keep(a)], EXCLUSIVE)
	assert result.changes == () and result.lines[0].line_amount == D("1.01") and not result.lines[0].changed


NEW_NAMES = itertools.count(1)


def as_order_lines(changed, previous):
	"""The order's lines after a change, with what each had invoiced."""
	before = {ln.name: ln for ln in previous}
	out = []
	for line in changed.lines:
		name = line.name or f"new{next(NEW_NAMES)}"
		old = before.get(line.name)
		f = line.figures
		out.append(
			OrderLine(
				name,
				f.qty,
				f.unit_price,
				f.discount_rate,
				f.tax_rate,
				line.line_amount,
				line.tax_amount,
				old.invoiced_qty if old else ZERO,
				old.invoiced_amount if old else ZERO,
				old.invoiced_tax if old else ZERO,
			)
		)
	return out


def as_stored(lines):
	return [
		StoredLine(
			ln.name,
			i,
			LineInput(ln.qty, ln.unit_price, ln.discount_rate, ln.tax_rate),
			ln.line_amount,
			ln.tax_amount,
			ln.invoiced_qty,
			ln.invoiced_amount,
			ln.invoiced_tax,
			{"item_code": ln.name},
		)
		for i, ln in enumerate(lines, start=1)
	]


@settings(max_examples=200, deadline=None)
@given(orders(), st.data())
def test_changes_between_partial_invoices_still_add_up_to_the_order(order, data):
	lat, lines = order
	invoice_totals = []
	for _ in range(12):
		if data.draw(st.booleans()) and any(ln.outstanding_qty > 0 for ln in lines):
			open_lines = [ln for ln in lines if ln.outstanding_qty > 0]
			ln = data.draw(st.sampled_from(open_lines))
			q = data.draw(st.decimals(min_value=D("0.0001"), max_value=ln.outstanding_qty, places=4))
			plan = plan_invoice(lines, [(ln.name, q)], lat)
			invoice_totals.append(plan.totals)
			lines = apply(lines, plan)
			continue
		wanted = []
		for ln in lines:
			if ln.invoiced_qty == 0 and data.draw(st.integers(0, 4)) == 0:
				continue  # removed
			low = max(ln.invoiced_qty, D("0.0001"))
			qty = data.draw(
				st.one_of(
					st.just(ln.qty), st.just(low), st.decimals(min_value=low, max_value=low + 50, places=4)
				)
			)
			wanted.append(
				WantedLine(ln.name, qty, ln.unit_price, ln.discount_rate, ln.tax_rate, {"item_code": ln.name})
			)
		if data.draw(st.booleans()) or not wanted:
			qty = data.draw(st.decimals(min_value=D("0.0001"), max_value=D(20), places=4))
			unit = data.draw(st.decimals(min_value=D(0), max_value=D(900), places=4))
			wanted.append(WantedLine(None, qty, unit, D(0), D(15), {"description": "added"}))
		changed = plan_item_changes(as_stored(lines), wanted, lat)
		lines = as_order_lines(changed, lines)
		for ln in lines:
			assert ln.line_amount >= ln.invoiced_amount and ln.tax_amount >= ln.invoiced_tax
	while any(ln.outstanding_qty > 0 for ln in lines):
		plan = plan_invoice(lines, None, lat)
		invoice_totals.append(plan.totals)
		lines = apply(lines, plan)
	final = totals((PricedLine(ln.line_amount, ln.tax_amount, ZERO) for ln in lines), lat)
	assert sum(t.grand_total for t in invoice_totals) == final.grand_total
	assert sum(t.total_tax for t in invoice_totals) == final.total_tax
