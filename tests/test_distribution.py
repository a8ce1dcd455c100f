"""What the app's distribution holds (what `bench get-app` and `pip install` install): the app's package and
nothing of the checkout's development packages beside it (the Xero sandbox, the dev kit, the benchmarks)."""

import runpy
from pathlib import Path

import setuptools

CHECKOUT = Path(__file__).resolve().parents[1]
APP = "xero_sales_orders"


def top_level_packages() -> set[str]:
	return {path.parent.name for path in CHECKOUT.glob("*/__init__.py")}


def distributed_packages(monkeypatch) -> list[str]:
	"""The packages setup.py hands to setuptools."""
	captured = {}
	monkeypatch.setattr(setuptools, "setup", lambda **options: captured.update(options))
	monkeypatch.chdir(CHECKOUT)
	runpy.run_path(str(CHECKOUT / "setup.py"))
	return captured["packages"]


def test_the_wheel_holds_the_app_and_none_of_the_development_packages(monkeypatch):
	packages = distributed_packages(monkeypatch)
	assert {"xero_sandbox", "xso_devkit", "benchmarks", "tests"} <= top_level_packages() - {APP}
	assert {APP, f"{APP}.core", f"{APP}.services", f"{APP}.api", f"{APP}.xero", f"{APP}.tests"} <= set(
		packages
	)
	assert [p for p in packages if p != APP and not p.startswith(f"{APP}.")] == []
	assert [p for p in packages if "sandbox" in p or "benchmark" in p or "devkit" in p] == []


def test_the_source_distribution_prunes_every_development_package():
	pruned = {
		line.split()[1]
		for line in (CHECKOUT / "MANIFEST.in").read_text().splitlines()
		if line.startswith("prune ")
	}
	assert top_level_packages() - {APP} <= pruned
	assert APP not in pruned
