"""The rooms of docs/architecture.md import only what they may (read from the source, nothing is imported)."""

import ast
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parent.parent
APP = CHECKOUT / "xero_sales_orders"
DEVELOPMENT = {"xero_sandbox", "xso_devkit", "benchmarks", "tests", "tools"}


def imports_of(path: Path) -> set[str]:
	names = set()
	for node in ast.walk(ast.parse(path.read_text())):
		if isinstance(node, ast.ImportFrom) and node.module and not node.level:
			names.add(node.module)
		elif isinstance(node, ast.Import):
			names.update(alias.name for alias in node.names)
	return names


def modules(folder: Path) -> list[Path]:
	found = sorted(folder.rglob("*.py"))
	assert len(found) > 5, f"{folder} looks empty: the check would prove nothing"
	return found


def is_test(path: Path) -> bool:
	return "tests" in path.relative_to(APP).parts or path.name.startswith("test_")


def room_of(name: str) -> str:
	parts = name.split(".")
	return ".".join(parts[:2]) if parts[0] == "xero_sales_orders" else parts[0]


@pytest.mark.parametrize("room", ["core", "xero"])
def test_the_pure_rooms_import_no_frappe_and_no_frappe_side_room(room):
	allowed_app_rooms = {"xero_sales_orders.core", "xero_sales_orders.xero"}
	for path in modules(APP / room):
		for name in imports_of(path):
			assert name.split(".")[0] != "frappe", f"{path.relative_to(CHECKOUT)} imports {name}"
			if name.startswith("xero_sales_orders"):
				assert room_of(name) in allowed_app_rooms, f"{path.relative_to(CHECKOUT)} imports {name}"
			assert name.split(".")[0] not in DEVELOPMENT, f"{path.relative_to(CHECKOUT)} imports {name}"


def test_services_never_import_the_api():
	for path in modules(APP / "services"):
		wrong = [n for n in imports_of(path) if room_of(n) == "xero_sales_orders.api"]
		assert not wrong, f"{path.relative_to(CHECKOUT)} imports {wrong}"


def test_the_shipped_app_imports_no_development_package_outside_its_tests():
	for path in modules(APP):
		if is_test(path):
			continue
		wrong = [n for n in imports_of(path) if n.split(".")[0] in DEVELOPMENT]
		if path.name == "commands.py":
			# `bench xero-sandbox` imports the sandbox when it is run, and says so when the checkout is absent.
			wrong = [n for n in wrong if n.split(".")[0] != "xero_sandbox"]
		assert not wrong, f"{path.relative_to(CHECKOUT)} imports {wrong}"


def test_the_sandbox_imports_nothing_of_the_app():
	for path in modules(CHECKOUT / "xero_sandbox"):
		wrong = [
			n for n in imports_of(path) if n.split(".")[0] in ("xero_sales_orders", "frappe", "xso_devkit")
		]
		assert not wrong, f"{path.relative_to(CHECKOUT)} imports {wrong}"
