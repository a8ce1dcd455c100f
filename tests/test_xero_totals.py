"""compare_totals: Xero's SubTotal, TotalTax and Total beside the app's, every difference in words."""

from decimal import Decimal as D

from xero_sales_orders.core.pricing import Totals
from xero_sales_orders.core.xero_totals import compare_totals, xero_totals


def test_equal_totals_have_no_difference_whatever_their_types():
	element = {"SubTotal": 387.64, "TotalTax": "38.76", "Total": D("426.40"), "TotalDiscount": 9}
	assert compare_totals({"subtotal": 387.64, "total_tax": 38.76, "total": 426.4}, element) == []
	assert compare_totals(Totals(D("387.64"), D("0"), D("38.76"), D("426.40")), element) == []
	assert xero_totals(element) == {"SubTotal": D("387.64"), "TotalTax": D("38.76"), "Total": D("426.40")}


def test_each_difference_is_named_with_both_figures_and_the_gap():
	app = {"subtotal": D("387.64"), "total_tax": D("38.76"), "total": D("426.40")}
	xero = {"SubTotal": 387.64, "TotalTax": 38.77, "Total": 426.41, "CurrencyCode": "NZD"}
	assert compare_totals(app, xero) == [
		"Xero's TotalTax is 38.77 NZD, the app's 38.76 NZD (0.01 more in Xero)",
		"Xero's Total is 426.41 NZD, the app's 426.40 NZD (0.01 more in Xero)",
	]
	assert compare_totals(app, {"SubTotal": 387.62, "TotalTax": 38.76, "Total": 426.38}) == [
		"Xero's SubTotal is 387.62, the app's 387.64 (0.02 less in Xero)",
		"Xero's Total is 426.38, the app's 426.40 (0.02 less in Xero)",
	]


def test_missing_figures_are_differences_too():
	app = {"subtotal": 10, "total_tax": 1.5, "total": 11.5}
	assert compare_totals(app, {"SubTotal": 10, "TotalTax": 1.5}) == ["Xero's answer has no Total"]
	assert compare_totals(
		{"subtotal": 10, "total_tax": 1.5}, {"SubTotal": 10, "TotalTax": 1.5, "Total": 11.5}
	) == ["Xero's Total is 11.50; the app has none"]
	assert compare_totals(app, {}) == [f"Xero's answer has no {k}" for k in ("SubTotal", "TotalTax", "Total")]
