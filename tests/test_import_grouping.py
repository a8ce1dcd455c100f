"""Bulk import rules: grouping, PO patterns, flags and merged order lines (no Frappe)."""

from decimal import Decimal as D

import pytest

from xero_sales_orders.core import import_grouping
from xero_sales_orders.core.errors import ImportRuleError
from xero_sales_orders.core.money import EXCLUSIVE, INCLUSIVE, line_tax
from xero_sales_orders.core.order_status import FULLY_INVOICED, PARTIALLY_INVOICED, invoicing_status

RATES = {"OUTPUT2": D("15"), "NONE": D("0"), "EXEMPTOUTPUT": D("0")}
CONTACT = ("c-1", "Coco Cafe")


def line(code="DESK", qty="1", price="100.00", discount="0", tax="OUTPUT2", description=None, lat=EXCLUSIVE):
	qty, price, discount = D(qty), D(price), D(discount)
	amount = (qty * price * (100 - discount) / 100).quantize(D("0.01"))
	return import_grouping.SourceLine(
		item_code=code,
		description=description if description is not None else f"{code} description",
		qty=qty,
		unit_price=price,
		discount_rate=discount,
		tax_type=tax,
		account_code="200",
		line_amount=amount,
		tax_amount=line_tax(amount, RATES.get(tax, D(0)), lat),
	)


def invoice(number, reference, lines=None, status="AUTHORISED", contact=CONTACT, currency="NZD", **extra):
	lines = tuple(lines or [line()])
	amount = sum((ln.line_amount for ln in lines), D(0))
	tax = sum((ln.tax_amount for ln in lines), D(0))
	inclusive = extra.get("amount_type") == INCLUSIVE
	return import_grouping.SourceInvoice(
		invoice_id=f"id-{number}",
		number=number,
		reference=reference,
		contact_id=contact[0],
		contact_name=contact[1],
		currency=currency,
		line_amount_type=extra.get("amount_type", EXCLUSIVE),
		status=status,
		date=extra.get("date", "2026-01-10"),
		lines=lines,
		total=amount if inclusive else amount + tax,
		subtotal=amount - tax if inclusive else amount,
		total_tax=tax,
	)


def build(invoices, grouping=import_grouping.GROUP_BY_REFERENCE, pattern=None, rates=None, **kwargs):
	compiled = import_grouping.compile_po_pattern(pattern) if pattern else None
	return import_grouping.build_proposed_orders(invoices, grouping, compiled, rates or RATES, **kwargs)


def codes(group):
	return {flag.code for flag in group.flags}


class TestPattern:
	@pytest.mark.parametrize(
		"pattern, message",
		[
			("", "Give a PO pattern"),
			("PO-(\\d+", "not a valid regular expression"),
			("PO-\\d+", "exactly one capturing group"),
			("(PO)-(\\d+)", "exactly one capturing group"),
		],
	)
	def test_bad_patterns_are_refused_with_a_reason(self, pattern, message):
		with pytest.raises(ImportRuleError, match=message):
			import_grouping.compile_po_pattern(pattern)

	@pytest.mark.parametrize(
		"pattern, why",
		[
			("(a+)+$", "a repeat inside a repeat"),
			("PO-((?:\\d?\\w?)+)", "a repeat inside a repeat"),
			("((?:a|aa)*)", "a repeat of alternatives"),
			("(\\w+)-\\1", "a back-reference"),
			("(?P<po>\\d+)(?P=po)", "a back-reference"),
			("\\s*\\s*\\s*\\s*(\\d+)", "too many repeats or alternatives"),
			("(x)" + "a?" * 30, "too many repeats or alternatives"),
		],
	)
	def test_patterns_that_could_hang_a_worker_are_refused(self, pattern, why):
		with pytest.raises(ImportRuleError, match=f"could take too long to match \\({why}\\)"):
			import_grouping.compile_po_pattern(pattern)

	def test_long_patterns_are_refused(self):
		with pytest.raises(ImportRuleError, match="201 characters long; keep it to 200"):
			import_grouping.compile_po_pattern("PO-(\\d+)" + "x" * 193)

	@pytest.mark.parametrize(
		"pattern", ["PO-(\\d+)", "(?:PO|Order)\\s*#?\\s*(\\w+)", "PO[-\\s]*(\\d+)", "(?:(\\d+)-)?", "(.*)"]
	)
	def test_ordinary_patterns_are_accepted(self, pattern):
		assert import_grouping.compile_po_pattern(pattern).groups == 1

	@pytest.mark.parametrize("pattern", [".*.*.*(X)", "\\w*\\w*\\w*(X)", "(?:PO|Order)\\s*#?\\s*(\\w+)!"])
	def test_the_worst_accepted_pattern_matches_a_hostile_reference_quickly(self, pattern):
		import time

		compiled = import_grouping.compile_po_pattern(pattern)
		for hostile in ("a" * 5000, " " * 5000, "PO" + " " * 5000, "-" * 5000):
			started = time.monotonic()
			import_grouping.group_key(hostile, import_grouping.GROUP_BY_PATTERN, compiled)
			assert time.monotonic() - started < 1.0, (pattern, hostile[:5])

	def test_grouping_stops_with_a_message_when_its_time_budget_is_spent(self, monkeypatch):
		monkeypatch.setattr(import_grouping, "MATCH_TIME_BUDGET", 0.0)
		with pytest.raises(ImportRuleError, match="took more than 0 s to match"):
			build(
				[invoice("INV-1", "PO-1"), invoice("INV-2", "PO-2")],
				import_grouping.GROUP_BY_PATTERN,
				"PO-(\\d+)",
			)

	def test_non_capturing_groups_are_allowed(self):
		assert import_grouping.compile_po_pattern("(?:PO|Order)-(\\d+)").groups == 1

	@pytest.mark.parametrize(
		"reference, key",
		[
			("PO-10012", "10012"),
			("Order PO-10012 part 2", "10012"),
			("po-10012 / Coco", "10012"),
			("Backorder", None),
			("", None),
		],
	)
	def test_pattern_keys(self, reference, key):
		pattern = import_grouping.compile_po_pattern("PO-(\\d+)")
		assert import_grouping.group_key(reference, import_grouping.GROUP_BY_PATTERN, pattern) == key

	def test_reference_keys_collapse_spaces_and_ignore_case(self):
		groups = build([invoice("INV-1", " PO-1  A"), invoice("INV-2", "po-1 a")])
		assert len(groups) == 1 and len(groups[0].invoices) == 2


class TestGrouping:
	def test_pattern_groups_invoices_of_one_po_and_merges_lines(self):
		groups = build(
			[
				invoice("INV-1", "PO-7", [line("DESK", "2"), line("LAMP", "1", "59.90")]),
				invoice("INV-2", "Order PO-7 part 2", [line("DESK", "3")]),
				invoice("INV-3", "PO-8", [line("DESK", "1")]),
			],
			import_grouping.GROUP_BY_PATTERN,
			"PO-(\\d+)",
		)
		assert [g.key for g in groups] == ["7", "8"]
		po7 = groups[0]
		assert po7.importable and not po7.flags
		assert [(ln.item_code, ln.qty) for ln in po7.lines] == [("DESK", D("5")), ("LAMP", D("1"))]
		# Invoice lines point at the merged order lines.
		assert po7.line_of == {(0, 0): 0, (0, 1): 1, (1, 0): 0}
		assert po7.totals.subtotal == D("559.90")
		assert po7.totals.grand_total == D("643.89")
		assert invoicing_status((ln.qty, ln.invoiced_qty) for ln in po7.lines) == FULLY_INVOICED

	def test_lines_differing_in_price_discount_or_tax_stay_apart(self):
		groups = build(
			[
				invoice(
					"INV-1",
					"PO-1",
					[
						line("DESK", "1", "100.00"),
						line("DESK", "1", "90.00"),
						line("DESK", "1", "100.00", discount="10"),
						line("DESK", "1", "100.00", tax="EXEMPTOUTPUT"),
					],
				)
			]
		)
		assert len(groups[0].lines) == 4

	def test_lines_that_round_differently_merged_stay_apart(self):
		# 3 x 0.3333 on one line rounds once (1.00); three invoices rounded 0.33 each: three order lines.
		groups = build([invoice(f"INV-{n}", "PO-1", [line("PEN", "1", "0.3333")]) for n in range(3)])
		group = groups[0]
		assert [(ln.qty, ln.priced.line_amount) for ln in group.lines] == [(D(1), D("0.33"))] * 3
		assert group.importable and not group.flags
		assert group.totals.grand_total == D("1.14")  # 3 x (0.33 + 0.05 tax), as invoiced

	def test_inclusive_orders_are_priced_inclusive(self):
		inc = invoice("INV-1", "PO-1", [line("DESK", "1", "115.00", lat=INCLUSIVE)], amount_type=INCLUSIVE)
		group = build([inc])[0]
		assert group.totals.grand_total == D("115.00")
		assert group.totals.total_tax == D("15.00")

	def test_text_only_lines_are_ignored(self):
		note = line("", "0", "0", tax="", description="Thanks for your business")
		group = build([invoice("INV-1", "PO-1", [line(), note])])[0]
		assert len(group.lines) == 1 and group.importable

	def test_order_date_is_the_earliest_invoice(self):
		group = build(
			[invoice("INV-1", "PO-1", date="2026-02-01"), invoice("INV-2", "PO-1", date="2026-01-05")]
		)[0]
		assert group.order_date == "2026-01-05"


class TestFlags:
	def test_mixed_contacts_currencies_and_amount_types_are_conflicts(self):
		groups = build(
			[
				invoice("INV-1", "PO-1"),
				invoice("INV-2", "PO-1", contact=("c-2", "Boom FM"), currency="AUD", amount_type=INCLUSIVE),
			]
		)
		group = groups[0]
		assert {
			import_grouping.MIXED_CONTACTS,
			import_grouping.MIXED_CURRENCIES,
			import_grouping.MIXED_AMOUNT_TYPES,
		} <= codes(group)
		assert group.is_conflict and not group.importable
		assert "Boom FM, Coco Cafe" in group.flags[0].reason
		assert import_grouping.summarise(groups).conflicts == 1

	def test_invoices_without_reference_are_flagged_one_by_one(self):
		groups = build(
			[invoice("INV-1", ""), invoice("INV-2", "Backorder")],
			import_grouping.GROUP_BY_PATTERN,
			"PO-(\\d+)",
		)
		assert [g.label for g in groups] == ["(no reference) INV-1", "(no reference) INV-2"]
		assert all(import_grouping.NO_REFERENCE in codes(g) and not g.importable for g in groups)
		assert "Backorder" in groups[1].flags[0].reason

	def test_already_imported_groups_are_skipped(self):
		groups = build(
			[invoice("INV-1", "PO-1"), invoice("INV-2", "PO-1")], imported={"id-INV-2": "XSO-00007"}
		)
		assert import_grouping.ALREADY_IMPORTED in codes(groups[0])
		assert "XSO-00007" in groups[0].flags[0].reason
		summary = import_grouping.summarise(groups)
		assert (summary.to_create, summary.skipped, summary.already_imported) == (0, 1, 1)

	def test_invoice_numbers_used_by_other_invoices_are_refused(self):
		group = build([invoice("INV-1", "PO-1")], taken_numbers=["inv-1"])[0]
		assert import_grouping.NUMBER_TAKEN in codes(group) and not group.importable

	def test_voided_invoices_are_left_out_and_said_so(self):
		group = build(
			[
				invoice("INV-1", "PO-1", [line("DESK", "2")]),
				invoice("INV-2", "PO-1", [line("DESK", "3")], status="VOIDED"),
				invoice("INV-3", "PO-1", [line("LAMP", "1")], status="DELETED"),
			]
		)[0]
		assert group.importable
		assert [f.code for f in group.flags] == [import_grouping.DEAD_INVOICES]
		reason = group.flags[0].reason
		assert (
			"Left out: INV-2 (VOIDED), INV-3 (DELETED)" in reason
			and "Voided Invoices Become Demand" in reason
		)
		assert group.left_out == {1: "voided: it bills nothing", 2: "deleted: it bills nothing"}
		assert [(ln.item_code, ln.qty, ln.invoiced_qty) for ln in group.lines] == [("DESK", D(2), D(2))]
		assert group.totals.grand_total == D("230.00")
		assert invoicing_status((ln.qty, ln.invoiced_qty) for ln in group.lines) == FULLY_INVOICED
		row = import_grouping.preview_row(group)
		assert [i["left_out"] for i in row["invoices"]] == [
			None,
			"voided: it bills nothing",
			"deleted: it bills nothing",
		]

	def test_voided_invoices_become_demand_when_asked(self):
		group = build(
			[
				invoice("INV-1", "PO-1", [line("DESK", "2")]),
				invoice("INV-2", "PO-1", [line("DESK", "3")], status="VOIDED"),
			],
			voided_as_demand=True,
		)[0]
		assert group.importable and not group.left_out
		assert "Ordered but not invoiced: INV-2 (VOIDED)" in group.flags[0].reason
		assert (group.lines[0].qty, group.lines[0].invoiced_qty) == (D("5"), D("2"))
		assert invoicing_status((ln.qty, ln.invoiced_qty) for ln in group.lines) == PARTIALLY_INVOICED

	def test_groups_of_only_dead_invoices_are_skipped_unless_they_are_demand(self):
		group = build([invoice("INV-1", "PO-1", status="DELETED")])[0]
		assert import_grouping.ALL_DEAD in codes(group) and not group.importable
		assert "INV-1 (DELETED)" in group.flags[0].reason
		demand = build([invoice("INV-1", "PO-1", status="VOIDED")], voided_as_demand=True)[0]
		assert demand.importable and demand.lines[0].invoiced_qty == 0

	def test_a_left_out_invoice_number_does_not_block(self):
		group = build(
			[invoice("INV-1", "PO-1"), invoice("INV-2", "PO-1", status="VOIDED")], taken_numbers=["INV-2"]
		)[0]
		assert group.importable

	def test_unknown_tax_types_and_bad_lines_block(self):
		groups = build(
			[
				invoice("INV-1", "PO-1", [line(tax="MYSTERY")]),
				invoice("INV-2", "PO-2", [line(price="-5.00")]),
			]
		)
		assert import_grouping.UNKNOWN_TAX in codes(groups[0])
		assert (
			import_grouping.BAD_LINE in codes(groups[1]) and "cannot be negative" in groups[1].flags[0].reason
		)

	def test_unknown_contacts_block_when_checked(self):
		assert import_grouping.UNKNOWN_CONTACT in codes(
			build([invoice("INV-1", "PO-1")], known_contacts=set())[0]
		)
		assert build([invoice("INV-1", "PO-1")], known_contacts={"c-1"})[0].importable


def test_preview_row_is_json_ready():
	import json

	row = import_grouping.preview_row(build([invoice("INV-1", "PO-1")])[0])
	assert json.loads(json.dumps(row))["grand_total"] == "115.00"
	assert row["invoices"][0]["number"] == "INV-1"


class TestOutOfRange:
	def test_texts_longer_than_the_columns_are_flagged_not_imported(self):
		long_ref = "PO-1 " + "r" * 200
		groups = build(
			[
				invoice("N" * 141, "PO-9"),
				invoice("INV-2", long_ref),
				invoice("INV-3", "PO-3", contact=("c-9", "C" * 141)),
				invoice("INV-4", "PO-4", [line(code="X" * 31)]),
			]
		)
		by_key = {g.key: g for g in groups}
		assert import_grouping.TOO_LONG in codes(
			by_key["PO-9"]
		) and "Invoice number is 141 characters long (at most 140)" in (by_key["PO-9"].flags[0].reason)
		long_group = by_key[" ".join(long_ref.split())]
		reasons = " ".join(f.reason for f in long_group.flags)
		assert "PO number is 205 characters long" in reasons and "Reference is 205 characters long" in reasons
		assert "Contact name is 141 characters long" in by_key["PO-3"].flags[0].reason
		assert "Item code is 31 characters long (at most 30)" in by_key["PO-4"].flags[0].reason
		assert not any(g.importable for g in groups)

	def test_the_columns_real_lengths_can_be_given(self):
		group = build([invoice("INV-1", "PO-12345")], text_limits={"po_number": 5})[0]
		assert import_grouping.TOO_LONG in codes(group) and "(at most 5)" in group.flags[0].reason
		assert build([invoice("INV-1", "PO-12345")], text_limits={"po_number": 8})[0].importable

	def test_figures_beyond_the_columns_are_flagged_not_crashed_on(self):
		huge = import_grouping.SourceLine(
			"DESK", "Desk", D("1e30"), D("1"), D(0), "OUTPUT2", "200", D("1e30"), D(0)
		)
		near = import_grouping.SourceLine(
			"DESK", "Desk", D("600000"), D("1000000"), D(0), "NONE", "200", D("600000000000"), D(0)
		)
		groups = build(
			[
				invoice("INV-1", "PO-1", [huge]),
				invoice("INV-2", "PO-2", [near]),
				invoice("INV-3", "PO-2", [near]),
				invoice("INV-4", "PO-4"),
			]
		)
		by_key = {g.key: g for g in groups}
		reasons = " ".join(f.reason for f in by_key["PO-1"].flags)
		assert {import_grouping.BAD_LINE, import_grouping.OUT_OF_RANGE} <= codes(by_key["PO-1"])
		assert (
			"Quantity 1E+30 is too large" in reasons and "INV-1: total 1.000000E+30 is not below" in reasons
		)
		assert import_grouping.OUT_OF_RANGE in codes(by_key["PO-2"]) and not by_key["PO-2"].importable
		assert "is too large" in " ".join(f.reason for f in by_key["PO-2"].flags)
		assert by_key["PO-4"].importable
		row = import_grouping.preview_row(by_key["PO-2"])
		assert row["grand_total"] is None and row["flags"]


# ---- imported orders equal their invoices, to the cent -----------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from xero_sales_orders.core.money import NO_TAX  # noqa: E402
from xero_sales_orders.core.pricing import LineInput, price_line  # noqa: E402
from xero_sandbox import arithmetic as xero  # noqa: E402

GST = {"OUTPUT2": D("15"), "GST10": D("10"), "NONE": D("0"), "LEVY": D("12.5")}


def build_xero(invoices, **kwargs):
	return build(invoices, import_grouping.GROUP_BY_PATTERN, r"PO-(\d+)", rates=GST, **kwargs)


def xero_line(
	code, qty, price, discount="0", tax="OUTPUT2", lat=EXCLUSIVE, tax_amount=None, discount_amount=None
):
	"""An invoice line with the figures Xero computes for it (the sandbox's independent arithmetic)."""
	rate = D(0) if lat == NO_TAX else GST[tax]
	priced, problems = xero.compute_line(
		quantity=D(qty),
		unit=D(price),
		tax_rate=rate,
		line_amount_type=lat,
		unitdp=4,
		discount_rate=D(discount) if D(discount) else None,
		discount_amount=discount_amount,
		tax_amount=tax_amount,
	)
	assert not problems, problems
	return import_grouping.SourceLine(
		item_code=code,
		description=f"{code} description",
		qty=priced.quantity,
		unit_price=priced.unit_amount,
		discount_rate=D(discount),
		tax_type="NONE" if lat == NO_TAX else tax,
		account_code="200",
		line_amount=priced.line_amount,
		tax_amount=priced.tax_amount,
		discount_amount=priced.discount_amount or D(0),
	), priced


def xero_invoice(number, reference, lines, status="AUTHORISED", lat=EXCLUSIVE):
	"""An invoice with Xero's SubTotal, TotalTax and Total for these lines."""
	source_lines = tuple(ln for ln, _ in lines)
	t = xero.invoice_totals([p for _, p in lines], lat)
	return import_grouping.SourceInvoice(
		invoice_id=f"id-{number}",
		number=number,
		reference=reference,
		contact_id=CONTACT[0],
		contact_name=CONTACT[1],
		currency="NZD",
		line_amount_type=lat,
		status=status,
		date="2026-01-10",
		lines=source_lines,
		total=t.total,
		subtotal=t.sub_total,
		total_tax=t.total_tax,
	)


def order_figures(group):
	t = group.totals
	return (t.subtotal, t.total_tax, t.grand_total)


def invoice_sums(invoices):
	return (
		sum((i.subtotal for i in invoices), D(0)),
		sum((i.total_tax for i in invoices), D(0)),
		sum((i.total for i in invoices), D(0)),
	)


def assert_order_equals_invoices(group, invoices, lat):
	"""The order's totals are the invoices' sums; each line is what its invoice lines say; merged lines are
	what the app's pricing makes of their quantity."""
	assert group.importable, group.flags
	assert order_figures(group) == invoice_sums(invoices)
	by_line = {}
	for (i, j), position in group.line_of.items():
		by_line.setdefault(position, []).append(group.invoices[i].lines[j])
	for position, order_line in enumerate(group.lines):
		parts = by_line[position]
		assert order_line.qty == sum((p.qty for p in parts), D(0))
		assert order_line.priced.line_amount == sum((p.line_amount for p in parts), D(0))
		assert order_line.priced.tax_amount == sum((p.tax_amount for p in parts), D(0))
		if not order_line.carried:
			own = price_line(
				LineInput(
					order_line.qty, order_line.unit_price, order_line.discount_rate, order_line.tax_rate
				),
				lat,
			)
			assert (own.line_amount, own.tax_amount) == (
				order_line.priced.line_amount,
				order_line.priced.tax_amount,
			)
		else:
			assert len(parts) == 1


class TestImportedOrdersEqualTheirInvoices:
	def test_po_5001_three_invoices_at_15_percent(self):
		invoices = [
			xero_invoice(
				"INV-1", "PO-5001", [xero_line("DESK", "2", "849.00", "5"), xero_line("CHAIR", "3", "389.50")]
			),
			xero_invoice("INV-2", "PO-5001", [xero_line("DESK", "1", "849.00", "5")]),
			xero_invoice(
				"INV-3", "PO-5001", [xero_line("CHAIR", "1", "389.50"), xero_line("SHELF", "1", "45.6789")]
			),
		]
		assert sum(i.total for i in invoices) == D("4626.84")
		group = build_xero(invoices)[0]
		assert_order_equals_invoices(group, invoices, EXCLUSIVE)
		assert group.totals.grand_total == D("4626.84")
		# The desks merge (3 desks price to the two invoices' figures); 3 + 1 chairs carry 0.01 more tax than
		# 4 chairs would, so they stay two lines.
		assert [(ln.item_code, ln.qty) for ln in group.lines] == [
			("DESK", D(3)),
			("CHAIR", D(3)),
			("CHAIR", D(1)),
			("SHELF", D(1)),
		]
		assert all(ln.invoiced_qty == ln.qty for ln in group.lines)

	def test_po_5002_two_invoices_at_12_5_percent_discount(self):
		invoices = [
			xero_invoice("INV-1", "PO-5002", [xero_line("WIDGET", "10", "4.3333", "12.5")]),
			xero_invoice("INV-2", "PO-5002", [xero_line("WIDGET", "5", "4.3333", "12.5")]),
		]
		group = build_xero(invoices)[0]
		assert_order_equals_invoices(group, invoices, EXCLUSIVE)
		assert group.totals.grand_total == D("65.41") and len(group.lines) == 2  # 15 would price to 65.40

	def test_po_5007_the_voided_bench_is_not_demand_unless_asked(self):
		invoices = [
			xero_invoice("INV-1", "PO-5007", [xero_line("BENCH", "2", "75.00")]),
			xero_invoice("INV-2", "PO-5007", [xero_line("BENCH", "1", "75.00")], status="VOIDED"),
		]
		group = build_xero(invoices)[0]
		assert_order_equals_invoices(group, invoices[:1], EXCLUSIVE)
		assert group.totals.grand_total == D("172.50")
		assert invoicing_status((ln.qty, ln.invoiced_qty) for ln in group.lines) == FULLY_INVOICED
		assert "Left out: INV-2 (VOIDED)" in group.flags[0].reason
		demand = build_xero(invoices, voided_as_demand=True)[0]
		assert order_figures(demand) == invoice_sums(invoices) and demand.totals.grand_total == D("258.75")
		assert [(ln.qty, ln.invoiced_qty) for ln in demand.lines] == [(D(3), D(2))]
		assert invoicing_status((ln.qty, ln.invoiced_qty) for ln in demand.lines) == PARTIALLY_INVOICED

	def test_lines_with_xero_s_own_tax_or_a_discount_amount_carry_xero_s_figures(self):
		invoices = [
			xero_invoice(
				"INV-1",
				"PO-1",
				[
					xero_line("DESK", "1", "10.00", tax_amount=D("1.49")),
					xero_line("DESK", "1", "10.00"),
					xero_line("LAMP", "1", "0.3400", discount_amount=D("0.01")),
				],
			)
		]
		group = build_xero(invoices)[0]
		assert_order_equals_invoices(group, invoices, EXCLUSIVE)
		assert [(ln.item_code, ln.carried, ln.priced.tax_amount) for ln in group.lines] == [
			("DESK", True, D("1.49")),
			("DESK", False, D("1.50")),
			("LAMP", True, D("0.05")),
		]
		assert group.lines[2].priced.line_amount == D("0.33")


ITEMS = [
	("DESK", "849.00"),
	("CHAIR", "389.50"),
	("PEN", "0.3333"),
	("WIDGET", "4.3333"),
	("SHELF", "45.6789"),
]


@st.composite
def invoice_groups(draw):
	lat = draw(st.sampled_from([EXCLUSIVE, INCLUSIVE, NO_TAX]))
	invoices = []
	for n in range(draw(st.integers(min_value=1, max_value=5))):
		lines = []
		for _ in range(draw(st.integers(min_value=1, max_value=4))):
			code, price = draw(st.sampled_from(ITEMS))
			qty = draw(st.sampled_from(["1", "2", "3", "5", "7", "10", "2.5", "0.3333", "12"]))
			discount = draw(st.sampled_from(["0", "0", "5", "12.5"]))
			tax = draw(st.sampled_from(["OUTPUT2", "GST10", "LEVY"]))
			kind = draw(st.sampled_from(["plain"] * 8 + ["tax", "discount_amount"]))
			if kind == "tax" and lat != NO_TAX:
				_, priced = xero_line(code, qty, price, discount, tax, lat)
				off = draw(st.sampled_from([D("-0.01"), D("0.01"), D("0.02")]))
				lines.append(
					xero_line(
						code, qty, price, discount, tax, lat, tax_amount=max(priced.tax_amount + off, D(0))
					)
				)
			elif kind == "discount_amount":
				lines.append(xero_line(code, qty, price, "0", tax, lat, discount_amount=D("0.01")))
			else:
				lines.append(xero_line(code, qty, price, discount, tax, lat))
		status = draw(st.sampled_from(["AUTHORISED"] * 4 + ["PAID", "DRAFT", "VOIDED", "DELETED"]))
		invoices.append(xero_invoice(f"INV-{n}", "PO-9", lines, status, lat))
	return lat, invoices


@settings(max_examples=400, deadline=None)
@given(invoice_groups(), st.booleans())
def test_random_groups_of_invoices_make_orders_equal_to_their_invoices(data, voided_as_demand):
	lat, invoices = data
	group = build_xero(invoices, voided_as_demand=voided_as_demand)[0]
	live = [i for i in invoices if i.is_live]
	if not live and not voided_as_demand:
		assert import_grouping.ALL_DEAD in codes(group) and not group.importable
		return
	included = invoices if voided_as_demand else live
	assert_order_equals_invoices(group, included, lat)
	# What is invoiced is exactly the live invoices; the order is fully invoiced when nothing was voided.
	invoiced_qty = sum((ln.invoiced_qty for ln in group.lines), D(0))
	assert invoiced_qty == sum((sum((ln.qty for ln in i.lines), D(0)) for i in live), D(0))
	if len(included) == len(live):
		assert invoicing_status((ln.qty, ln.invoiced_qty) for ln in group.lines) == FULLY_INVOICED


# ---- streamed grouping (pages stored as they come, grouped in a second pass) = grouping everything at once --

import dataclasses  # noqa: E402
import json  # noqa: E402

STREAM_REFERENCES = [
	"PO-1",
	"po-1",
	" PO-1  ",
	"Order PO-1 part 2",
	"PO-2",
	"PO-22",
	"",
	"Backorder",
	"PO-3 / x",
	"Ünïcode PO-4",
	"ÜNÏCODE po-4",
	"Straße PO-5",
	"STRASSE po-5",
]


@st.composite
def fetched_invoices(draw):
	invoices = []
	for n in range(draw(st.integers(min_value=1, max_value=40))):
		lines = [
			line(code, qty)
			for code, qty in draw(
				st.lists(
					st.tuples(st.sampled_from(["DESK", "LAMP", "PEN"]), st.sampled_from(["1", "2", "3"])),
					min_size=1,
					max_size=3,
				)
			)
		]
		made = invoice(
			f"INV-{draw(st.integers(min_value=1, max_value=60))}",
			draw(st.sampled_from(STREAM_REFERENCES)),
			lines,
			status=draw(st.sampled_from(["AUTHORISED", "AUTHORISED", "PAID", "VOIDED", "DRAFT"])),
			contact=draw(st.sampled_from([CONTACT, CONTACT, ("c-2", "Boom FM")])),
			date=draw(st.sampled_from(["2026-01-01", "2026-01-02", "2026-02-01"])),
		)
		invoices.append(dataclasses.replace(made, invoice_id=f"id-{n}"))
	imported = {i.invoice_id: "XSO-00009" for i in invoices if draw(st.integers(0, 9)) == 0}
	taken = {i.number for i in invoices if draw(st.integers(0, 9)) == 0}
	return invoices, imported, taken


def canonical(groups):
	return sorted(json.dumps(import_grouping.preview_row(g), sort_keys=True) for g in groups)


@settings(max_examples=300, deadline=None)
@given(
	fetched_invoices(),
	st.sampled_from([import_grouping.GROUP_BY_REFERENCE, import_grouping.GROUP_BY_PATTERN]),
	st.booleans(),
	st.integers(min_value=1, max_value=12),
	st.integers(min_value=1, max_value=15),
	st.integers(min_value=1, max_value=8),
	st.randoms(use_true_random=False),
)
def test_streamed_grouping_equals_grouping_everything_at_once(
	data, grouping, voided_as_demand, read_size, chunk_invoices, page_size, rng
):
	invoices, imported, taken = data
	pattern = (
		import_grouping.compile_po_pattern(r"PO-(\d+)")
		if grouping == import_grouping.GROUP_BY_PATTERN
		else None
	)
	whole = import_grouping.build_proposed_orders(
		invoices,
		grouping,
		pattern,
		RATES,
		imported=imported,
		taken_numbers=taken,
		voided_as_demand=voided_as_demand,
	)

	# Xero's pages come in any order (a resumed fetch starts where the last one stopped); each is stored under
	# its invoices' group ids, and the second pass reads the store by group id, a few rows at a time.
	arrived = list(invoices)
	rng.shuffle(arrived)
	store = []
	for start in range(0, len(arrived), page_size):
		page = arrived[start : start + page_size]
		store += zip(import_grouping.group_ids(page, grouping, pattern), page, strict=True)
	store.sort(key=lambda row: row[0])
	held = []

	def read(after, limit):
		rows = [row for row in store if after is None or row[0] > after][:limit]
		held.append(len(rows))
		return rows

	def rules_for(chunk):
		ids, numbers = {i.invoice_id for i in chunk}, {i.number for i in chunk}
		return import_grouping.Rules.of(
			RATES,
			imported={k: v for k, v in imported.items() if k in ids},
			taken_numbers=[n for n in taken if n in numbers],
			voided_as_demand=voided_as_demand,
		)

	streamed = list(
		import_grouping.stream_proposed_orders(
			import_grouping.read_in_groups(read, read_size), grouping, pattern, rules_for, chunk_invoices
		)
	)
	assert canonical(streamed) == canonical(whole)
	assert import_grouping.summarise(streamed) == import_grouping.summarise(whole)
	# Bounded: no read held more than its size, or twice the largest group when one group filled a read.
	largest = max(len(g.invoices) for g in whole)
	assert max(held) <= max(read_size, 2 * largest)


# ---- a preview's proposal kept for the import = proposing again at the import ------------------------------


def same_proposal(kept, fresh):
	"""Everything the import writes or shows of a proposal (the kept one's invoices have no lines)."""
	assert [i.invoice_id for i in kept.invoices] == [i.invoice_id for i in fresh.invoices]
	for name in ("key", "contact_id", "contact_name", "currency", "line_amount_type", "order_date"):
		assert getattr(kept, name) == getattr(fresh, name), name
	assert (kept.lines, kept.line_of, kept.left_out, kept.totals) == (
		fresh.lines,
		fresh.line_of,
		fresh.left_out,
		fresh.totals,
	)
	assert kept.flags == fresh.flags and kept.importable == fresh.importable
	assert import_grouping.preview_row(kept) == import_grouping.preview_row(fresh)


@settings(max_examples=300, deadline=None)
@given(fetched_invoices(), fetched_invoices(), st.booleans(), st.booleans())
def test_a_kept_plan_with_the_sites_records_checked_again_equals_proposing_again(
	data, later, voided_as_demand, contacts_known
):
	invoices, imported, taken = data
	# Between the preview and the import other invoices were imported, numbers taken, contacts synced.
	_, imported_later, taken_later = later
	at_import = import_grouping.Rules.of(
		RATES,
		imported={**imported, **dict.fromkeys(imported_later, "XSO-00010")},
		taken_numbers=[*taken, *taken_later],
		known_contacts={CONTACT[0]} if contacts_known else set(),
		voided_as_demand=voided_as_demand,
	)
	at_preview = import_grouping.Rules.of(
		RATES, imported=imported, taken_numbers=taken, voided_as_demand=voided_as_demand
	)
	assert at_preview.digest == at_import.digest  # the site's records are not part of it
	for group in import_grouping.group_invoices(invoices, import_grouping.GROUP_BY_REFERENCE):
		previewed = import_grouping.propose(dataclasses.replace(group, flags=[], lines=[]), at_preview)
		plan = json.loads(json.dumps(import_grouping.plan_of(previewed, at_preview.digest)))
		lineless = [dataclasses.replace(i, lines=()) for i in reversed(group.invoices)]
		kept = import_grouping.from_plan(plan, lineless, at_import.digest)
		import_grouping.flag_site(kept, at_import)
		fresh = import_grouping.propose(
			import_grouping.ProposedOrder(group.key, list(group.invoices)), at_import
		)
		same_proposal(kept, fresh)


@settings(max_examples=200, deadline=None)
@given(invoice_groups(), st.booleans())
def test_a_kept_plan_keeps_carried_lines_and_every_figure_exactly(data, voided_as_demand):
	_, invoices = data
	rules = import_grouping.Rules.of(GST, voided_as_demand=voided_as_demand)
	group = import_grouping.group_invoices(invoices, import_grouping.GROUP_BY_REFERENCE)[0]
	previewed = import_grouping.propose(dataclasses.replace(group, flags=[], lines=[]), rules)
	plan = json.loads(json.dumps(import_grouping.plan_of(previewed, rules.digest)))
	kept = import_grouping.from_plan(plan, group.invoices, rules.digest)
	import_grouping.flag_site(kept, rules)
	same_proposal(
		kept, import_grouping.propose(import_grouping.ProposedOrder(group.key, list(group.invoices)), rules)
	)


def test_a_plan_made_under_other_rules_or_for_other_invoices_is_not_used():
	invoices = [invoice("INV-1", "PO-1"), invoice("INV-2", "PO-1")]
	rules = import_grouping.Rules.of(RATES)
	group = import_grouping.build_proposed_orders(invoices, import_grouping.GROUP_BY_REFERENCE, None, RATES)[
		0
	]
	plan = import_grouping.plan_of(group, rules.digest)
	assert import_grouping.from_plan(plan, invoices, rules.digest) is not None
	changed_rate = import_grouping.Rules.of({**RATES, "OUTPUT2": D("12.5")})
	as_demand = import_grouping.Rules.of(RATES, voided_as_demand=True)
	shorter = import_grouping.Rules.of(RATES, text_limits={"item_code": 10})
	assert len({rules.digest, changed_rate.digest, as_demand.digest, shorter.digest}) == 4
	for other in (changed_rate, as_demand, shorter):
		assert import_grouping.from_plan(plan, invoices, other.digest) is None
	assert import_grouping.from_plan(plan, invoices[:1], rules.digest) is None
	assert import_grouping.from_plan(plan, [*invoices, invoice("INV-3", "PO-1")], rules.digest) is None
	assert import_grouping.from_plan(plan, [invoices[0], invoices[0]], rules.digest) is None


def test_group_ids_are_equal_for_equal_keys_and_apart_otherwise():
	pattern = import_grouping.compile_po_pattern(r"PO-(\d+)")
	same = [invoice("INV-1", "Order PO-7 part 2"), invoice("INV-2", "po-7")]
	other = [invoice("INV-3", "PO-8"), invoice("INV-4", ""), invoice("INV-5", "")]
	ids = import_grouping.group_ids(same + other, import_grouping.GROUP_BY_PATTERN, pattern)
	assert ids[0] == ids[1] and len(set(ids)) == 4
	assert all(len(i) == 40 and i == i.lower() for i in ids)
