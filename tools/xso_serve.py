"""The development web server of `tools/xso_dev.py`: Frappe's WSGI application with /assets and /files,
on 127.0.0.1 only, without Werkzeug's debugger or reloader.

Run it with the bench's python from the bench's sites folder:

    cd ~/frappe-bench/sites && ../env/bin/python /path/to/tools/xso_serve.py --site SITE --port 8000

It stands in for `bench --site SITE serve`, which listens on 0.0.0.0 and, outside CI, runs Werkzeug's
interactive debugger: a traceback page with a Python console for anyone who can reach the port.
"""

import argparse
import os
import sys

HOST = "127.0.0.1"


def with_site(application, site: str):
	"""Every request is for SITE, as nginx says with X-Frappe-Site-Name in front of a production bench."""

	def app(environ, start_response):
		environ["HTTP_X_FRAPPE_SITE_NAME"] = site
		return application(environ, start_response)

	return app


def build(site: str, sites_path: str):
	from frappe.app import application
	from werkzeug.middleware.shared_data import SharedDataMiddleware

	# The static paths `bench serve` adds: built assets, and the site's public files.
	return SharedDataMiddleware(
		with_site(application, site),
		{
			"/assets": os.path.join(sites_path, "assets"),
			"/files": os.path.join(sites_path, site, "public", "files"),
		},
	)


def main(argv=None) -> None:
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--site", required=True)
	parser.add_argument("--port", type=int, default=8000)
	parser.add_argument(
		"--sites-path", default=".", help="the bench's sites folder (default: the current one)"
	)
	args = parser.parse_args(argv)
	sites_path = os.path.abspath(args.sites_path)
	if not os.path.isfile(os.path.join(sites_path, args.site, "site_config.json")):
		sys.exit(f"no site {args.site} in {sites_path}")
	os.chdir(sites_path)  # Frappe resolves sites relative to the working directory (SITES_PATH, ".")

	from werkzeug.serving import run_simple

	print(f"serving {args.site} on http://{HOST}:{args.port} (no debugger, no reloader)", flush=True)
	run_simple(
		HOST,
		args.port,
		build(args.site, sites_path),
		use_reloader=False,
		use_debugger=False,
		use_evalex=False,
		threaded=True,
	)


if __name__ == "__main__":
	main()
