"""bench commands: `bench xero-sandbox`, `bench --site SITE xero-sync`."""

import click
from frappe.commands import get_site, pass_context


@click.command("xero-sandbox")
@click.option("--port", type=int, default=8790, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--client-id", default=None)
@click.option("--client-secret", default=None)
@click.option("--webhook-key", default=None)
@click.option("--webhook-url", default=None)
@click.option("--tenants", type=int, default=None)
@click.option("--seed-invoices", type=int, default=None)
@click.option("--no-rate-limits", is_flag=True, default=False)
@click.option("--token-ttl", type=int, default=None)
def xero_sandbox(**options):
	"""Start the local Xero sandbox (identity + accounting API + webhook sender) of a development checkout."""
	try:
		from xero_sandbox.__main__ import main
	except ModuleNotFoundError as e:
		if e.name != "xero_sandbox":
			raise
		raise click.ClickException(
			"the Xero sandbox is a development tool of the xero_sales_orders checkout (its xero_sandbox/ "
			"folder), not part of the installed app. From a checkout, run `python3 tools/xso_dev.py setup` "
			"(it puts the checkout on this bench's import path) or `python -m xero_sandbox --port 8790` in "
			"the checkout's folder."
		) from None

	argv = []
	for key, value in options.items():
		if value is None or value is False:
			continue
		flag = "--" + key.replace("_", "-")
		argv += [flag] if value is True else [flag, str(value)]
	main(argv)


@click.command("xero-sync")
@click.option("--connection", default=None, help="One connection; every connected one when left out")
@click.option("--full", is_flag=True, default=False, help="Ignore the last sync times")
@pass_context
def xero_sync(context, connection=None, full=False):
	"""Pull contacts, items, tax rates and accounts from Xero."""
	import frappe

	from xero_sales_orders.services.master_sync import sync_connection

	site = get_site(context)
	frappe.init(site=site)
	frappe.connect()
	try:
		names = (
			[connection]
			if connection
			else frappe.get_all("Xero Connection", {"status": "Connected"}, pluck="name")
		)
		for name in names:
			summary = sync_connection(name, full=full)
			frappe.db.commit()
			for tenant, kinds in summary.items():
				counts = ", ".join(
					f"{kind}: {c['fetched']} fetched, {c['created']} new, {c['updated']} changed"
					for kind, c in kinds.items()
				)
				click.echo(f"{name} / {tenant}: {counts}")
	finally:
		frappe.destroy()


commands = [xero_sandbox, xero_sync]
