"""Small helpers shared by the benchmark scripts."""


def percentile(values, pct):
	"""The value at ``pct`` percent of the sorted values (nearest rank)."""
	ordered = sorted(values)
	return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]
