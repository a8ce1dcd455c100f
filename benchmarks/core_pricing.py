"""Prints how many order lines per second the pure core prices (target: >= 200,000 lines/s).

python3 benchmarks/core_pricing.py [--lines 200000]
"""

import argparse
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xero_sales_orders.core.money import EXCLUSIVE, INCLUSIVE  # noqa: E402
from xero_sales_orders.core.pricing import parse_line, price_line, totals  # noqa: E402


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--lines", type=int, default=200_000)
	parser.add_argument("--repeat", type=int, default=3)
	args = parser.parse_args()
	rng = random.Random(7)
	lines = [
		parse_line(
			Decimal(rng.randint(1, 5000)) / 100,
			Decimal(rng.randint(0, 10_000_000)) / 10_000,
			rng.choice([0, 0, 5, 12.5]),
			rng.choice([0, 15, 12.5]),
		)
		for _ in range(args.lines)
	]
	best = float("inf")
	for lat in (EXCLUSIVE, INCLUSIVE):
		for _ in range(args.repeat):
			start = time.perf_counter()
			# Orders of 10 lines: price each line, then total the order.
			for i in range(0, len(lines), 10):
				totals([price_line(line, lat) for line in lines[i : i + 10]], lat)
			best = min(best, time.perf_counter() - start)
	rate = len(lines) / best
	print(
		f"core pricing: {len(lines)} lines in {best:.3f} s (best of {args.repeat * 2}) = {rate:,.0f} lines/s"
	)
	print(f"target >= 200,000 lines/s: {'met' if rate >= 200_000 else 'NOT met'}")


if __name__ == "__main__":
	main()
