"""Webhook endpoint over HTTP on a running bench: forged deliveries refused, acknowledgement latency.

    python benchmarks/webhooks_http.py --url http://127.0.0.1:8010 --site-host SITE --tenant TENANT_ID \
        [--key WEBHOOK_KEY] [--forged 10000] [--seconds 10]

1. sends N forged or altered deliveries (wrong key, one byte changed, one signature character off,
   no signature) and counts how many were accepted (target 0); they also warm the server's workers up;
2. sends correctly signed deliveries (one new event each) at 50 and at 200 requests/s, open loop, and
   prints the acknowledgement latency p50/p99 counted from each delivery's due time (target p99 <= 50 ms).
Measure production's server: gunicorn with sync workers and --preload, as bench sets production up
(`bench serve` is werkzeug's development server). The key is the webhook key of a connection on the site
(the test command's and the demo's sandbox connections use xso-sandbox-webhook-key); with one of its
organisations as --tenant the events are queued and drained in the background as Xero's would be, while
an unknown tenant's are stored as Ignored.
"""

import argparse
import http.client
import json
import statistics
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


def signature(body: bytes, key: str) -> str:
	return sign(body, key)


def delivery(tenant: str) -> bytes:
	"""One new invoice event, in the exact bytes Xero sends (the sandbox's sender builds them)."""
	event = XERO.event({"tenant_id": tenant, "resource_id": str(uuid.uuid4())}, tenant_known=lambda _: True)
	return XERO.build_body([event])


def forged(index: int, key: str, tenant: str) -> tuple[bytes, dict]:
	body = delivery(tenant)
	good = signature(body, key)
	kind = index % 4
	if kind == 0:
		return body, {"x-xero-signature": signature(body, key + "x")}
	if kind == 1:
		return body.replace(b"UPDATE", b"CREATE"), {"x-xero-signature": good}
	if kind == 2:
		return body, {"x-xero-signature": ("A" if good[0] != "A" else "B") + good[1:]}
	return body, {}


def main():
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--url", default="http://127.0.0.1:8000")
	parser.add_argument("--key", default="xso-sandbox-webhook-key")
	parser.add_argument("--tenant", default=str(uuid.uuid4()), help="a tenant id (an unknown one is fine)")
	parser.add_argument("--forged", type=int, default=10_000)
	parser.add_argument("--seconds", type=float, default=5)
	parser.add_argument(
		"--site-host", help="Host header naming the site, for a server such as gunicorn that serves several"
	)
	args = parser.parse_args()
	url = args.url.rstrip("/") + PATH
	local = threading.local()

	def post(body, headers):
		if not hasattr(local, "s"):
			local.s = requests.Session()
		started = time.perf_counter()
		extra = {"Host": args.site_host} if args.site_host else {}
		r = local.s.post(
			url, data=body, headers={"Content-Type": "application/json", **extra, **headers}, timeout=30
		)
		return r.status_code, time.perf_counter() - started

	with ThreadPoolExecutor(max_workers=8) as pool:
		results = list(pool.map(lambda i: post(*forged(i, args.key, args.tenant)), range(args.forged)))
	accepted = sum(1 for status, _ in results if 200 <= status < 300)
	print(
		f"forged or altered deliveries: {args.forged}, accepted: {accepted} (target 0), statuses: "
		f"{sorted({s for s, _ in results})}"
	)

	target = urllib.parse.urlsplit(url)
	host_header = args.site_host or target.netloc

	def timed_post(body: bytes, headers: dict, scheduled: float) -> tuple[int, float]:
		# http.client on a fresh connection (gunicorn's sync workers close each one anyway): the
		# load generator shares the machine's cores with the bench, so it must cost as little as it can.
		connection = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=30)
		try:
			connection.putrequest("POST", target.path, skip_host=True, skip_accept_encoding=True)
			for name, value in {"Host": host_header, "Content-Type": "application/json", **headers}.items():
				connection.putheader(name, value)
			connection.putheader("Content-Length", str(len(body)))
			connection.endheaders(body)
			response = connection.getresponse()
			response.read()
			return response.status, time.perf_counter() - scheduled
		finally:
			connection.close()

	probe = json.dumps({"events": [], "firstEventSequence": 0, "lastEventSequence": 0}).encode()
	for _ in range(50):  # every worker's first request goes through Frappe's whole pipeline
		post(probe, {"x-xero-signature": signature(probe, args.key)})

	for rate in (50, 200):
		total = int(rate * args.seconds)
		deliveries = []
		for _ in range(total):
			body = delivery(args.tenant)
			deliveries.append((body, {"x-xero-signature": signature(body, args.key)}))
		results = [None] * total
		pool = ThreadPoolExecutor(max_workers=64)
		started = time.perf_counter() + 0.2

		def one(n, scheduled, deliveries=deliveries, results=results):
			results[n] = timed_post(*deliveries[n], scheduled)

		for n in range(total):
			# Open loop: each delivery is due at its own time whether or not earlier ones have been
			# answered, and its latency counts from that time, so a queue anywhere shows in the figures.
			scheduled = started + n / rate
			delay = scheduled - time.perf_counter()
			if delay > 0:
				time.sleep(delay)
			pool.submit(one, n, scheduled)
		pool.shutdown(wait=True)
		ms = [seconds * 1000 for status, seconds in results if status == 200]
		print(
			f"{rate} requests/s for {args.seconds:.0f} s: {len(ms)}/{total} answered 200; "
			f"p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, mean {statistics.mean(ms):.1f} ms"
		)
	return 1 if accepted else 0


if __name__ == "__main__":
	sys.exit(main())
