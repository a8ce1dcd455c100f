"""The servers the test command starts (web, Xero sandbox, gunicorn) listen on 127.0.0.1 only, and the web
server has no Werkzeug debugger: `bench serve` listens on 0.0.0.0 with the debugger's console on."""

import importlib.util
import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests

from .conftest import BASE_URL, SANDBOX_URL

TOOL = Path(__file__).resolve().parents[2] / "tools" / "xso_dev.py"


def xso_dev():
	spec = importlib.util.spec_from_file_location("xso_dev_under_test", TOOL)
	module = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(module)
	return module


SERVERS = {
	"web": BASE_URL,
	"sandbox": SANDBOX_URL,
	"gunicorn": os.environ.get("XSO_GUNICORN_URL"),
}


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_server_listens_on_loopback_only(server):
	url = SERVERS[server]
	if not url:
		pytest.fail(f"the test command starts the {server} server for this tier")
	parsed = urlparse(url)
	assert parsed.hostname == "127.0.0.1", url
	addresses = xso_dev().listening_addresses(parsed.port)
	if addresses is None:
		pytest.skip("no /proc/net on this system: listening addresses cannot be read")
	assert addresses == {"127.0.0.1"}, addresses


def test_web_server_has_no_debugger():
	# With Werkzeug's debugger on, this answers its JavaScript (the console's front end) with 200.
	r = requests.get(
		f"{BASE_URL}/", params={"__debugger__": "yes", "cmd": "resource", "f": "debugger.js"}, timeout=30
	)
	assert "javascript" not in r.headers.get("Content-Type", ""), r.headers
	assert "__debugger__" not in r.text and "CONSOLE_MODE" not in r.text
	# An unknown page is Frappe's own 404, not a Werkzeug traceback page.
	r = requests.get(f"{BASE_URL}/xso-no-such-page-{os.getpid()}", timeout=30)
	assert r.status_code == 404
	assert "Werkzeug" not in r.text and "Traceback" not in r.text


def test_web_server_serves_assets_and_public_files():
	"""What `bench serve` adds to the API: /assets (built desk assets) and a site's /files."""
	r = requests.get(f"{BASE_URL}/assets/xero_sales_orders/js/xero_reports.js", timeout=30)
	assert r.status_code == 200 and b"frappe" in r.content, r.status_code
	r = requests.get(f"{BASE_URL}/assets/frappe/images/frappe-framework-logo.svg", timeout=30)
	assert r.status_code == 200 and b"<svg" in r.content[:500], r.status_code
	name = f"xso-public-{os.getpid()}.txt"
	folder = Path(os.environ["XSO_BENCH_PATH"]) / "sites" / os.environ["XSO_SITE"] / "public" / "files"
	folder.mkdir(parents=True, exist_ok=True)
	(folder / name).write_text("public file\n")
	try:
		r = requests.get(f"{BASE_URL}/files/{name}", timeout=30)
		assert r.status_code == 200 and r.text == "public file\n", r.status_code
	finally:
		(folder / name).unlink()
