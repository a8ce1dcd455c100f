import sys
from pathlib import Path

# The pure tiers import the app package straight from the checkout, without Frappe.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Xero sandbox fixtures with OpenAPI conformance checking (see tests/conftest_xero.py).
from tests.conftest_xero import sandbox, sandbox_factory, xero_conformance  # noqa: E402, F401


def pytest_configure(config):
	config.addinivalue_line(
		"markers", "xero_unchecked: do not check this test's sandbox traffic against the spec"
	)
