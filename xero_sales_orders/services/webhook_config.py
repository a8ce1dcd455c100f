"""What verifying a webhook delivery needs, cached per process: each connection's webhook key, which
connection each organisation belongs to, and the site's time zone.

Verifying a delivery must cost microseconds, not a decryption per connection, so the keys stay in the
worker's memory (never in Redis); Redis holds only a version number that any change to a connection or to
the System Settings bumps (hooks.py doc_events call ``forget_webhook_config``).

Redis may lose the number (a restart without persistence, a flush, an eviction). A series that restarted at
1 would repeat numbers that workers cached an old key under, so a lost number starts a fresh series at a
random point (never one seen before), and a worker that cannot read a number reloads every time.
"""

import secrets
from typing import NamedTuple

import frappe
from frappe.utils import get_system_timezone
from frappe.utils.password import get_decrypted_password

from xero_sales_orders.services.xero_endpoints import CONNECTION

CONFIG_VERSION_KEY = "xso:webhook-config-version"

# site -> (config version, WebhookConfig)
_config_cache: dict[str, tuple] = {}


class WebhookConfig(NamedTuple):
	keys: dict[str, str]  # connection -> webhook key
	signers: dict[str, tuple[str, ...]]  # webhook key -> its connections (Xero has one key per app)
	tenants: dict[str, str]  # organisation id (lower case) -> connection
	time_zone: str  # the site's, for the events' timestamps


def _fresh_series() -> int:
	return secrets.randbits(62)


def _bump_config_version() -> None:
	key = frappe.cache.make_key(CONFIG_VERSION_KEY)
	frappe.cache.set(key, _fresh_series(), nx=True)  # a lost counter restarts at a random point, not at 1
	frappe.cache.incr(key)


def config_version() -> bytes | None:
	"""The current version, starting a fresh series when Redis has none; None when Redis cannot say."""
	key = frappe.cache.make_key(CONFIG_VERSION_KEY)
	try:
		version = frappe.cache.get(key)
		if version is None:
			frappe.cache.set(key, _fresh_series(), nx=True)
			version = frappe.cache.get(key)
	except Exception:  # Redis unreachable: no version to trust, so nothing cached is trusted either
		return None
	return version


def forget_webhook_config(*args, **kwargs) -> None:
	"""Called when a Xero Connection or the System Settings (time zone) change (hooks.py doc_events): now,
	and again once the change is committed, so that no worker caches what it read in between."""
	_bump_config_version()
	frappe.db.after_commit.add(_bump_config_version)


def current() -> WebhookConfig:
	"""The site's config, from this process's memory while Redis's version number says it is current."""
	version = config_version()
	cached = _config_cache.get(frappe.local.site)
	if version is not None and cached and cached[0] == version:
		return cached[1]
	keys = {}
	for name in frappe.get_all(CONNECTION, pluck="name"):
		key = get_decrypted_password(CONNECTION, name, "webhook_key", raise_exception=False)
		if key:
			keys[name] = key
	connected = set(frappe.get_all(CONNECTION, {"status": "Connected"}, pluck="name"))
	tenants = {}
	rows = frappe.get_all(
		"Xero Connection Tenant",
		filters={"parenttype": CONNECTION},
		fields=["tenant_id", "parent"],
		order_by="modified asc",
	)
	# A connected consent wins over a stale one for the same organisation; ids compare case-insensitively.
	for row in sorted(rows, key=lambda r: r.parent in connected):
		tenants[row.tenant_id.lower()] = row.parent
	signers = {}
	for name, key in keys.items():
		signers[key] = (*signers.get(key, ()), name)
	config = WebhookConfig(keys, signers, tenants, get_system_timezone())
	if version is None:
		_config_cache.pop(frappe.local.site, None)
	else:
		_config_cache[frappe.local.site] = (version, config)
	return config
