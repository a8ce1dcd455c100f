"""Two sites of one bench (Frappe's own multi-tenancy): each has its own connections and orders, and
nothing of one is seen from the other, over HTTP. Creates the second site once if it is missing."""

import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from .conftest import ADMIN_PASSWORD, BASE_URL, ORDER, Client

BENCH = os.environ.get("XSO_BENCH_PATH")
SECOND_SITE = os.environ.get("XSO_SECOND_SITE", "xso-test2.localhost")
DB_ROOT_PASSWORD = os.environ.get("XSO_DB_ROOT_PASSWORD", "root")

if not BENCH:
	pytest.skip("XSO_BENCH_PATH is not set: the two-site test needs the bench CLI", allow_module_level=True)


def bench(*args, timeout=600):
	return subprocess.run(
		["bench", *args], cwd=BENCH, capture_output=True, text=True, timeout=timeout, check=True
	)


def free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def ensure_second_site():
	"""The second site, created once, and brought up to this checkout's doctypes each run."""
	if (Path(BENCH) / "sites" / SECOND_SITE / "site_config.json").exists():
		bench("--site", SECOND_SITE, "migrate", "--skip-search-index")
		return
	bench(
		"new-site", SECOND_SITE, "--db-root-password", DB_ROOT_PASSWORD, "--admin-password", ADMIN_PASSWORD,
		"--no-mariadb-socket", "--install-app", "xero_sales_orders",
	)  # fmt: skip
	# The dev kit's set-up, run as `bench execute` would (bench execute runs installed apps' functions only).
	subprocess.run(
		[Path(BENCH) / "env" / "bin" / "python", "-m", "xso_devkit.execute", "--site", SECOND_SITE]
		+ ["xso_devkit.demo.complete_setup"],
		cwd=Path(BENCH) / "sites",
		capture_output=True,
		text=True,
		timeout=600,
		check=True,
	)


@pytest.fixture(scope="module")
def second_url():
	ensure_second_site()
	port = free_port()
	log = open(Path(BENCH) / "logs" / f"{SECOND_SITE}-serve.log", "a")
	# The test command's own web server (127.0.0.1 only, no debugger), as for the first site.
	serve = Path(__file__).resolve().parents[2] / "tools" / "xso_serve.py"
	server = subprocess.Popen(
		[Path(BENCH) / "env" / "bin" / "python", serve, "--site", SECOND_SITE, "--port", str(port)],
		cwd=Path(BENCH) / "sites",
		stdout=log,
		stderr=subprocess.STDOUT,
		start_new_session=True,
	)
	url = f"http://127.0.0.1:{port}"
	try:
		deadline = time.time() + 60
		while True:
			try:
				if requests.get(f"{url}/api/method/ping", timeout=2).ok:
					break
			except requests.ConnectionError:
				pass
			assert time.time() < deadline and server.poll() is None, (
				f"{SECOND_SITE} did not start; see {log.name}"
			)
			time.sleep(0.5)
		yield url
	finally:
		server.terminate()
		try:
			server.wait(timeout=15)
		except subprocess.TimeoutExpired:
			server.kill()
		log.close()


def client_for(url) -> Client:
	"""The conftest client, pointed at another site's server."""
	client = Client.__new__(Client)
	client.session = requests.Session()
	client.session.headers["Accept"] = "application/json"
	r = client.session.post(
		f"{url}/api/method/login", json={"usr": "Administrator", "pwd": ADMIN_PASSWORD}, timeout=30
	)
	r.raise_for_status()
	client.get = lambda path, **kw: client.session.get(f"{url}{path}", timeout=60, **kw)
	client.post = lambda path, payload=None, **kw: client.session.post(
		f"{url}{path}", json=payload, timeout=60, **kw
	)
	client.put = lambda path, payload=None, **kw: client.session.put(
		f"{url}{path}", json=payload, timeout=60, **kw
	)
	return client


def make_connection(client, name):
	r = client.post(
		client.resource("Xero Connection"),
		{
			"connection_name": name,
			"client_id": f"client-{name}",
			"client_secret": "secret",
			"login_url": "http://127.0.0.1:9",
			"identity_url": "http://127.0.0.1:9",
			"api_url": "http://127.0.0.1:9",
		},
	)
	assert r.status_code == 200, r.text


def names(client, doctype, field):
	r = client.get(client.resource(doctype), params={"fields": f'["{field}"]', "limit_page_length": 0})
	assert r.status_code == 200, r.text
	return {row[field] for row in r.json()["data"]}


def order_book(client, po):
	r = client.post(
		"/api/method/frappe.desk.query_report.run",
		{"report_name": "Uninvoiced Orders", "filters": {"po_number": po}},
	)
	assert r.status_code == 200, r.text
	return [row for row in r.json()["message"]["result"] if isinstance(row, dict)]


def test_each_site_sees_only_its_own_connections_and_orders(admin, second_url):
	first, second = admin, client_for(second_url)
	tag = uuid.uuid4().hex[:6]
	make_connection(first, f"Site One {tag}")
	make_connection(second, f"Site Two {tag}")
	line = [{"item_code": "TWO-SITES", "qty": 2, "unit_price": 10, "tax_rate": 15}]
	po_one, po_two = f"SITE1-{tag}", f"SITE2-{tag}"
	first.create_order(line, po_number=po_one)
	second.create_order(line, po_number=po_two)

	assert f"Site One {tag}" in names(first, "Xero Connection", "name")
	assert f"Site Two {tag}" not in names(first, "Xero Connection", "name")
	assert f"Site Two {tag}" in names(second, "Xero Connection", "name")
	assert f"Site One {tag}" not in names(second, "Xero Connection", "name")

	assert po_one in names(first, ORDER, "po_number") and po_two not in names(first, ORDER, "po_number")
	assert po_two in names(second, ORDER, "po_number") and po_one not in names(second, ORDER, "po_number")

	# The reports of each site read its own database only.
	assert [r["po_number"] for r in order_book(first, po_one)] == [po_one]
	assert order_book(first, po_two) == []
	assert [r["po_number"] for r in order_book(second, po_two)] == [po_two]
	assert order_book(second, po_one) == []

	# A session of one site is nobody on the other.
	stray = requests.get(
		f"{second_url}/api/resource/{ORDER}", cookies={"sid": first.session.cookies.get("sid")}, timeout=30
	)
	assert stray.status_code == 403, stray.text
	assert BASE_URL != second_url
