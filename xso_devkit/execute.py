"""``bench --site SITE execute`` for functions outside the installed apps (the dev kit, the site-side benchmarks).

    cd ~/frappe-bench/sites && ../env/bin/python -m xso_devkit.execute --site SITE xso_devkit.demo.complete_setup
    ../env/bin/python -m xso_devkit.execute --site SITE benchmarks.on_site.push_soak --kwargs "{'invoices': 100}"

`bench execute` refuses a dotted path whose first part is not an app installed on the site (frappe.get_attr);
this does what it does otherwise: connects to the site, calls the function, commits, and prints what the function
answers as JSON. Run it with the bench env's python from the bench's sites folder (or give --sites-path).
"""

import argparse
import ast
import importlib
import json
import os
import sys
from pathlib import Path


def parse_kwargs(text: str | None) -> dict:
	"""A JSON object or a Python dict literal, as ``bench execute --kwargs`` takes them."""
	if not text:
		return {}
	try:
		value = json.loads(text)
	except ValueError:
		try:
			value = ast.literal_eval(text)
		except (ValueError, SyntaxError) as e:
			raise SystemExit(f"--kwargs is neither a JSON object nor a Python dict: {text!r} ({e})") from None
	if not isinstance(value, dict):
		raise SystemExit(f"--kwargs must be an object of keyword arguments, not {type(value).__name__}")
	return value


def resolve(method: str):
	module_name, _, name = method.rpartition(".")
	if not module_name:
		raise SystemExit(f"{method!r} is not a dotted path module.function")
	function = getattr(importlib.import_module(module_name), name, None)
	if not callable(function):
		raise SystemExit(f"{module_name} has no function {name}")
	return function


def default_sites_path() -> Path:
	here = Path.cwd()
	if (here / "apps.txt").exists():
		return here
	bench = Path(os.environ.get("XSO_BENCH", Path.home() / "frappe-bench")).expanduser()
	return bench / "sites"


def execute(site: str, method: str, kwargs: dict | None = None, sites_path: Path | None = None):
	import frappe

	sites_path = Path(sites_path or default_sites_path()).resolve()
	if not (sites_path / site / "site_config.json").exists():
		raise SystemExit(f"no site {site} in {sites_path}")
	os.chdir(sites_path)  # as bench runs its commands: relative site paths resolve from here
	frappe.init(site=site, sites_path=str(sites_path))
	frappe.connect()
	try:
		answer = resolve(method)(**(kwargs or {}))
		if frappe.db:
			frappe.db.commit()
	finally:
		frappe.destroy()
	return answer


def main(argv=None) -> int:
	parser = argparse.ArgumentParser(
		prog="python -m xso_devkit.execute",
		description=__doc__,
		formatter_class=argparse.RawDescriptionHelpFormatter,
	)
	parser.add_argument("--site", required=True)
	parser.add_argument("--sites-path", type=Path, default=None)
	parser.add_argument("--kwargs", default=None, help="keyword arguments: a JSON object or a Python dict")
	parser.add_argument("method", help="dotted path of the function, e.g. xso_devkit.demo.complete_setup")
	args = parser.parse_args(argv)
	answer = execute(args.site, args.method, parse_kwargs(args.kwargs), args.sites_path)
	if answer:
		from frappe.utils.response import json_handler

		print(json.dumps(answer, default=json_handler))
	return 0


if __name__ == "__main__":
	sys.exit(main())
