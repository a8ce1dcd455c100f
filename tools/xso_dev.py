#!/usr/bin/env python3
"""Developer commands for Xero Sales Orders: set up a demo bench, run every test tier.

    python3 tools/xso_dev.py setup   # bench + this app + demo site, then serve it
    python3 tools/xso_dev.py serve   # serve the demo site again (web, realtime, worker, scheduler)
    python3 tools/xso_dev.py test    # pure pytest, Frappe integration, HTTP and browser tiers
    python3 tools/xso_dev.py test --e2e-only -k browser   # one tier, some tests, on the existing site

Uses the bench at $XSO_BENCH or ~/frappe-bench. Only the standard library is used here, so the
script runs before anything is installed. Every server it starts listens on 127.0.0.1 only (checked
once it answers), and none runs Werkzeug's debugger. What it moves out of a bench goes to
$XSO_REPLACED_DIR (~/.cache/xso/replaced), never into the bench's apps/.
"""

import argparse
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
APP = "xero_sales_orders"
VENV = Path(os.environ.get("XSO_VENV", Path.home() / ".cache" / "xso-venv"))
DB_ROOT_PASSWORD = os.environ.get("XSO_DB_ROOT_PASSWORD", "root")
ADMIN_PASSWORD = os.environ.get("XSO_ADMIN_PASSWORD", "admin")
TEST_SITE = os.environ.get("XSO_TEST_SITE", "xso-test.localhost")
DEMO_SITE = os.environ.get("XSO_DEMO_SITE", "xso.localhost")
PURE_REQUIREMENTS = [
	"pytest>=8",
	"hypothesis>=6",
	"requests>=2.31",
	"requests-oauthlib>=1.3.1",
	"redis>=4.5",
	"openapi-core>=0.19",
	"playwright>=1.40",
]
REPORTS = CHECKOUT / "test-results"
# Where `setup` and `test` keep what they move out of a bench (its own copy of the app), outside `apps/`.
REPLACED_DIR = Path(
	os.environ.get("XSO_REPLACED_DIR", Path.home() / ".cache" / "xso" / "replaced")
).expanduser()
LOOPBACK = "127.0.0.1"
# Top-level packages of the checkout that are not part of the app's distribution: a .pth file in the bench
# env's site-packages (written by link_app) makes them importable there.
DEV_PACKAGES = ("xero_sandbox", "xso_devkit", "benchmarks")
CHECKOUT_PTH = "xso_checkout.pth"


def say(message: str) -> None:
	print(f"[xso] {message}", flush=True)


def banner(message: str) -> None:
	line = "!" * 78
	print(f"\n{line}\n!! {message}\n{line}\n", flush=True)


def run(cmd, check=True, **kwargs) -> subprocess.CompletedProcess:
	say("$ " + " ".join(str(c) for c in cmd))
	return subprocess.run([str(c) for c in cmd], check=check, **kwargs)


# ---------------------------------------------------------------- bench and services


def find_bench() -> Path | None:
	candidate = Path(os.environ.get("XSO_BENCH", Path.home() / "frappe-bench")).expanduser()
	if (candidate / "apps" / "frappe").is_dir() and (candidate / "env" / "bin" / "python").exists():
		return candidate
	return None


def bench_cmd(bench: Path) -> list[str]:
	found = shutil.which("bench")
	if found:
		return [found]
	for path in (Path.home() / ".local/bin/bench", Path("/usr/local/bin/bench")):
		if path.exists():
			return [str(path)]
	return [sys.executable, "-m", "bench"]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
	with socket.socket() as s:
		s.settimeout(0.5)
		return s.connect_ex((host, port)) == 0


def ensure_mariadb() -> None:
	if port_open(3306):
		return
	say("starting MariaDB")
	if shutil.which("service"):
		run(["service", "mariadb", "start"], check=False, stdout=subprocess.DEVNULL)
	for _ in range(60):
		if port_open(3306):
			return
		time.sleep(0.5)
	raise SystemExit(
		"MariaDB did not start: is mariadb-server installed and configured for Frappe (utf8mb4)?"
	)


def redis_ports(bench: Path) -> dict[str, int]:
	config = json.loads((bench / "sites" / "common_site_config.json").read_text())
	ports = {}
	for key in ("redis_cache", "redis_queue"):
		match = re.search(r":(\d+)", config.get(key, ""))
		if match:
			ports[key] = int(match.group(1))
	return ports


def ensure_redis(bench: Path) -> None:
	for key, port in redis_ports(bench).items():
		if port_open(port):
			continue
		conf = bench / "config" / f"{key}.conf"
		say(f"starting {key} on port {port}")
		args = (
			["redis-server", str(conf)]
			if conf.exists()
			else ["redis-server", "--port", str(port), "--bind", LOOPBACK]
		)
		run([*args, "--daemonize", "yes"], cwd=bench / "config", stdout=subprocess.DEVNULL)
		for _ in range(40):
			if port_open(port):
				break
			time.sleep(0.25)


def keep_aside(path: Path, bench: Path) -> Path:
	"""Moves PATH out of the bench to REPLACED_DIR (never into apps/, where bench would take it for an app)."""
	REPLACED_DIR.mkdir(parents=True, exist_ok=True)
	stamp = time.strftime("%Y%m%d-%H%M%S")
	label = f"{bench.name}-{path.parent.name}-{path.name.lstrip('.')}-{stamp}"
	kept = REPLACED_DIR / label
	n = 1
	while kept.exists() or kept.is_symlink():
		n += 1
		kept = REPLACED_DIR / f"{label}-{n}"
	shutil.move(str(path), str(kept))
	return kept


def point_bench_at_checkout(bench: Path, checkout: Path = CHECKOUT) -> list[str]:
	"""Makes the bench's `apps/xero_sales_orders` (and its assets) this checkout, moving whatever was there
	out of the bench, and answers what it changed. Nothing it moves stays under `apps/`: `bench get-app` and
	`bench new-app` list every app-like folder there in `sites/apps.txt`, and a `.xero_sales_orders.replaced-*`
	entry there (what an earlier version of this command left) breaks every bench command."""
	apps = bench / "apps"
	if REPLACED_DIR.resolve().is_relative_to(apps.resolve()):
		raise SystemExit(f"XSO_REPLACED_DIR ({REPLACED_DIR}) must not be inside {apps}")
	changes = []
	target = apps / APP
	if not (target.is_symlink() and target.resolve() == checkout.resolve()):
		if target.is_symlink():
			changes.append(f"{target} pointed at {os.readlink(target)}; removed that link")
			target.unlink()
		elif target.exists():
			kept = keep_aside(target, bench)
			changes.append(
				f"moved the bench's own copy of the app, {target}, to {kept} (move it back to undo)"
			)
		target.symlink_to(checkout, target_is_directory=True)
		changes.append(f"{target} is now a link to {checkout}")
	for leftover in sorted(apps.glob(f".{APP}.replaced-*")):
		kept = keep_aside(leftover, bench)
		changes.append(f"moved {leftover} (left in apps/ by an earlier version of this command) to {kept}")

	apps_txt = bench / "sites" / "apps.txt"
	listed = apps_txt.read_text().split() if apps_txt.exists() else ["frappe"]
	wanted = [name for name in listed if not name.startswith(f".{APP}.replaced-")]
	if APP not in wanted:
		wanted.append(APP)
	if wanted != listed:
		apps_txt.write_text("\n".join(wanted) + "\n")
		dropped = [name for name in listed if name not in wanted]
		changes.append(
			f"{apps_txt}: "
			+ ", ".join(
				[*(f"removed {name}" for name in dropped), *([f"added {APP}"] if APP not in listed else [])]
			)
		)

	assets = bench / "sites" / "assets"
	public = assets / APP
	source = checkout / APP / "public"
	if assets.is_dir() and not (public.is_symlink() and public.resolve() == source.resolve()):
		if public.is_symlink():
			changes.append(f"{public} pointed at {os.readlink(public)}; removed that link")
			public.unlink()
		elif public.exists():
			kept = keep_aside(public, bench)
			changes.append(f"moved {public} to {kept}")
		public.symlink_to(source, target_is_directory=True)
		changes.append(f"{public} is now a link to {source}")
	return changes


def put_checkout_on_path(site_packages: Path, checkout: Path = CHECKOUT) -> list[str]:
	"""Writes CHECKOUT_PTH in SITE_PACKAGES so that its python imports the development packages beside the
	app (the Xero sandbox, the dev kit, the site-side benchmarks): the app's distribution leaves them out, so
	`pip install -e` does not make them importable. Answers what it changed."""
	pth = Path(site_packages) / CHECKOUT_PTH
	wanted = f"{Path(checkout).resolve()}\n"
	if pth.exists() and pth.read_text() == wanted:
		return []
	was = pth.read_text().strip() if pth.exists() else None
	pth.write_text(wanted)
	return [
		f"wrote {pth}: the checkout {checkout} is on the bench env's import path, for "
		+ ", ".join(DEV_PACKAGES)
		+ " (development tools outside the app's distribution)"
		+ (f"; it named {was} before" if was else "")
		+ "; delete the file to undo"
	]


# Prints where the distribution named by argv[1] is installed from in editable mode (PEP 610), else nothing.
EDITABLE_SOURCE = (
	"import importlib.metadata as m, json, sys; "
	"d = json.loads(m.distribution(sys.argv[1]).read_text('direct_url.json') or '{}'); "
	"print(d.get('url', '') if d.get('dir_info', {}).get('editable') else '')"
)


def site_packages(python: Path) -> Path:
	answer = subprocess.run(
		[python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
		capture_output=True,
		text=True,
		check=True,
	)
	return Path(answer.stdout.strip())


def link_app(bench: Path) -> None:
	"""Makes the bench's app this checkout, so that every tier tests exactly the code at hand, puts the
	checkout's development packages on the bench env's import path, and says what it changed on the bench."""
	changes = point_bench_at_checkout(bench)
	python = bench / "env" / "bin" / "python"
	pth = site_packages(python) / CHECKOUT_PTH
	changes += put_checkout_on_path(pth.parent)
	# The app installed (pip install -e) from this checkout: its import path alone proves nothing now that
	# the checkout's root is on the env's path.
	probe = subprocess.run(
		[python, "-c", EDITABLE_SOURCE, APP], cwd=bench / "sites", capture_output=True, text=True
	)
	source = urllib.parse.unquote(probe.stdout.strip().removeprefix("file://"))
	if probe.returncode or not source or Path(source).resolve() != CHECKOUT.resolve():
		run(
			[python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", CHECKOUT],
			stdout=subprocess.DEVNULL,
		)
		changes.append(f"installed {CHECKOUT} into {bench / 'env'} (pip install -e)")
	if changes:
		say(f"changed on the bench {bench}:")
		for change in changes:
			say(f"  - {change}")
	else:
		say(
			f"the bench {bench} already runs this checkout and imports its development packages "
			f"({', '.join(DEV_PACKAGES)}) through {pth}; nothing changed on it"
		)


def site_exists(bench: Path, site: str) -> bool:
	return (bench / "sites" / site / "site_config.json").exists()


def fresh_site(bench: Path, site: str) -> None:
	bench_bin = bench_cmd(bench)
	if site_exists(bench, site):
		run(
			[*bench_bin, "drop-site", site, "--force", "--no-backup", "--db-root-password", DB_ROOT_PASSWORD],
			cwd=bench,
		)
	new_site(bench, site, allow_tests=True)


def new_site(bench: Path, site: str, allow_tests: bool = False) -> None:
	bench_bin = bench_cmd(bench)
	run(
		[
			*bench_bin,
			"new-site",
			site,
			"--db-root-password",
			DB_ROOT_PASSWORD,
			"--admin-password",
			ADMIN_PASSWORD,
			"--no-mariadb-socket",
			"--install-app",
			APP,
		],
		cwd=bench,
	)
	if allow_tests:
		run([*bench_bin, "--site", site, "set-config", "allow_tests", "true"], cwd=bench)
	devkit_execute(bench, site, "xso_devkit.demo.complete_setup")


def devkit_execute(bench: Path, site: str, method: str, kwargs: dict | None = None) -> None:
	"""`bench --site SITE execute METHOD` for the checkout's development packages (xso_devkit, benchmarks),
	which `bench execute` refuses as they are no installed app: xso_devkit/execute.py does the same."""
	cmd = [bench / "env" / "bin" / "python", "-m", "xso_devkit.execute", "--site", site, method]
	run([*cmd, *(["--kwargs", json.dumps(kwargs)] if kwargs else [])], cwd=bench / "sites")


def ensure_site(bench: Path, site: str) -> None:
	bench_bin = bench_cmd(bench)
	if not site_exists(bench, site):
		new_site(bench, site)
		return
	installed = subprocess.run(
		[*bench_bin, "--site", site, "list-apps"], cwd=bench, capture_output=True, text=True
	).stdout
	if APP not in installed:
		run([*bench_bin, "--site", site, "install-app", APP], cwd=bench)
	else:
		run([*bench_bin, "--site", site, "migrate", "--skip-search-index"], cwd=bench)


def dev_server_cmd(bench: Path, site: str, port: int) -> list:
	"""tools/xso_serve.py in the bench's python: what `bench serve` serves (the API, /assets, /files) on
	127.0.0.1 only and without Werkzeug's debugger, which `bench serve` binds to 0.0.0.0 outside CI."""
	return [
		bench / "env" / "bin" / "python",
		CHECKOUT / "tools" / "xso_serve.py",
		"--site",
		site,
		"--port",
		port,
	]


def start_server(
	bench: Path, site: str, port: int, log: Path | None, env: dict | None = None
) -> subprocess.Popen:
	where = f" (log: {log})" if log else ""
	say(f"serving {site} on http://{LOOPBACK}:{port}{where}")
	output = None
	if log:
		log.parent.mkdir(parents=True, exist_ok=True)
		output = log.open("w")
	proc = subprocess.Popen(
		[str(c) for c in dev_server_cmd(bench, site, port)],
		cwd=bench / "sites",
		stdout=output,
		stderr=subprocess.STDOUT if log else None,
		env=env,
		start_new_session=True,
	)
	for _ in range(240):
		try:
			with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/api/method/ping", timeout=2) as r:
				if r.status == 200:
					require_loopback(port, "the web server", proc)
					return proc
		except OSError:
			pass
		if proc.poll() is not None:
			break
		time.sleep(0.5)
	stop(proc)
	raise SystemExit(f"the bench did not answer on port {port}; see {log or 'the output above'}")


def listening_addresses(port: int) -> set[str] | None:
	"""The addresses on which something listens on TCP PORT (from /proc/net), or None where /proc has no
	network tables (not Linux)."""
	found, readable = set(), False
	for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
		try:
			rows = Path(table).read_text().splitlines()[1:]
		except OSError:
			continue
		readable = True
		for row in rows:
			fields = row.split()
			address, _, hex_port = fields[1].partition(":")
			if fields[3] != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
				continue
			raw = bytes.fromhex(address)
			raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))  # each 32-bit word host-order
			found.add(socket.inet_ntop(family, raw))
	return found if readable else None


def is_loopback(address: str) -> bool:
	ip = ipaddress.ip_address(address)
	mapped = getattr(ip, "ipv4_mapped", None)
	return (mapped or ip).is_loopback


def require_loopback(port: int, what: str, proc: subprocess.Popen | None = None) -> None:
	"""Stops the run when WHAT listens on PORT on anything but the loopback address."""
	addresses = listening_addresses(port)
	if addresses is None:
		return
	exposed = sorted(a for a in addresses if not is_loopback(a))
	if exposed:
		stop(proc)
		raise SystemExit(
			f"{what} listens on {', '.join(exposed)} port {port}, reachable from other machines; "
			f"this tool only runs servers on {LOOPBACK}. Stopped it."
		)


def stop(proc: subprocess.Popen | None) -> None:
	if proc and proc.poll() is None:
		try:
			os.killpg(proc.pid, 15)
			proc.wait(timeout=15)
		except (ProcessLookupError, subprocess.TimeoutExpired):
			os.killpg(proc.pid, 9)


def start_process(cmd, cwd: Path, log: Path, env: dict | None = None, mode: str = "w") -> subprocess.Popen:
	log.parent.mkdir(parents=True, exist_ok=True)
	say("$ " + " ".join(str(c) for c in cmd) + f"  (log: {log})")
	return subprocess.Popen(
		[str(c) for c in cmd],
		cwd=cwd,
		stdout=log.open(mode),
		stderr=subprocess.STDOUT,
		env=env,
		start_new_session=True,
	)


def wait_for_port(port: int, log: Path, what: str = "a server") -> None:
	for _ in range(120):
		if port_open(port):
			require_loopback(port, what)
			return
		time.sleep(0.25)
	raise SystemExit(f"nothing answered on port {port}; see {log}")


def free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


# ---------------------------------------------------------------- prerequisites


@dataclass
class Prerequisite:
	key: str
	name: str
	found: str | None  # where it was found, None when missing
	needed_for: str
	install: str  # how to install it on Debian or Ubuntu


def find_wkhtmltopdf() -> str | None:
	return shutil.which("wkhtmltopdf")  # what Frappe's PDF code (pdfkit) runs, from the server's PATH


def find_chromium() -> str | None:
	configured = os.environ.get("XSO_CHROMIUM")
	if configured:
		return configured if Path(configured).exists() else None
	return shutil.which("chromium") or shutil.which("chromium-browser")


def tool_version(cmd: list[str]) -> str:
	try:
		result = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
	except (OSError, subprocess.TimeoutExpired):
		return ""
	return (result.stdout or result.stderr).strip().splitlines()[0] if result.returncode == 0 else ""


def prerequisites() -> list[Prerequisite]:
	"""What a bench with this app needs on the machine (the README's list), and where each was found."""
	system = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/local/sbin"])
	mariadb = shutil.which("mariadbd", path=system) or shutil.which("mysqld", path=system)
	if not mariadb and port_open(3306):
		mariadb = "a server on 127.0.0.1:3306"
	node = shutil.which("node")
	node_version = tool_version([node, "--version"]) if node else ""
	node_major = int(re.match(r"v(\d+)", node_version).group(1)) if re.match(r"v(\d+)", node_version) else 0
	python_ok = sys.version_info >= (3, 10)
	return [
		Prerequisite(
			"python",
			"Python 3.10+",
			sys.executable if python_ok else None,
			"bench and Frappe v15",
			"apt-get install python3 python3-dev python3-venv python3-pip",
		),
		Prerequisite(
			"mariadb",
			"MariaDB 10.6+ (server and client)",
			mariadb,
			"every site's database",
			"apt-get install mariadb-server mariadb-client (utf8mb4, root password; see the README)",
		),
		Prerequisite(
			"redis",
			"Redis 6+",
			shutil.which("redis-server"),
			"Frappe's cache and job queue",
			"apt-get install redis-server",
		),
		Prerequisite(
			"node",
			"Node.js 18+",
			f"{node} ({node_version})" if node and node_major >= 18 else None,
			"bench build (the desk's assets) and the realtime server (socket.io)",
			"apt-get install nodejs (18 or later; or from nodejs.org)",
		),
		Prerequisite(
			"yarn",
			"yarn 1.x",
			shutil.which("yarn"),
			"bench init and bench build",
			"npm install -g yarn@1.22.22",
		),
		Prerequisite(
			"git", "git", shutil.which("git"), "bench init and bench get-app", "apt-get install git"
		),
		Prerequisite(
			"wkhtmltopdf",
			"wkhtmltopdf",
			find_wkhtmltopdf(),
			"PDF printing (Print > PDF answers 500 without it) and its test",
			"apt-get install wkhtmltopdf",
		),
		Prerequisite(
			"chromium",
			"chromium",
			find_chromium(),
			"the browser tests (Playwright drives it)",
			"apt-get install chromium (or set XSO_CHROMIUM to a Chromium binary)",
		),
	]


def check_prerequisites(required: set[str], consequences: dict[str, str] | None = None) -> dict:
	"""Prints which prerequisites are there and which are missing; stops when a REQUIRED one is missing."""
	items = prerequisites()
	say("prerequisites:")
	for item in items:
		if item.found:
			say(f"  ok       {item.name}: {item.found}")
		else:
			say(f"  MISSING  {item.name}, needed for {item.needed_for}; install: {item.install}")
	missing = [item for item in items if not item.found]
	fatal = [item for item in missing if item.key in required]
	if fatal:
		raise SystemExit(
			"missing prerequisites: "
			+ "; ".join(f"{item.name} ({item.install})" for item in fatal)
			+ ". Install them and run this again."
		)
	for item in missing:
		if consequences and item.key in consequences:
			banner(f"{item.name} IS NOT INSTALLED: {consequences[item.key]} Install: {item.install}")
	return {item.key: item for item in items}


def ensure_tool(name: str, package: str, find) -> str | None:
	"""The tool's path; installs PACKAGE from the distribution first when it is missing and this is a root
	shell with apt-get (not with XSO_NO_INSTALL=1)."""
	found = find()
	if found:
		return found
	if os.environ.get("XSO_NO_INSTALL"):
		say(f"{name} is not installed, and XSO_NO_INSTALL is set: not installing it")
		return None
	if not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get")):
		say(f"{name} is not installed, and this is not a root shell with apt-get: install {package}")
		return None
	env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
	for refresh in (False, True):  # a fresh machine's package lists may be empty or stale
		if refresh:
			run(["apt-get", "update", "-qq"], check=False, stdout=subprocess.DEVNULL, env=env)
		run(["apt-get", "install", "-y", "-qq", package], check=False, stdout=subprocess.DEVNULL, env=env)
		found = find()
		if found:
			say(f"installed {name}: {found}")
			return found
	say(f"{name} could not be installed from the distribution (package {package})")
	return None


# Tools the end-to-end tests need beyond the bench; missing ones are passed to pytest in XSO_MISSING_TOOLS,
# and exactly the tests that need them skip with "<tool> is not installed" (tests/e2e/conftest.needs_tool).
E2E_TOOLS = {
	"wkhtmltopdf": ("wkhtmltopdf", find_wkhtmltopdf, "the PDF test"),
	"chromium": ("chromium", find_chromium, "the browser tests"),
}


def skipped_for_tools(report: Path, tools) -> dict[str, int]:
	"""How many tests of a JUnit report skipped because each of TOOLS is not installed."""
	counts = dict.fromkeys(tools, 0)
	if not report.exists():
		return counts
	for skipped in ET.parse(report).getroot().iter("skipped"):
		message = skipped.get("message", "") + (skipped.text or "")
		for tool in tools:
			if f"{tool} is not installed" in message:
				counts[tool] += 1
	return counts


# ---------------------------------------------------------------- tiers


class Tally:
	def __init__(self):
		self.passed = self.failed = self.skipped = 0
		self.lines: list[str] = []

	def add(self, tier: str, passed: int, failed: int, skipped: int = 0, note: str = "") -> None:
		self.passed += passed
		self.failed += failed
		self.skipped += skipped
		self.lines.append(f"  {tier:<34} {passed:>4} passed {failed:>4} failed {skipped:>4} skipped {note}")


def ensure_venv() -> Path:
	python = VENV / "bin" / "python"
	if not python.exists():
		run([sys.executable, "-m", "venv", VENV])
	probe = subprocess.run(
		[
			python,
			"-c",
			"import pytest, hypothesis, requests, requests_oauthlib, redis, openapi_core, playwright",
		],
		capture_output=True,
	)
	if probe.returncode:
		run([python, "-m", "pip", "install", "--quiet", *PURE_REQUIREMENTS])
	return python


def junit_counts(path: Path) -> tuple[int, int, int]:
	if not path.exists():
		return 0, 1, 0
	root = ET.parse(path).getroot()
	suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
	tests = sum(int(s.get("tests", 0)) for s in suites)
	failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
	skipped = sum(int(s.get("skipped", 0)) for s in suites)
	return tests - failed - skipped, failed, skipped


def pytest_tier(tally: Tally, python: Path, name: str, args: list[str], env=None) -> Path:
	REPORTS.mkdir(exist_ok=True)
	report = REPORTS / f"{name}.xml"
	report.unlink(missing_ok=True)
	result = run([python, "-m", "pytest", *args, f"--junitxml={report}"], check=False, cwd=CHECKOUT, env=env)
	passed, failed, skipped = junit_counts(report)
	if result.returncode not in (0, 5) and failed == 0:
		failed = 1  # pytest itself failed (collection or usage error)
	tally.add(name, passed, failed, skipped)
	return report


def ensure_dev_requirements(bench: Path) -> None:
	"""`run-tests --junit-xml-output` needs Frappe's dev dependencies (unittest-xml-reporting), which a
	plain `bench init` does not install."""
	probe = subprocess.run([bench / "env" / "bin" / "python", "-c", "import xmlrunner"], capture_output=True)
	if probe.returncode:
		run([*bench_cmd(bench), "setup", "requirements", "--dev"], cwd=bench, stdout=subprocess.DEVNULL)


def frappe_tier(tally: Tally, bench: Path) -> None:
	bench_bin = bench_cmd(bench)
	ensure_dev_requirements(bench)
	REPORTS.mkdir(exist_ok=True)
	report = REPORTS / "frappe.xml"
	report.unlink(missing_ok=True)
	env = {**os.environ, "CI": "1"}  # without CI=1 run-tests exits 0 on failing tests
	result = run(
		[*bench_bin, "--site", TEST_SITE, "run-tests", "--app", APP, "--junit-xml-output", report],
		check=False,
		cwd=bench,
		env=env,
	)
	passed, failed, skipped = junit_counts(report)
	if result.returncode and failed == 0:
		failed = 1
	tally.add("frappe integration (bench run-tests)", passed, failed, skipped)


def ensure_e2e_tools() -> list[str]:
	"""Installs what the end-to-end tests need beyond the bench where it can; answers the tools still missing."""
	missing = []
	for tool, (package, find, tests) in E2E_TOOLS.items():
		if ensure_tool(tool, package, find):
			continue
		missing.append(tool)
		banner(
			f"{tool.upper()} IS NOT INSTALLED: {tests} will be SKIPPED (counted in the summary). "
			f"Install it: apt-get install {package}"
		)
	return missing


def command_test(args) -> int:
	tally = Tally()
	python = ensure_venv()
	if args.e2e_only:
		say("only tier 3, on the existing test site (--e2e-only)")
	else:
		say("tier 1: pure Python (no Frappe)")
		pytest_tier(tally, python, "pure python (pytest)", ["tests", "--ignore=tests/e2e"])

	skipped_for = {}
	bench = find_bench()
	if not bench:
		banner(
			"NO FRAPPE BENCH FOUND at $XSO_BENCH or ~/frappe-bench: SKIPPED the Frappe integration, "
			"HTTP and browser tiers. Run `python3 tools/xso_dev.py setup` to build one."
		)
		tally.lines.append("  frappe integration, HTTP, browser   SKIPPED: no bench")
	else:
		ensure_mariadb()
		ensure_redis(bench)
		link_app(bench)
		if args.e2e_only:
			ensure_site(bench, TEST_SITE)
		else:
			say(f"tier 2: Frappe integration tests on a fresh site {TEST_SITE}")
			fresh_site(bench, TEST_SITE)
			frappe_tier(tally, bench)

		say("tier 3: end to end over HTTP and in a real browser, with a Xero sandbox and a worker")
		missing = ensure_e2e_tools()
		# Every server listens on 127.0.0.1 only (checked once each answers); the web server is the tool's
		# own (tools/xso_serve.py), not `bench serve`, which listens on 0.0.0.0 with Werkzeug's debugger.
		port = free_port()
		server = start_server(bench, TEST_SITE, port, REPORTS / "bench-serve.log")
		sandbox_port = free_port()
		helpers = [
			start_process(
				[
					bench / "env" / "bin" / "python",
					*("-m", "xero_sandbox", "--host", LOOPBACK, "--port", sandbox_port),
				],
				bench / "sites",
				REPORTS / "sandbox.log",
			),
			start_process([*bench_cmd(bench), "worker"], bench, REPORTS / "worker.log"),
		]
		# Production's web server as bench configures it (sync workers, --preload), for the webhook
		# tests: only there does a worker keep its database connection between deliveries.
		gunicorn_port = free_port()
		gunicorn = start_process(
			[
				bench / "env" / "bin" / "python",
				*("-m", "gunicorn", "-b", f"{LOOPBACK}:{gunicorn_port}", "-w", "1", "-t", "120", "--preload"),
				"frappe.app:application",
			],
			bench / "sites",
			REPORTS / "gunicorn.log",
		)
		helpers.append(gunicorn)
		try:
			wait_for_port(sandbox_port, REPORTS / "sandbox.log", "the Xero sandbox")
			wait_for_port(gunicorn_port, REPORTS / "gunicorn.log", "gunicorn")
			env = {
				**os.environ,
				"XSO_SANDBOX_URL": f"http://{LOOPBACK}:{sandbox_port}",
				"XSO_URL": f"http://{LOOPBACK}:{port}",
				"XSO_ADMIN_PASSWORD": ADMIN_PASSWORD,
				"XSO_BENCH_PATH": str(bench),
				"XSO_SITE": TEST_SITE,
				"XSO_GUNICORN_URL": f"http://{LOOPBACK}:{gunicorn_port}",
				"XSO_GUNICORN_PID": str(gunicorn.pid),
				"XSO_MISSING_TOOLS": ",".join(missing),
			}
			chromium = find_chromium()
			if chromium:
				env["XSO_CHROMIUM"] = chromium
			selection = ["-k", args.k] if args.k else []
			report = pytest_tier(
				tally, python, "end to end (HTTP + browser)", ["tests/e2e", *selection], env=env
			)
			skipped_for = {tool: n for tool, n in skipped_for_tools(report, missing).items() if n}
		finally:
			for proc in (server, *helpers):
				stop(proc)

	print("\nxero_sales_orders test tiers:")
	print("\n".join(tally.lines))
	because = ", ".join(f"{n} because {tool} is not installed" for tool, n in skipped_for.items())
	print(
		f"{tally.passed} passed, {tally.failed} failed, {tally.skipped} skipped"
		+ (f" ({because})" if because else "")
	)
	if skipped_for:
		total = sum(skipped_for.values())
		banner(
			f"SKIPPED {total} TEST{'' if total == 1 else 'S'}: {because}. "
			"Install " + " and ".join(skipped_for) + " to run them."
		)
	return 1 if tally.failed or tally.passed == 0 else 0


# ---------------------------------------------------------------- setup


def upstream_bench_init(target: Path) -> Path:
	"""What a real user runs on a new machine (needs GitHub and the usual Frappe prerequisites)."""
	banner(f"No bench at {target}: creating one with the standard upstream `bench init` (Frappe version-15)")
	if os.geteuid() == 0 and shutil.which("apt-get"):
		run(
			[
				"apt-get",
				"install",
				"-y",
				"-qq",
				"mariadb-server",
				"mariadb-client",
				"redis-server",
				"libmariadb-dev",
				"pkg-config",
				"git",
				"curl",
			],
			check=False,
		)
	run([sys.executable, "-m", "pip", "install", "--quiet", "frappe-bench"])
	if not shutil.which("yarn") and shutil.which("npm"):
		run(["npm", "install", "-g", "yarn@1.22.22"], check=False)
	check_prerequisites(required={"python", "mariadb", "redis", "node", "yarn", "git"})
	result = run(
		[*bench_cmd(target), "init", "--frappe-branch", "version-15", "--no-backups", str(target)],
		check=False,
	)
	if result.returncode or not find_bench():
		raise SystemExit(
			"`bench init` failed (it needs github.com and the prerequisites of "
			"https://frappeframework.com/docs/user/en/installation). Build a Frappe v15 bench, then run this again "
			"with XSO_BENCH pointing at it."
		)
	return target


def start_sandbox(bench: Path, port: int) -> None:
	"""The local Xero sandbox the demo connection talks to, detached so it outlives this command."""
	if port_open(port):
		say(f"a Xero sandbox (or something else) already listens on {port}; using it")
		return
	log = bench / "logs" / "xero-sandbox.log"
	say(f"starting the Xero sandbox on http://127.0.0.1:{port} (log: {log})")
	subprocess.Popen(
		[
			bench / "env" / "bin" / "python",
			"-m",
			"xero_sandbox",
			"--host",
			LOOPBACK,
			"--port",
			str(port),
			"--seed-invoices",
			"200",
		],
		cwd=bench / "sites",
		stdout=log.open("a"),
		stderr=subprocess.STDOUT,
		start_new_session=True,
	)
	for _ in range(60):
		if port_open(port):
			require_loopback(port, "the Xero sandbox")
			return
		time.sleep(0.5)
	raise SystemExit(f"the Xero sandbox did not start; see {log}")


# What the demo lacks without each optional prerequisite (MariaDB and Redis are required).
SETUP_CONSEQUENCES = {
	"node": "the demo runs without Frappe's realtime server, so progress bars and live updates fall back to "
	"polling, and `bench build` cannot rebuild the desk's assets.",
	"yarn": "`bench build` cannot rebuild the desk's assets.",
	"wkhtmltopdf": "PDF printing (Print > PDF) answers 500, and `test` skips the PDF test.",
	"chromium": "`test` skips the browser tests.",
}


def socketio_port(bench: Path) -> int:
	config = json.loads((bench / "sites" / "common_site_config.json").read_text())
	return int(config.get("socketio_port") or 9000)


def start_socketio(bench: Path, site: str, log: Path) -> subprocess.Popen | None:
	"""Frappe's realtime server (what `bench start` runs as socketio), on 127.0.0.1 only."""
	node = shutil.which("node")
	script = bench / "apps" / "frappe" / "socketio.js"
	port = socketio_port(bench)
	if not node or not script.exists():
		say("no node or no apps/frappe/socketio.js: the demo runs without realtime updates")
		return None
	if port_open(port):
		say(f"something already listens on the realtime port {port}: realtime updates go to it")
		return None
	# FRAPPE_SITE names the site for browsers on 127.0.0.1 (frappe/node_utils.js get_conf: default_site).
	proc = start_process(
		[node, "-r", CHECKOUT / "tools" / "xso_loopback.cjs", script],
		bench,
		log,
		env={**os.environ, "FRAPPE_SITE": site},
		mode="a",
	)
	try:
		wait_for_port(port, log, "the realtime server (socket.io)")
	except SystemExit:
		stop(proc)
		raise
	return proc


def serve_demo(bench: Path, site: str, port: int) -> int:
	"""What `bench start` runs (web, socketio, worker, scheduler), every listener on 127.0.0.1, until Ctrl-C."""
	bench_bin = bench_cmd(bench)
	logs = bench / "logs"
	logs.mkdir(exist_ok=True)
	background = []
	web = None
	try:
		realtime = start_socketio(bench, site, logs / "xso-socketio.log")
		if realtime:
			background.append(realtime)
		background.append(start_process([*bench_bin, "worker"], bench, logs / "xso-worker.log", mode="a"))
		background.append(start_process([*bench_bin, "schedule"], bench, logs / "xso-schedule.log", mode="a"))
		# DEV_SERVER as `bench start` sets it: the desk then reaches socket.io on its own port.
		web = start_server(bench, site, port, None, env={**os.environ, "DEV_SERVER": "true"})
		say(
			f"open http://{LOOPBACK}:{port}/app/xero-sales-order and log in as Administrator / {ADMIN_PASSWORD}"
		)
		say(
			f"the demo connection is at http://{LOOPBACK}:{port}/app/xero-connection/Xero%20Sandbox; "
			f"logs in {logs} (xso-*.log); Ctrl-C stops"
		)
		return web.wait()
	except KeyboardInterrupt:
		return 0
	finally:
		for proc in (web, *background):
			stop(proc)


def command_setup(args) -> int:
	bench = find_bench() or upstream_bench_init(
		Path(os.environ.get("XSO_BENCH", Path.home() / "frappe-bench")).expanduser()
	)
	check_prerequisites(required={"python", "mariadb", "redis"}, consequences=SETUP_CONSEQUENCES)
	bench_bin = bench_cmd(bench)
	ensure_mariadb()
	ensure_redis(bench)
	link_app(bench)
	ensure_site(bench, DEMO_SITE)
	devkit_execute(bench, DEMO_SITE, "xso_devkit.demo.complete_setup")
	# Token keep-alive, retries of pending pushes, reconciliation and hourly sync run on the scheduler.
	run([*bench_bin, "--site", DEMO_SITE, "enable-scheduler"], cwd=bench)
	start_sandbox(bench, args.sandbox_port)
	sandbox_url = f"http://{LOOPBACK}:{args.sandbox_port}"
	devkit_execute(bench, DEMO_SITE, "xso_devkit.demo.make_demo_data", {"sandbox_url": sandbox_url})
	if args.no_serve:
		say(
			f"demo site {DEMO_SITE} is ready; serve it with: python3 {Path(__file__)} serve --port {args.port}"
		)
		return 0
	return serve_demo(bench, DEMO_SITE, args.port)


def command_serve(args) -> int:
	bench = find_bench()
	if not bench or not site_exists(bench, DEMO_SITE):
		raise SystemExit(f"no demo site {DEMO_SITE}: run `python3 {Path(__file__)} setup` first")
	ensure_mariadb()
	ensure_redis(bench)
	for change in put_checkout_on_path(site_packages(bench / "env" / "bin" / "python")):
		say(change)
	start_sandbox(bench, args.sandbox_port)
	return serve_demo(bench, DEMO_SITE, args.port)


def main() -> int:
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	sub = parser.add_subparsers(dest="command", required=True)
	setup = sub.add_parser("setup", help="set up a bench with the app and demo data, then serve it")
	setup.add_argument("--port", type=int, default=int(os.environ.get("XSO_PORT", 8000)))
	setup.add_argument("--no-serve", action="store_true", help="set up only; do not start the server")
	setup.add_argument("--sandbox-port", type=int, default=int(os.environ.get("XSO_SANDBOX_PORT", 8790)))
	setup.set_defaults(func=command_setup)
	serve = sub.add_parser(
		"serve", help="serve the demo site set up before (web, realtime, worker, scheduler; 127.0.0.1 only)"
	)
	serve.add_argument("--port", type=int, default=int(os.environ.get("XSO_PORT", 8000)))
	serve.add_argument("--sandbox-port", type=int, default=int(os.environ.get("XSO_SANDBOX_PORT", 8790)))
	serve.set_defaults(func=command_serve)
	test = sub.add_parser("test", help="run every test tier that this machine can run")
	test.add_argument(
		"--e2e-only",
		action="store_true",
		help="only the HTTP and browser tier, on the existing test site (a fresh site, as a full run makes, is "
		"what the import tests expect: the new sandbox numbers invoices as the last one did)",
	)
	test.add_argument("-k", help="pytest -k expression selecting end-to-end tests (with --e2e-only)")
	test.set_defaults(func=command_test)
	args = parser.parse_args()
	# A stopped run (CI's timeout, kill) still stops the servers it started: they run in their own
	# sessions, so only the `finally` blocks reach them.
	signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
	return args.func(args)


if __name__ == "__main__":
	sys.exit(main())
