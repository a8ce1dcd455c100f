"""Xero connection, push and webhook figures measured on a real site, each against its own sandbox.

    python benchmarks/xero_on_bench.py [--bench ~/frappe-bench] [--site xso-test.localhost] [--only NAME ...]

Runs benchmarks/on_site.py's functions on the site, one process each, with the dev kit's runner
(`cd BENCH/sites && ../env/bin/python -m xso_devkit.execute --site SITE benchmarks.on_site.<name>`; the
checkout must be on the bench env's import path, as `python3 tools/xso_dev.py setup` or `test` puts it):
  refresh_race        10 workers refreshing one connection at once -> token calls Xero saw (target 1)
  sync_cost           first sync of 5,000 contacts and 1,000 items -> calls used vs the minimum (contact pages + one per other master)
  push_soak           1,000 invoices pushed under 20 % injected faults -> in Xero once each, none lost
  webhook_processing  1,000 invoice events -> Xero calls used (target <= 20) and seconds
  push_soak_with_broken_organisation
                      the soak over two consents while one's token endpoint answers 503 -> healthy all
                      Pushed, the other Pending with attempts counted, none doubled or lost
  create_invoice_during_slow_push
                      create_invoice p95 idle vs while 200 invoices of another organisation go to a Xero
                      answering in 3 s (target within 2x)
  remainder_soak      the issue's orders invoiced in three parts (remainders) under faults -> invoices whose
                      totals in Xero differ from the app's (target 0), orders whose invoices do not add up (0)
  push_backlog        100 / 300 / 1,000 Pending invoices over two organisations (each met an outage before)
                      under Xero's real limits -> runs, PUTs and lookups per organisation (target for 1,000:
                      <= 2 x ceil(500 / 50) = 20 PUTs), Xero's 429s (0), busiest minute, seconds
  webhook_backlog     1,000 / 3,000 / 10,000 invoice events over two organisations drained while a user pushes
                      an invoice to each every 8 s -> drain GETs (target for 10,000: <= 200), the drain's
                      busiest minute per organisation (<= 30 of Xero's 60), pushes made and their p95, 429s (0)
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

ALL = [
	"refresh_race",
	"sync_cost",
	"push_soak",
	"webhook_processing",
	"push_soak_with_broken_organisation",
	"create_invoice_during_slow_push",
	"remainder_soak",
	"push_backlog",
	"webhook_backlog",
]


def main():
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--bench", default=os.environ.get("XSO_BENCH", str(Path.home() / "frappe-bench")))
	parser.add_argument("--site", default=os.environ.get("XSO_TEST_SITE", "xso-test.localhost"))
	parser.add_argument("--only", nargs="*", choices=ALL, default=ALL)
	args = parser.parse_args()
	failed = 0
	for name in args.only:
		print(f"== {name}", flush=True)
		bench = Path(args.bench).expanduser()
		result = subprocess.run(
			[bench / "env" / "bin" / "python", "-m", "xso_devkit.execute", "--site", args.site]
			+ [f"benchmarks.on_site.{name}"],
			cwd=bench / "sites",
		)
		failed += result.returncode != 0
	return 1 if failed else 0


if __name__ == "__main__":
	sys.exit(main())
