"""``python -m xero_sandbox --port P ...``: run the sandbox until Ctrl-C."""

import argparse
import signal
import threading
import time

from .server import DEFAULTS, SandboxServer


def parse_args(argv=None) -> argparse.Namespace:
	parser = argparse.ArgumentParser(prog="python -m xero_sandbox", description=__doc__)
	parser.add_argument("--port", type=int, default=8787)
	parser.add_argument("--host", default="127.0.0.1")
	parser.add_argument("--client-id", default=DEFAULTS["client_id"])
	parser.add_argument("--client-secret", default=DEFAULTS["client_secret"])
	parser.add_argument("--webhook-key", default=DEFAULTS["webhook_key"])
	parser.add_argument("--webhook-url", default=None)
	parser.add_argument("--tenants", type=int, default=2)
	parser.add_argument("--seed-invoices", type=int, default=40)
	parser.add_argument("--seed-contacts", type=int, default=20)
	parser.add_argument("--seed-items", type=int, default=15)
	parser.add_argument("--no-rate-limits", action="store_true")
	parser.add_argument(
		"--day-limit", type=int, default=5000, help="daily calls per tenant (Starter tier: 1000)"
	)
	parser.add_argument("--token-ttl", type=int, default=1800, help="access token lifetime in seconds")
	parser.add_argument("--seed", type=int, default=1, help="same seed, same tenants, ids and documents")
	parser.add_argument("--verbose", action="store_true", help="log every request")
	return parser.parse_args(argv)


def _stop_on_signals() -> None:
	# A process started in the background inherits SIGINT ignored; Ctrl-C and `kill` must still stop it.
	signal.signal(signal.SIGINT, signal.default_int_handler)
	signal.signal(signal.SIGTERM, signal.default_int_handler)


def main(argv=None) -> None:
	args = parse_args(argv)
	_stop_on_signals()
	started = time.monotonic()
	server = SandboxServer(
		port=args.port,
		host=args.host,
		client_id=args.client_id,
		client_secret=args.client_secret,
		webhook_key=args.webhook_key,
		webhook_url=args.webhook_url,
		tenants=args.tenants,
		seed_invoices=args.seed_invoices,
		seed_contacts=args.seed_contacts,
		seed_items=args.seed_items,
		rate_limits=not args.no_rate_limits,
		day_limit=args.day_limit,
		token_ttl=args.token_ttl,
		seed=args.seed,
		verbose=args.verbose,
	).start()
	print(f"Xero sandbox on {server.url} (seeded in {time.monotonic() - started:.1f} s)")
	print(f"  client id:     {server.client_id}")
	print(f"  client secret: {server.client_secret}")
	print(f"  webhook key:   {server.webhook_key}")
	for tenant in server.tenants.values():
		counts = tenant.counts()
		print(
			f"  tenant {tenant.tenant_id}  {tenant.name}: {counts['invoices']} invoices, "
			f"{counts['contacts']} contacts, {counts['items']} items"
		)
	print(f"  rate limits:   {'on' if server.limits.enabled else 'off'}; Ctrl-C stops", flush=True)
	try:
		threading.Event().wait()
	except KeyboardInterrupt:
		pass
	finally:
		server.stop()


if __name__ == "__main__":
	main()
