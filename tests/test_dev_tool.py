"""tools/xso_dev.py on a bench of its own making: `setup` and `test` never leave anything in a bench's apps/
that bench would list as an app (a `.xero_sales_orders.replaced-*` folder there broke every bench command),
and the test summary counts the tests skipped because a tool is missing."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def tool(tmp_path, monkeypatch):
	spec = importlib.util.spec_from_file_location("xso_dev_under_test", CHECKOUT / "tools" / "xso_dev.py")
	module = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(module)
	monkeypatch.setattr(module, "REPLACED_DIR", tmp_path / "kept")
	return module


def frappe_app(folder: Path, package: str, marker: str = "") -> Path:
	"""The files bench takes for a Frappe app (bench.utils.is_frappe_app: hooks.py, modules.txt, patches.txt)."""
	(folder / package).mkdir(parents=True)
	for name in ("hooks.py", "modules.txt", "patches.txt", "__init__.py"):
		(folder / package / name).write_text("")
	if marker:
		(folder / "MARKER").write_text(marker)
	return folder


@pytest.fixture()
def bench(tmp_path):
	root = tmp_path / "frappe-bench"
	frappe_app(root / "apps" / "frappe", "frappe")
	(root / "sites" / "assets").mkdir(parents=True)
	(root / "sites" / "apps.txt").write_text("frappe\nxero_sales_orders\n")
	return root


@pytest.fixture()
def checkout(tmp_path):
	root = tmp_path / "checkout"
	frappe_app(root, "xero_sales_orders")
	(root / "xero_sales_orders" / "public").mkdir()
	return root


def apps_bench_would_list(bench: Path) -> list[str]:
	"""What `bench get-app` / `bench new-app` write to sites/apps.txt: every app-like folder in apps/."""
	found = []
	for entry in sorted(os.listdir(bench / "apps")):
		folder = bench / "apps" / entry
		if all(list(folder.glob(f"**/{name}")) for name in ("hooks.py", "modules.txt", "patches.txt")):
			found.append(entry)
	return found


def test_setup_moves_the_benchs_own_copy_of_the_app_outside_the_bench(tool, bench, checkout, tmp_path):
	frappe_app(bench / "apps" / "xero_sales_orders", "xero_sales_orders", marker="the bench's own copy")
	(bench / "sites" / "assets" / "xero_sales_orders").mkdir()

	changes = tool.point_bench_at_checkout(bench, checkout)

	app = bench / "apps" / "xero_sales_orders"
	assert app.is_symlink() and app.resolve() == checkout.resolve()
	assert apps_bench_would_list(bench) == ["frappe", "xero_sales_orders"]
	assert sorted(os.listdir(bench / "apps")) == ["frappe", "xero_sales_orders"]
	kept = [path for path in (tmp_path / "kept").iterdir() if (path / "MARKER").exists()]
	assert len(kept) == 1 and (kept[0] / "MARKER").read_text() == "the bench's own copy"
	assert any(str(kept[0]) in change and "moved the bench's own copy" in change for change in changes), (
		changes
	)
	assert (bench / "sites" / "apps.txt").read_text().split() == ["frappe", "xero_sales_orders"]
	assets = bench / "sites" / "assets" / "xero_sales_orders"
	assert assets.is_symlink() and assets.resolve() == (checkout / "xero_sales_orders" / "public").resolve()


def test_setup_repairs_a_bench_an_earlier_version_left_broken(tool, bench, checkout, tmp_path):
	leftover = frappe_app(
		bench / "apps" / ".xero_sales_orders.replaced-1796118044", "xero_sales_orders", "old"
	)
	(bench / "apps" / "xero_sales_orders").symlink_to(checkout, target_is_directory=True)
	(bench / "sites" / "apps.txt").write_text(
		"frappe\nxero_sales_orders\n.xero_sales_orders.replaced-1796118044\n"
	)

	changes = tool.point_bench_at_checkout(bench, checkout)

	assert not leftover.exists()
	assert apps_bench_would_list(bench) == ["frappe", "xero_sales_orders"]
	assert (bench / "sites" / "apps.txt").read_text().split() == ["frappe", "xero_sales_orders"]
	assert [(path / "MARKER").read_text() for path in (tmp_path / "kept").iterdir()] == ["old"]
	assert any("removed .xero_sales_orders.replaced-1796118044" in change for change in changes), changes


def test_setup_on_a_bench_that_already_runs_the_checkout_changes_nothing(tool, bench, checkout):
	first = tool.point_bench_at_checkout(bench, checkout)
	assert first  # the link and the assets link were made
	before = {path: path.stat().st_mtime_ns for path in bench.rglob("*") if not path.is_symlink()}
	assert tool.point_bench_at_checkout(bench, checkout) == []
	assert {path: path.stat().st_mtime_ns for path in bench.rglob("*") if not path.is_symlink()} == before


def test_a_replaced_dir_inside_apps_is_refused(tool, bench, checkout, monkeypatch):
	frappe_app(bench / "apps" / "xero_sales_orders", "xero_sales_orders", marker="kept where it is")
	monkeypatch.setattr(tool, "REPLACED_DIR", bench / "apps" / "old")
	with pytest.raises(SystemExit, match="must not be inside"):
		tool.point_bench_at_checkout(bench, checkout)
	assert (bench / "apps" / "xero_sales_orders" / "MARKER").read_text() == "kept where it is"


def test_summary_counts_the_tests_skipped_for_each_missing_tool(tool, tmp_path):
	(tmp_path / "test_needs.py").write_text(
		"from tests.e2e.conftest import needs_tool\n\n"
		"def test_pdf():\n\tneeds_tool('wkhtmltopdf', 'renders PDFs')\n\n"
		"def test_browser_one():\n\tneeds_tool('chromium', 'drives it')\n\n"
		"def test_browser_two():\n\tneeds_tool('chromium', 'drives it')\n\n"
		"def test_without_tools():\n\tneeds_tool('git', 'not reported missing')\n"
	)
	report = tmp_path / "report.xml"
	env = {
		**os.environ,
		"PYTHONPATH": str(CHECKOUT),
		"XSO_URL": "http://127.0.0.1:9",  # the e2e conftest skips its module without one
		"XSO_MISSING_TOOLS": "wkhtmltopdf,chromium",
	}
	subprocess.run(
		[
			sys.executable,
			"-m",
			"pytest",
			"-q",
			"-p",
			"no:cacheprovider",
			f"--junitxml={report}",
			"test_needs.py",
		],
		cwd=tmp_path,
		env=env,
		check=True,
		capture_output=True,
	)
	assert tool.junit_counts(report) == (1, 0, 3)
	assert tool.skipped_for_tools(report, ["wkhtmltopdf", "chromium"]) == {"wkhtmltopdf": 1, "chromium": 2}


def test_a_pth_file_puts_the_checkouts_development_packages_on_the_bench_envs_path(tool, tmp_path):
	site_packages = tmp_path / "site-packages"
	site_packages.mkdir()
	probe = (
		"import importlib.util, site, sys\n"
		"before = importlib.util.find_spec('xero_sandbox')\n"
		"site.addsitedir(sys.argv[1])\n"
		"import benchmarks, xero_sandbox, xso_devkit\n"
		"print(before is None, xero_sandbox.__file__)\n"
	)

	changes = tool.put_checkout_on_path(site_packages, CHECKOUT)

	pth = site_packages / "xso_checkout.pth"
	assert pth.read_text() == f"{CHECKOUT}\n"
	assert len(changes) == 1 and str(pth) in changes[0] and "xero_sandbox" in changes[0], changes
	assert tool.put_checkout_on_path(site_packages, CHECKOUT) == []
	answer = subprocess.run(
		[sys.executable, "-c", probe, str(site_packages)], cwd=tmp_path, capture_output=True, text=True
	)
	assert answer.stdout.split() == ["True", str(CHECKOUT / "xero_sandbox" / "__init__.py")], answer.stderr
