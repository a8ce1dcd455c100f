"""Report and workspace timings on a site seeded with 10,000 orders of 10 lines (half partially invoiced).

python3 benchmarks/reports.py --site xso-reports.localhost [--bench ~/frappe-bench] [--orders 10000] [--no-seed]

Seeds with bulk SQL inside the site (benchmarks/on_site_seed.py), then prints, per report, the seconds of
the first page (cold: caches cleared; warm: best of three) and the number of SQL queries of each.
The target is 2 s or less for each report and for the workspace's cards.
"""

import argparse
import json
import subprocess
from pathlib import Path

TARGET_SECONDS = 2.0


def bench_execute(bench: Path, site: str, method: str, kwargs: dict | None = None) -> str:
	"""METHOD of benchmarks/ run on SITE as `bench execute` would run an app's (xso_devkit/execute.py)."""
	command = [bench / "env" / "bin" / "python", "-m", "xso_devkit.execute", "--site", site, method]
	if kwargs:
		command += ["--kwargs", json.dumps(kwargs)]
	result = subprocess.run(command, cwd=bench / "sites", capture_output=True, text=True, check=True)
	return result.stdout.strip().splitlines()[-1]


def main() -> int:
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--site", required=True)
	parser.add_argument("--bench", default=str(Path.home() / "frappe-bench"))
	parser.add_argument("--orders", type=int, default=10000)
	parser.add_argument("--no-seed", action="store_true", help="time the orders already seeded")
	parser.add_argument("--user", default="Administrator", help="run the reports as this user")
	args = parser.parse_args()
	bench = Path(args.bench).expanduser()
	if not args.no_seed:
		print(f"seeding {args.orders} orders of 10 lines on {args.site} ...", flush=True)
		print(bench_execute(bench, args.site, "benchmarks.on_site_seed.seed_orders", {"orders": args.orders}))
	answer = json.loads(
		json.loads(bench_execute(bench, args.site, "benchmarks.on_site_reports.measure", {"user": args.user}))
	)
	data = answer["data"]
	print(
		f"\nsite {args.site}: {data['orders']} submitted orders, {data['lines']} lines, {data['invoices']} invoices"
	)
	print(f"{'':28} {'cold s':>8} {'warm s':>8} {'queries cold':>13} {'queries warm':>13} {'rows':>7}")
	slow = []
	for name, r in answer["results"].items():
		print(
			f"{name:28} {r['cold_s']:8.3f} {r['warm_s']:8.3f} {r['queries_cold']:13d} {r['queries_warm']:13d}"
			f" {r.get('rows', ''):>7}"
		)
		if r["cold_s"] > TARGET_SECONDS:
			slow.append(name)
	print(f"target: each <= {TARGET_SECONDS} s" + (f"; SLOWER: {', '.join(slow)}" if slow else ": met"))
	return 1 if slow else 0


if __name__ == "__main__":
	raise SystemExit(main())
