"""Webhook endpoint over HTTP on production's web server: forged deliveries refused, and the delivery's
latency against Frappe's own /api/method/ping at the same rates, in one run.

    cd ~/frappe-bench/sites && ../env/bin/python -m gunicorn -b 127.0.0.1:8010 -w 4 --preload \\
        frappe.app:application &
    python benchmarks/webhooks_http.py --url http://127.0.0.1:8010 --site-host SITE --tenant TENANT_ID \\
        [--key WEBHOOK_KEY] [--forged 10000] [--seconds 10] [--rates 50,100]

1. sends N forged or altered deliveries (wrong key, one byte changed, one signature character off, no
   signature) and counts how many were accepted (target 0); they also warm the server's workers up;
2. at each rate, open loop, sends Frappe's GET /api/method/ping and correctly signed deliveries (one new
   event each) in blocks of --block seconds taking turns (ping, delivery, delivery, ping, ...), so that
   whatever else loads the machine meanwhile falls on both alike; prints each one's p50/p99 counted from
   each request's due time and the ratio of the p99s (target: the delivery's p99 within 1.5x of ping's).
Deliveries go through Frappe's whole request handling like any whitelisted method, so ping is the floor
under them; the ratio is what the endpoint's own work (verify, one insert, one Redis flag) adds to it.
Measure production's server: gunicorn with sync workers and --preload, as bench sets production up
(`bench serve` is werkzeug's development server). The key is the webhook key of a connection on the site
(the test command's and the demo's sandbox connections use xso-sandbox-webhook-key); with one of its
organisations as --tenant the events are stored Queued and the drain's flag raised as Xero's would be,
while an unknown tenant's are stored as Ignored.
"""

import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import requests
from stats import percentile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from xero_sales_orders.xero.webhooks import sign  # noqa: E402
from xero_sandbox.webhooks import WebhookSender  # noqa: E402

XERO = WebhookSender(
	key="", default_url=None, api_url="https://api.xero.com", now=lambda: datetime.now(timezone.utc)
)

PATH = "/api/method/xero_sales_orders.api.webhook.receive"
PING = "/api/method/ping"
TARGET_RATIO = 1.5


def delivery(tenant: str) -> bytes:
	"""One new invoice event, in the exact bytes Xero sends (the sandbox's sender builds them)."""
	event = XERO.event({"tenant_id": tenant, "resource_id": str(uuid.uuid4())}, tenant_known=lambda _: True)
	return XERO.build_body([event])


def forged(index: int, key: str, tenant: str) -> tuple[bytes, dict]:
	body = delivery(tenant)
	good = sign(body, key)
	kind = index % 4
	if kind == 0:
		return body, {"x-xero-signature": sign(body, key + "x")}
	if kind == 1:
		return body.replace(b"UPDATE", b"CREATE"), {"x-xero-signature": good}
	if kind == 2:
		return body, {"x-xero-signature": ("A" if good[0] != "A" else "B") + good[1:]}
	return body, {}


class Target:
	def __init__(self, url: str, site_host: str | None):
		parts = urllib.parse.urlsplit(url)
		self.host, self.port = parts.hostname, parts.port or 80
		self.host_header = site_host or parts.netloc

	def request(self, method: str, path: str, body: bytes | None, headers: dict, due: float):
		"""One request on a fresh connection (gunicorn's sync workers close each one anyway), with its
		latency counted from its due time; http.client, as the load generator shares the machine's cores
		with the server and must cost as little as it can."""
		connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
		try:
			connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
			for name, value in {"Host": self.host_header, **headers}.items():
				connection.putheader(name, value)
			if body is not None:
				connection.putheader("Content-Length", str(len(body)))
			connection.endheaders(body)
			response = connection.getresponse()
			response.read()
			return response.status, time.perf_counter() - due
		finally:
			connection.close()


def open_loop(target: Target, requests_: list[tuple], rate: float) -> list[tuple[int, float]]:
	"""Sends each request at its own due time whether or not earlier ones have been answered, so that a
	queue anywhere shows in the figures."""
	results = [None] * len(requests_)
	pool = ThreadPoolExecutor(max_workers=64)
	started = time.perf_counter() + 0.05

	def one(n, due):
		results[n] = target.request(*requests_[n], due)

	for n in range(len(requests_)):
		due = started + n / rate
		delay = due - time.perf_counter()
		if delay > 0:
			time.sleep(delay)
		pool.submit(one, n, due)
	pool.shutdown(wait=True)
	return results


def figures(results: list[tuple[int, float]]) -> dict:
	ms = [seconds * 1000 for status, seconds in results if status == 200]
	return {
		"ok": len(ms),
		"sent": len(results),
		"p50": percentile(ms, 50) if ms else float("nan"),
		"p99": percentile(ms, 99) if ms else float("nan"),
	}


def main():
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--url", default="http://127.0.0.1:8010")
	parser.add_argument("--key", default="xso-sandbox-webhook-key")
	parser.add_argument("--tenant", default=str(uuid.uuid4()), help="a tenant id (an unknown one is fine)")
	parser.add_argument("--forged", type=int, default=10_000)
	parser.add_argument("--seconds", type=float, default=20, help="of ping and of deliveries, per rate")
	parser.add_argument("--block", type=float, default=1, help="seconds of one kind before the other's turn")
	parser.add_argument("--rates", default="50,100", help="requests per second, comma-separated")
	parser.add_argument(
		"--site-host", help="Host header naming the site, for a server such as gunicorn that serves several"
	)
	args = parser.parse_args()
	target = Target(args.url, args.site_host)
	base = args.url.rstrip("/")
	host = {"Host": args.site_host} if args.site_host else {}
	local = threading.local()

	def post(body, headers):
		if not hasattr(local, "s"):
			local.s = requests.Session()
		r = local.s.post(
			base + PATH,
			data=body,
			headers={"Content-Type": "application/json", **host, **headers},
			timeout=30,
		)
		return r.status_code

	with ThreadPoolExecutor(max_workers=8) as pool:
		statuses = list(pool.map(lambda i: post(*forged(i, args.key, args.tenant)), range(args.forged)))
	accepted = sum(1 for status in statuses if 200 <= status < 300)
	print(
		f"forged or altered deliveries: {args.forged}, accepted: {accepted} (target 0), "
		f"statuses: {sorted(set(statuses))}"
	)

	probe = json.dumps({"events": [], "firstEventSequence": 0, "lastEventSequence": 0}).encode()
	for _ in range(50):  # every worker has answered both kinds before the clock starts
		post(probe, {"x-xero-signature": sign(probe, args.key)})
		requests.get(base + PING, headers=host, timeout=30)

	worst, failed = 0.0, 0

	def deliveries(count: int) -> list[tuple]:
		batch = []
		for _ in range(count):
			body = delivery(args.tenant)
			headers = {"Content-Type": "application/json", "x-xero-signature": sign(body, args.key)}
			batch.append(("POST", PATH, body, headers))
		return batch

	for rate in [float(r) for r in args.rates.split(",")]:
		per_block = max(1, int(rate * args.block))
		blocks = max(1, round(args.seconds / args.block))
		phases = {"ping": [], "delivery": []}
		for n in range(2 * blocks):
			kind = ("ping", "delivery", "delivery", "ping")[n % 4]
			batch = [("GET", PING, None, {})] * per_block if kind == "ping" else deliveries(per_block)
			phases[kind] += open_loop(target, batch, rate)
		ping, hook = figures(phases["ping"]), figures(phases["delivery"])
		failed += (ping["sent"] - ping["ok"]) + (hook["sent"] - hook["ok"])
		ratio = hook["p99"] / ping["p99"]
		worst = max(worst, ratio)
		print(
			f"{rate:.0f} requests/s, {blocks} blocks of {args.block:g} s each: "
			f"ping {ping['ok']}/{ping['sent']} answered 200, p50 {ping['p50']:.1f} ms, p99 {ping['p99']:.1f} ms; "
			f"delivery {hook['ok']}/{hook['sent']} answered 200, p50 {hook['p50']:.1f} ms, "
			f"p99 {hook['p99']:.1f} ms; delivery p99 / ping p99 = {ratio:.2f} (target <= {TARGET_RATIO})"
		)
	met = not accepted and not failed and worst <= TARGET_RATIO
	print(
		f"targets {'met' if met else 'MISSED'}: worst ratio {worst:.2f}, {failed} requests not answered 200"
	)
	return 0 if met else 1


if __name__ == "__main__":
	sys.exit(main())
