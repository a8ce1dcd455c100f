"""Report and workspace timings on a site seeded with 10,000 orders of 10 lines (half partially invoiced).

python3 benchmarks/reports.py --site xso-reports.localhost [--bench ~/frappe-bench] [--orders 10000 [30000 100000]]
    [--no-seed] [--user USER | --restricted N]

Seeds with bulk SQL inside the site (benchmarks/on_site_seed.py), then prints, per report, the workspace's cards
and charts and the order list, the seconds of the first page (cold: caches cleared; warm: best of three) and
the number of SQL queries of each. Several sizes print the warm seconds side by side (the slope). The target
is 2 s or less cold and 0.5 s or less warm for each.
"""

import argparse
import json
import subprocess
from pathlib import Path

TARGET_SECONDS = 2.0
TARGET_WARM_SECONDS = 0.5


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
	parser.add_argument(
		"--orders",
		type=int,
		nargs="+",
		default=[10000],
		help="one size, or several (e.g. 10000 30000 100000)",
	)
	parser.add_argument("--no-seed", action="store_true", help="time the orders already seeded")
	parser.add_argument("--user", default="Administrator", help="run the reports as this user")
	parser.add_argument(
		"--restricted",
		type=int,
		metavar="N",
		help="run them as a Xero Sales User allowed N seeded customers (a permission condition in every query)",
	)
	args = parser.parse_args()
	bench = Path(args.bench).expanduser()
	slow, sizes = [], {}
	for orders in [None] if args.no_seed else args.orders:
		if orders:
			print(f"seeding {orders} orders of 10 lines on {args.site} ...", flush=True)
			print(bench_execute(bench, args.site, "benchmarks.on_site_seed.seed_orders", {"orders": orders}))
		if args.restricted:
			restricted = {"customers": args.restricted}
			user = bench_execute(bench, args.site, "benchmarks.on_site_reports.restricted_user", restricted)
			args.user = json.loads(user) if user.startswith('"') else user
		answer = json.loads(
			json.loads(
				bench_execute(bench, args.site, "benchmarks.on_site_reports.measure", {"user": args.user})
			)
		)
		data = answer["data"]
		sizes[data["orders"]] = answer["results"]
		print(
			f"\nsite {args.site} as {args.user}: {data['orders']} submitted orders, {data['lines']} lines,"
			f" {data['invoices']} invoices"
		)
		print(f"{'':28} {'cold s':>8} {'warm s':>8} {'queries cold':>13} {'queries warm':>13} {'rows':>7}")
		for name, r in answer["results"].items():
			print(
				f"{name:28} {r['cold_s']:8.3f} {r['warm_s']:8.3f} {r['queries_cold']:13d} {r['queries_warm']:13d}"
				f" {r.get('rows', ''):>7}"
			)
			if r["cold_s"] > TARGET_SECONDS or r["warm_s"] > TARGET_WARM_SECONDS:
				slow.append(f"{name} at {data['orders']}")
	if len(sizes) > 1:
		counts = sorted(sizes)
		print("\nwarm s by submitted orders (the slope: growth against the smallest size)")
		print(f"{'':28}" + "".join(f" {n:>10}" for n in counts) + f" {'growth':>8}")
		for name in sizes[counts[0]]:
			warm = [sizes[n][name]["warm_s"] for n in counts]
			growth = f"{warm[-1] / warm[0]:.1f}x" if warm[0] else "-"
			print(f"{name:28}" + "".join(f" {w:10.3f}" for w in warm) + f" {growth:>8}")
		print(f"{'orders':28}" + "".join(f" {n:>10}" for n in counts) + f" {counts[-1] / counts[0]:7.1f}x")
	print(
		f"target: each <= {TARGET_SECONDS} s cold and <= {TARGET_WARM_SECONDS} s warm"
		+ (f"; SLOWER: {', '.join(slow)}" if slow else ": met")
	)
	return 1 if slow else 0


if __name__ == "__main__":
	raise SystemExit(main())
