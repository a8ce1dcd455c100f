"""Xero clients for a connection's organisations: the access token from ``tokens``, the per-organisation rate
limits shared by every web and background worker through the bench's Redis, and Xero's last rate figures kept
for the connection's health."""

from functools import lru_cache

import frappe
from frappe import _
from frappe.utils import now_datetime

from xero_sales_orders.exceptions import NotConnectedError, throw
from xero_sales_orders.services.xero_endpoints import CONNECTION, endpoints
from xero_sales_orders.services.xero_tokens import ensure_usable, get_access_token
from xero_sales_orders.xero.client import XeroClient
from xero_sales_orders.xero.ratelimit import RateLimiter


def rate_figures_key(name: str) -> str:
	"""Where Xero's last rate-limit figures for the connection are kept (Frappe's cache)."""
	return f"xso:rate-figures:{name}"


def rate_figures(name: str) -> dict:
	return frappe.cache.get_value(rate_figures_key(name)) or {}


@lru_cache(maxsize=1)
def _redis_for(url: str):
	import redis

	return redis.Redis.from_url(url)


def shared_rate_limiter() -> RateLimiter:
	"""Per-tenant limits shared by every web worker and background worker through the bench's Redis."""
	url = frappe.conf.redis_cache
	return RateLimiter(redis=_redis_for(url) if url else None, key_prefix=f"xso:{frappe.local.site}:rl")


def default_tenant(conn) -> str:
	for tenant in conn.tenants:
		if tenant.is_default:
			return tenant.tenant_id
	if conn.tenants:
		return conn.tenants[0].tenant_id
	throw(_("Xero Connection {0} has no organisation; connect it first").format(conn.name), NotConnectedError)


def client_for(name: str, tenant_id: str | None = None, **options) -> XeroClient:
	conn = frappe.get_doc(CONNECTION, name)
	ensure_usable(name, conn.status)
	tenant_id = tenant_id or default_tenant(conn)
	if tenant_id not in {t.tenant_id for t in conn.tenants}:
		throw(
			_("Organisation {0} is not part of Xero Connection {1}").format(tenant_id, name),
			frappe.ValidationError,
		)
	last_token = {}

	def access_token(force_refresh: bool) -> str:
		token = get_access_token(
			name, force_refresh, rejected_token=last_token.get("value") if force_refresh else None
		)
		last_token["value"] = token
		return token

	def remember_figures(figures: dict) -> None:
		frappe.cache.set_value(
			rate_figures_key(name), {**figures, "at": now_datetime().isoformat(sep=" ", timespec="seconds")}
		)

	return XeroClient(
		endpoints(conn),
		tenant_id,
		access_token,
		rate_limiter=shared_rate_limiter(),
		on_rate_figures=remember_figures,
		**options,
	)
