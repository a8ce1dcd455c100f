"""`bench xero-sandbox`: with the checkout on the bench env's path (tools/xso_dev.py's .pth) it serves the Xero
sandbox; on a bench without the checkout it says that the sandbox is a development tool of the checkout."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import frappe
import requests
from frappe.tests.utils import FrappeTestCase

import xero_sandbox

# The folder that holds xero_sandbox/: the checkout's root, on the bench env's path through the .pth file.
CHECKOUT = Path(xero_sandbox.__file__).resolve().parent.parent

# `bench xero-sandbox ARGS` as bench runs an app's command, with the checkout taken off the import path
# when HIDE is set (as on a bench that installed the app without the checkout's development packages).
BENCH_COMMAND = """
import os, sys
if os.environ.get("HIDE"):
	sys.path = [p for p in sys.path if os.path.realpath(p or ".") != os.environ["HIDE"]]
sys.argv = ["bench", "frappe", "xero-sandbox", *sys.argv[1:]]
from frappe.utils.bench_helper import main
main()
"""


def free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def bench_xero_sandbox(*args: str, hide_checkout: bool = False, **popen) -> subprocess.Popen:
	env = {**os.environ, "HIDE": str(CHECKOUT) if hide_checkout else ""}
	return subprocess.Popen(
		[sys.executable, "-c", BENCH_COMMAND, *args],
		cwd=Path(frappe.utils.get_bench_path()) / "sites",
		env=env,
		stdout=subprocess.PIPE,
		stderr=subprocess.STDOUT,
		text=True,
		**popen,
	)


class TestBenchXeroSandbox(FrappeTestCase):
	def test_serves_the_sandbox_from_the_checkout_and_stops_on_ctrl_c(self):
		port = free_port()
		process = bench_xero_sandbox("--port", str(port), "--tenants", "1", "--no-rate-limits")
		try:
			first = process.stdout.readline()
			self.assertEqual(first.split()[:4], ["Xero", "sandbox", "on", f"http://127.0.0.1:{port}"], first)
			tenants = requests.get(f"http://127.0.0.1:{port}/_sandbox/tenants", timeout=10).json()["tenants"]
			self.assertEqual([t["tenantName"] for t in tenants], ["Demo Company (NZ)"])
			process.send_signal(signal.SIGINT)
			self.assertEqual(process.wait(timeout=20), 0)
		finally:
			if process.poll() is None:
				process.kill()
			process.stdout.close()

	def test_without_the_checkout_it_says_the_sandbox_is_a_development_tool(self):
		process = bench_xero_sandbox("--port", str(free_port()), hide_checkout=True)
		try:
			output, _ = process.communicate(timeout=60)
		finally:
			if process.poll() is None:
				process.kill()
		self.assertEqual(process.returncode, 1, output)
		self.assertIn("the Xero sandbox is a development tool of the xero_sales_orders checkout", output)
		self.assertNotIn("Traceback", output)
