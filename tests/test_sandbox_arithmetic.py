"""The sandbox's own Xero arithmetic: independent of the app, and what the app sends totals as the app does.

Property (a): for random orders split into random partial invoices, Xero's arithmetic (the sandbox's,
written from Xero's documentation) applied to the LineItems the app sends (``core.invoice_plans.xero_line_terms``)
gives the app's own invoice figures, line by line and in total, to the cent. Property (b): on plain
invoices (no overrides) the sandbox's arithmetic and the app's ``core.pricing`` agree.
"""

import ast
import shutil
import subprocess
import sys
import textwrap
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_invoice_plans import apply, disc_st, make_line, orders, qty_st, tax_st, unit_st
from xero_sales_orders.core.invoice_plans import plan_invoice, xero_line_terms
from xero_sales_orders.core.money import (
	EXCLUSIVE,
	INCLUSIVE,
	LINE_AMOUNT_TYPES,
	NO_TAX,
	gross_and_line_amount,
)
from xero_sales_orders.core.pricing import LineInput, price_line, totals
from xero_sandbox import arithmetic as xero

SANDBOX_DIR = Path(__file__).resolve().parent.parent / "xero_sandbox"


# ---- independence --------------------------------------------------------------------------------------


def test_sandbox_modules_import_nothing_of_the_app():
	"""Every import in the sandbox is the standard library, a third-party package or a sibling module."""
	offending = []
	modules = sorted(SANDBOX_DIR.glob("*.py"))
	assert len(modules) > 10, f"no sandbox modules found in {SANDBOX_DIR}"
	for path in modules:
		for node in ast.walk(ast.parse(path.read_text(), str(path))):
			if isinstance(node, ast.Import):
				names = [alias.name for alias in node.names]
			elif isinstance(node, ast.ImportFrom):
				if node.level > 1:
					offending.append(f"{path.name}: from {'.' * node.level}{node.module or ''}")
				names = [node.module or ""] if node.level == 0 else []
			else:
				continue
			offending += [
				f"{path.name}: {n}" for n in names if n.split(".")[0] in ("xero_sales_orders", "frappe")
			]
	assert offending == []


def test_sandbox_runs_as_a_package_of_its_own(tmp_path):
	"""A copy of the sandbox under another top-level name, with the app out of reach, starts and answers."""
	shutil.copytree(
		SANDBOX_DIR, tmp_path / "standalone_xero_sandbox", ignore=shutil.ignore_patterns("__pycache__")
	)
	script = textwrap.dedent(
		"""
		import sys, requests
		assert not any(p.endswith("main") and "work" in p for p in sys.path[1:]), sys.path
		from standalone_xero_sandbox import SandboxServer
		server = SandboxServer(port=0, tenants=1, seed_invoices=5).start()
		try:
			tenants = requests.get(server.url + "/_sandbox/tenants", timeout=10).json()["tenants"]
			assert tenants and tenants[0]["invoices"] == 5, tenants
		finally:
			server.stop()
		leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("xero_sales_orders", "frappe"))
		assert not leaked, leaked
		print("ok")
		"""
	)
	result = subprocess.run(
		[sys.executable, "-c", script],
		cwd=tmp_path,
		env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
		capture_output=True,
		text=True,
		timeout=120,
	)
	assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


# ---- Xero's documented arithmetic -----------------------------------------------------------------------


def line(**sent):
	sent.setdefault("tax_rate", D(15))
	sent.setdefault("line_amount_type", EXCLUSIVE)
	sent.setdefault("unitdp", 4)
	for key in ("quantity", "unit"):
		sent.setdefault(key, None)
	return xero.compute_line(**sent)


def test_rounding_guide_example_taxes_each_line():
	priced = [line(quantity=D(1), unit=D(u))[0] for u in ("25.06", "25.61", "25.63")]
	assert [p.tax_amount for p in priced] == [D("3.76"), D("3.84"), D("3.84")]
	t = xero.invoice_totals(priced, EXCLUSIVE)
	assert (t.sub_total, t.total_tax, t.total) == (D("76.30"), D("11.44"), D("87.74"))


def test_half_up_and_unitdp():
	assert line(quantity=D(1), unit=D("14.435"), tax_rate=D(0))[0].line_amount == D("14.44")
	two = line(quantity=D(3), unit=D("0.3333"), unitdp=2)[0]
	assert (two.unit_amount, two.line_amount) == (D("0.33"), D("0.99"))
	four = line(quantity=D(3), unit=D("0.3333"))[0]
	assert (four.unit_amount, four.line_amount) == (D("0.3333"), D("1.00"))
	assert line(quantity=D("1.23456"), unit=D(1))[1] == ["Quantity 1.23456 has more than 4 decimal places"]


def test_discount_rate_and_discount_amount():
	rate = line(quantity=D("2.5"), unit=D("19.99"), discount_rate=D(10))[0]
	assert (rate.line_amount, rate.discount, rate.tax_amount) == (D("44.98"), D("5.00"), D("6.75"))
	amount = line(quantity=D(7), unit=D("4.3333"), discount_amount=D("3.79"))[0]
	assert (amount.line_amount, amount.discount) == (D("26.54"), D("3.79"))  # 30.3331 - 3.79
	assert line(quantity=D(1), unit=D(10), discount_rate=D(5), discount_amount=D(1))[1] == [
		"A line item cannot have both a DiscountRate and a DiscountAmount"
	]


def test_inclusive_and_notax_lines():
	inclusive = line(quantity=D(1), unit=D(115), line_amount_type=INCLUSIVE)[0]
	assert (inclusive.line_amount, inclusive.tax_amount) == (D("115.00"), D("15.00"))
	t = xero.invoice_totals([inclusive], INCLUSIVE)
	assert (t.sub_total, t.total_tax, t.total) == (D("100.00"), D("15.00"), D("115.00"))
	notax = line(quantity=D(2), unit=D(10), tax_rate=D(0), line_amount_type=NO_TAX)[0]
	assert notax.tax_amount == 0 and xero.invoice_totals([notax], NO_TAX).total == D("20.00")


def test_a_sent_tax_amount_is_taken_as_given():
	priced, problems = line(quantity=D(1), unit=D(10), tax_amount=D("1.49"))
	assert problems == [] and priced.tax_amount == D("1.49") and priced.tax_overridden
	t = xero.invoice_totals([priced], EXCLUSIVE)
	assert (t.sub_total, t.total_tax, t.total) == (D("10.00"), D("1.49"), D("11.49"))
	inclusive = line(quantity=D(1), unit=D(115), tax_amount=D("14.99"), line_amount_type=INCLUSIVE)[0]
	t = xero.invoice_totals([inclusive], INCLUSIVE)
	assert (t.sub_total, t.total_tax, t.total) == (D("100.01"), D("14.99"), D("115.00"))
	# The same figure Xero would compute is not an override.
	assert not line(quantity=D(1), unit=D(10), tax_amount=D("1.50"))[0].tax_overridden
	assert line(quantity=D(1), unit=D(10), tax_rate=D(0), line_amount_type=NO_TAX, tax_amount=D("0.10"))[
		1
	] == ["A NoTax line cannot carry a TaxAmount (0.10)"]


def test_a_sent_line_amount_must_agree_or_fills_the_missing_figure():
	assert line(quantity=D(2), unit=D(10), line_amount=D("20.00"))[1] == []
	assert line(quantity=D(2), unit=D(10), line_amount=D("20.01"))[1] == [
		"The line total 20.01 does not match the expected line total 20.00"
	]
	only_amount = line(line_amount=D("12.34"))[0]
	assert (only_amount.quantity, only_amount.unit_amount, only_amount.line_amount) == (
		D(1),
		D("12.3400"),
		D("12.34"),
	)
	# Quantity omitted: Xero calculates it and keeps the LineAmount as sent.
	derived = line(unit=D(3), line_amount=D("10.00"))[0]
	assert (derived.quantity, derived.line_amount) == (D("3.3333"), D("10.00"))
	derived = line(quantity=D(3), line_amount=D("10.00"))[0]
	assert (derived.unit_amount, derived.line_amount, derived.tax_amount) == (
		D("3.3333"),
		D("10.00"),
		D("1.50"),
	)


# ---- (a) what the app sends totals in Xero as the app totals it -------------------------------------------


def xero_figures(terms: dict, tax_rate: D, line_amount_type: str) -> xero.Line:
	"""Xero's arithmetic on one LineItem as the app sends it (the app pushes with ``unitdp=4``)."""
	priced, problems = xero.compute_line(
		quantity=terms.get("Quantity"),
		unit=terms.get("UnitAmount"),
		tax_rate=D(0) if line_amount_type == NO_TAX else tax_rate,
		line_amount_type=line_amount_type,
		unitdp=4,
		line_amount=terms.get("LineAmount"),
		tax_amount=terms.get("TaxAmount"),
		discount_rate=terms.get("DiscountRate"),
		discount_amount=terms.get("DiscountAmount"),
	)
	assert problems == [], (terms, problems)
	return priced


def check_plan_in_xero(plan, line_amount_type: str) -> None:
	priced = []
	for p in plan.lines:
		ol = p.order_line
		terms = xero_line_terms(
			p.qty, ol.unit_price, ol.discount_rate, ol.tax_rate, p.line_amount, p.tax_amount, line_amount_type
		)
		figures = xero_figures(terms, ol.tax_rate, line_amount_type)
		assert (figures.line_amount, figures.tax_amount) == (p.line_amount, p.tax_amount), (p, terms)
		priced.append(figures)
	t = xero.invoice_totals(priced, line_amount_type)
	assert (t.sub_total, t.total_tax, t.total) == (
		plan.totals.subtotal,
		plan.totals.total_tax,
		plan.totals.grand_total,
	)


def invoice_in_parts(lines, line_amount_type, parts):
	"""Plans the invoices for ``parts`` (lists of (row, qty)), then one for whatever is left."""
	plans = []
	for requested in parts:
		plan = plan_invoice(lines, requested, line_amount_type)
		plans.append(plan)
		lines = apply(lines, plan)
	if any(ln.outstanding_qty > 0 for ln in lines):
		plan = plan_invoice(lines, None, line_amount_type)
		plans.append(plan)
		lines = apply(lines, plan)
	return plans, lines


@settings(max_examples=400, deadline=None)
@given(orders(), st.data())
def test_random_partial_invoices_total_in_xero_as_in_the_app(order, data):
	lat, lines = order
	plans = []
	for _ in range(data.draw(st.integers(min_value=0, max_value=6))):
		open_lines = [ln for ln in lines if ln.outstanding_qty > 0]
		if not open_lines:
			break
		chosen = data.draw(st.lists(st.sampled_from(open_lines), min_size=1, unique_by=lambda ln: ln.name))
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
		plan = plan_invoice(lines, requested, lat)
		plans.append(plan)
		lines = apply(lines, plan)
	rest, lines = invoice_in_parts(lines, lat, [])
	for plan in plans + rest:
		check_plan_in_xero(plan, lat)


ISSUE_ORDER = [("a", "3", "19.99", "0"), ("b", "7", "4.3333", "12.5"), ("c", "2.5", "250", "0")]


@pytest.mark.parametrize("lat", LINE_AMOUNT_TYPES)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_issues_three_line_order_invoiced_in_three_parts(lat, data):
	"""Orders of 3 x 19.99; 7 x 4.3333 at 12.5 % discount; 2.5 x 250 at 10 % tax, invoiced in three parts."""
	lines = [make_line(name, q, u, d, "10", lat) for name, q, u, d in ISSUE_ORDER]
	parts = []
	left = {ln.name: ln.qty for ln in lines}
	for _ in range(2):
		part = []
		for name in left:
			q = data.draw(st.decimals(min_value=D(0), max_value=left[name], places=2 if name != "c" else 1))
			if q > 0:
				part.append((name, q))
				left[name] -= q
		if part:
			parts.append(part)
	plans, lines = invoice_in_parts(lines, lat, parts)
	for plan in plans:
		check_plan_in_xero(plan, lat)
	assert all(ln.invoiced_amount == ln.line_amount and ln.invoiced_tax == ln.tax_amount for ln in lines)


# ---- (b) plain invoices: the sandbox and core.pricing agree -------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(
	st.sampled_from(LINE_AMOUNT_TYPES),
	st.lists(st.tuples(qty_st, unit_st, disc_st, tax_st), min_size=1, max_size=8),
	st.sampled_from([2, 4]),
)
def test_plain_invoices_price_the_same_in_the_sandbox_and_the_app(lat, raw_lines, unitdp):
	app, sandbox = [], []
	for qty, unit, discount, tax in raw_lines:
		rate = D(0) if lat == NO_TAX else tax
		if unitdp == 4:
			app.append(price_line(LineInput(qty, unit, discount, rate), lat))
		gross, amount = gross_and_line_amount(qty, unit, discount, unitdp)
		priced, problems = xero.compute_line(
			quantity=qty,
			unit=unit,
			tax_rate=rate,
			line_amount_type=lat,
			unitdp=unitdp,
			discount_rate=discount,
		)
		assert problems == []
		assert (priced.line_amount, priced.discount) == (amount, gross - amount)
		sandbox.append(priced)
	if unitdp == 4:
		assert [(p.line_amount, p.tax_amount) for p in app] == [
			(s.line_amount, s.tax_amount) for s in sandbox
		]
		a, s = totals(app, lat), xero.invoice_totals(sandbox, lat)
		assert (a.subtotal, a.total_tax, a.grand_total, a.total_discount) == (
			s.sub_total,
			s.total_tax,
			s.total,
			s.total_discount,
		)
