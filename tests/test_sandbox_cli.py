"""``python -m xero_sandbox``: starts, prints its credentials, serves, and stops on Ctrl-C."""

import signal
import subprocess
import sys
from pathlib import Path

import requests

CHECKOUT = Path(__file__).resolve().parents[1]


def test_command_line_sandbox_serves_and_stops_on_ctrl_c():
	command = [
		sys.executable,
		"-m",
		"xero_sandbox",
		"--port",
		"0",
		"--tenants",
		"1",
		"--no-rate-limits",
	]
	process = subprocess.Popen(
		command, cwd=CHECKOUT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
	)
	try:
		lines = [process.stdout.readline() for _ in range(5)]
		url = lines[0].split()[3]
		assert url.startswith("http://127.0.0.1:")
		assert "XSO-SANDBOX-CLIENT" in lines[1] and "xso-sandbox-secret" in lines[2]
		assert "xso-sandbox-webhook-key" in lines[3] and "Demo Company (NZ)" in lines[4]
		tenants = requests.get(f"{url}/_sandbox/tenants", timeout=10).json()["tenants"]
		assert [t["tenantName"] for t in tenants] == ["Demo Company (NZ)"]
		process.send_signal(signal.SIGINT)
		assert process.wait(timeout=10) == 0
	finally:
		if process.poll() is None:
			process.kill()
		process.stdout.close()
