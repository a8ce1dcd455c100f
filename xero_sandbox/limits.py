"""Xero's rate limits: per tenant 60 calls a minute, a daily budget and 5 at once; 10,000 a minute per app.

Windows are fixed and start with a tenant's first call in them, so they reset at different times per
tenant, as Xero's do. Time comes from the sandbox clock, so tests move it instead of sleeping.
"""

import math
import threading
from collections import Counter
from dataclasses import dataclass, field

from .clock import SandboxClock

MINUTE, DAY = 60.0, 86400.0


@dataclass
class _Window:
	length: float
	started: float = -math.inf
	used: int = 0

	def roll(self, now: float) -> None:
		if now - self.started >= self.length:
			self.started, self.used = now, 0

	def retry_after(self, now: float) -> int:
		return max(1, math.ceil(self.started + self.length - now))


@dataclass
class _TenantUsage:
	minute: _Window = field(default_factory=lambda: _Window(MINUTE))
	day: _Window = field(default_factory=lambda: _Window(DAY))
	in_flight: int = 0


@dataclass
class Admission:
	allowed: bool
	headers: dict
	problem: str | None = None
	retry_after: int | None = None


class RateLimits:
	def __init__(
		self,
		clock: SandboxClock,
		*,
		enabled: bool = True,
		per_minute: int = 60,
		per_day: int = 5000,
		concurrent: int = 5,
		app_per_minute: int = 10000,
	):
		self.clock = clock
		self.enabled = enabled
		self.per_minute, self.per_day, self.concurrent, self.app_per_minute = (
			per_minute,
			per_day,
			concurrent,
			app_per_minute,
		)
		self._lock = threading.Lock()
		self._tenants: dict[str, _TenantUsage] = {}
		self._app = _Window(MINUTE)
		self.rejected: Counter = Counter()
		self.limit_breaches = 0

	def reset(self) -> None:
		with self._lock:
			in_flight = {tenant: usage.in_flight for tenant, usage in self._tenants.items()}
			self._tenants = {tenant: _TenantUsage(in_flight=n) for tenant, n in in_flight.items() if n}
			self._app = _Window(MINUTE)
			self.reset_counts()

	def reset_counts(self) -> None:
		self.rejected = Counter()
		self.limit_breaches = 0

	def admit(self, tenant_id: str) -> Admission:
		"""Counts one call for a tenant and holds a concurrency slot (call release() after answering)."""
		with self._lock:
			now = self.clock.time()
			usage = self._tenants.setdefault(tenant_id, _TenantUsage())
			usage.minute.roll(now)
			usage.day.roll(now)
			self._app.roll(now)
			problem, retry_after = None, None
			if usage.day.used >= self.per_day:
				problem, retry_after = "day", usage.day.retry_after(now)
			elif usage.minute.used >= self.per_minute:
				problem, retry_after = "minute", usage.minute.retry_after(now)
			elif self._app.used >= self.app_per_minute:
				problem, retry_after = "appminute", self._app.retry_after(now)
			elif usage.in_flight >= self.concurrent:
				problem, retry_after = "concurrent", 1
			if problem and self.enabled:
				self.rejected[problem] += 1
				return Admission(False, self._headers(usage), problem, retry_after)
			if problem:
				self.limit_breaches += 1
			usage.minute.used += 1
			usage.day.used += 1
			self._app.used += 1
			usage.in_flight += 1
			return Admission(True, self._headers(usage))

	def release(self, tenant_id: str) -> None:
		with self._lock:
			usage = self._tenants.get(tenant_id)
			if usage and usage.in_flight:
				usage.in_flight -= 1

	def admit_app_call(self) -> dict:
		"""Tenantless calls (``/connections``) count only against the app's minute."""
		with self._lock:
			self._app.roll(self.clock.time())
			if self._app.used >= self.app_per_minute:
				self.limit_breaches += 0 if self.enabled else 1
			self._app.used += 1
			return {"X-AppMinLimit-Remaining": str(max(0, self.app_per_minute - self._app.used))}

	def _headers(self, usage: _TenantUsage) -> dict:
		return {
			"X-MinLimit-Remaining": str(max(0, self.per_minute - usage.minute.used)),
			"X-DayLimit-Remaining": str(max(0, self.per_day - usage.day.used)),
			"X-AppMinLimit-Remaining": str(max(0, self.app_per_minute - self._app.used)),
		}
