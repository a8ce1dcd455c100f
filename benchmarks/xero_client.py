"""A burst of client calls against the sandbox's real limits (60/min, 5 concurrent per tenant).

    python benchmarks/xero_client.py [--calls 300] [--threads 10]

Prints how many calls Xero (the sandbox) refused with 429, how many of those the client retried,
how many calls failed for good (target 0), and whether the sandbox ever served a call over a limit
(target: never). The minute limit makes this take about calls/60 minutes of wall time.
"""

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_xero_support import TokenSupplier, start_sandbox  # noqa: E402
from xero_sales_orders.xero.client import XeroClient  # noqa: E402
from xero_sales_orders.xero.ratelimit import RateLimiter  # noqa: E402


def main():
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--calls", type=int, default=300)
	parser.add_argument("--threads", type=int, default=10)
	args = parser.parse_args()
	sandbox = start_sandbox(tenants=1)
	try:
		tokens = sandbox.connect()
		tenant = sandbox.tenant_ids(tokens)[0]
		sandbox.clear_calls()
		client = XeroClient(
			sandbox.endpoints, tenant, TokenSupplier(sandbox, tokens), rate_limiter=RateLimiter(max_wait=120)
		)
		failures, lock = [], threading.Lock()
		remaining = [args.calls]

		def worker():
			while True:
				with lock:
					if remaining[0] == 0:
						return
					remaining[0] -= 1
				try:
					client.organisation()
				except Exception as e:  # counted: a call that failed for good
					with lock:
						failures.append(repr(e))

		started = time.perf_counter()
		threads = [threading.Thread(target=worker) for _ in range(args.threads)]
		for t in threads:
			t.start()
		for t in threads:
			t.join()
		seconds = time.perf_counter() - started
		calls = sandbox.calls()
	finally:
		sandbox.stop()
	rejected = calls["rejected"]
	print(f"burst of {args.calls} calls from {args.threads} threads in {seconds:.1f} s")
	print(f"  served by the sandbox: {calls['total']}; refused with 429: {rejected}")
	print(f"  failed for good (not retried or retries exhausted): {len(failures)}  (target 0)")
	print(f"  calls served over a limit: {calls['limit_breaches']}  (target 0)")
	return 1 if failures or calls["limit_breaches"] else 0


if __name__ == "__main__":
	sys.exit(main())
