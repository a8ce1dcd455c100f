"""Per-tenant limits on calls to Xero (60 a minute, 5 at once, a daily budget), shared through Redis.

Without Redis the limits hold per process only. Windows are sliding (a call counts for 60 s, or 24 h for the day),
which is never looser than Xero's fixed windows. When Xero answers 429 with a Retry-After, `record_figures` pauses
the tenant for every worker, because calls sent meanwhile only lengthen the penalty.
"""

import logging
import math
import threading
import time
import uuid
from collections import deque
from contextlib import contextmanager
from email.utils import parsedate_to_datetime

from .errors import XeroRateLimitError

log = logging.getLogger(__name__)

MINUTE = 60.0
DAY = 86400.0
FIGURE_HEADERS = {
	"minute": "X-MinLimit-Remaining",
	"day": "X-DayLimit-Remaining",
	"app_minute": "X-AppMinLimit-Remaining",
}


def rate_figures(headers) -> dict:
	"""{"minute": n, "day": n, "app_minute": n} for whichever of Xero's remaining-calls headers are present."""
	figures = {}
	for name, header in FIGURE_HEADERS.items():
		value = headers.get(header)
		if value is not None and str(value).strip().lstrip("-").isdigit():
			figures[name] = int(value)
	return figures


def retry_after_seconds(headers) -> float | None:
	"""Retry-After as seconds: Xero sends a number, HTTP also allows a date."""
	value = headers.get("Retry-After")
	if value is None or not str(value).strip():
		return None
	try:
		return max(0.0, float(value))
	except ValueError:
		pass
	try:
		return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
	except (TypeError, ValueError):
		return None


class RateLimiter:
	"""`with limiter.slot(tenant_id): call_xero()` waits (up to `max_wait` s) for capacity or raises
	XeroRateLimitError(status=None, problem=..., retry_after=...). An exhausted day budget raises at once.

	`redis`: a redis-py client shared by every worker; None keeps the limits in this process. `slot_ttl` bounds
	how long a crashed worker's concurrency slot can stay taken; keep it above the HTTP read timeout.
	"""

	def __init__(
		self,
		redis=None,
		per_minute: int = 60,
		concurrent: int = 5,
		per_day: int = 5000,
		max_wait: float = 30.0,
		slot_ttl: float = 90.0,
		poll_interval: float = 0.05,
		key_prefix: str = "xso:xero:rl",
		clock=time.monotonic,
	):
		self.max_wait = max_wait
		limits = _Limits(per_minute, concurrent, per_day, slot_ttl, poll_interval)
		if redis is None:
			self._backend = _LocalBackend(limits, clock)
		else:
			self._backend = _RedisBackend(limits, redis, key_prefix)

	@contextmanager
	def slot(self, tenant_id: str, max_wait: float | None = None):
		token = self._acquire(tenant_id, self.max_wait if max_wait is None else max_wait)
		try:
			yield
		finally:
			self._backend.release(tenant_id, token)

	def record_figures(self, tenant_id: str, headers) -> dict:
		"""Learn from the headers of a Xero answer: remaining calls, and a 429's penalty. Returns the figures."""
		figures = rate_figures(headers)
		if figures:
			self._backend.store_figures(tenant_id, figures)
		problem = headers.get("X-Rate-Limit-Problem")
		retry_after = retry_after_seconds(headers)
		if problem and retry_after:
			self.pause(tenant_id, problem.strip().lower(), retry_after)
		return figures

	def figures(self, tenant_id: str) -> dict:
		"""The last remaining-calls figures Xero reported for the tenant."""
		return self._backend.figures(tenant_id)

	def pause(self, tenant_id: str, problem: str, seconds: float) -> None:
		"""Stop every worker calling for this tenant for `seconds` (extends, never shortens, a pause)."""
		self._backend.pause(tenant_id, problem, seconds)

	def _acquire(self, tenant_id: str, max_wait: float) -> str:
		token = uuid.uuid4().hex
		deadline = time.monotonic() + max_wait
		while True:
			problem, wait = self._backend.try_acquire(tenant_id, token)
			if problem is None:
				return token
			remaining = deadline - time.monotonic()
			if problem == "day" or wait > remaining:
				raise XeroRateLimitError(
					f"Xero's {problem} limit for this organisation is reached; try again in {math.ceil(wait)} s.",
					status=None,
					problem=problem,
					retry_after=wait,
				)
			# Sleep until capacity can exist (a release wakes local waiters early): never a busy loop.
			self._backend.wait(tenant_id, max(0.001, min(wait, remaining)))


class _Limits:
	def __init__(self, per_minute, concurrent, per_day, slot_ttl, poll_interval):
		self.per_minute = per_minute
		self.concurrent = concurrent
		self.per_day = per_day
		self.slot_ttl = slot_ttl
		self.poll_interval = poll_interval


class _LocalTenant:
	def __init__(self):
		self.minute = deque()
		self.day = deque()
		self.slots = {}  # token → expiry
		self.paused_until = 0.0
		self.pause_problem = ""
		self.figures = {}


class _LocalBackend:
	"""The same rules as the Redis script, for one process, under one condition variable."""

	def __init__(self, limits: _Limits, clock):
		self.limits = limits
		self.clock = clock
		self.condition = threading.Condition()
		self.tenants: dict[str, _LocalTenant] = {}

	def _tenant(self, tenant_id) -> _LocalTenant:
		return self.tenants.setdefault(tenant_id, _LocalTenant())

	def try_acquire(self, tenant_id, token):
		limits = self.limits
		with self.condition:
			state = self._tenant(tenant_id)
			now = self.clock()
			if state.paused_until > now:
				return state.pause_problem, state.paused_until - now
			_expire(state.day, now - DAY)
			if len(state.day) >= limits.per_day:
				return "day", state.day[0] + DAY - now
			_expire(state.minute, now - MINUTE)
			if len(state.minute) >= limits.per_minute:
				return "minute", state.minute[0] + MINUTE - now
			for stale in [t for t, expiry in state.slots.items() if expiry <= now]:
				del state.slots[stale]
			if len(state.slots) >= limits.concurrent:
				return "concurrent", limits.poll_interval
			state.minute.append(now)
			state.day.append(now)
			state.slots[token] = now + limits.slot_ttl
			return None, 0.0

	def release(self, tenant_id, token):
		with self.condition:
			self._tenant(tenant_id).slots.pop(token, None)
			self.condition.notify_all()

	def wait(self, tenant_id, seconds):
		with self.condition:
			self.condition.wait(seconds)

	def pause(self, tenant_id, problem, seconds):
		with self.condition:
			state = self._tenant(tenant_id)
			until = self.clock() + seconds
			if until > state.paused_until:
				state.paused_until, state.pause_problem = until, problem

	def store_figures(self, tenant_id, figures):
		with self.condition:
			self._tenant(tenant_id).figures.update(figures)

	def figures(self, tenant_id):
		with self.condition:
			return dict(self._tenant(tenant_id).figures)


def _expire(timestamps: deque, cutoff: float) -> None:
	while timestamps and timestamps[0] <= cutoff:
		timestamps.popleft()


# One atomic step per attempt; Redis's own clock so that workers on different hosts agree.
# KEYS: minute zset, day zset, slots zset (score = expiry), pause hash.
# ARGV: per_minute, per_day, concurrent, slot_ttl, token, poll_interval. Returns {problem or '', wait seconds}.
_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local per_minute, per_day, concurrent = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local slot_ttl, token = tonumber(ARGV[4]), ARGV[5]
local paused_until = tonumber(redis.call('HGET', KEYS[4], 'until') or '0')
if paused_until > now then
	return {redis.call('HGET', KEYS[4], 'problem') or 'minute', tostring(paused_until - now)}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 86400)
if redis.call('ZCARD', KEYS[2]) >= per_day then
	local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
	return {'day', tostring(tonumber(oldest[2]) + 86400 - now)}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60)
if redis.call('ZCARD', KEYS[1]) >= per_minute then
	local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
	return {'minute', tostring(tonumber(oldest[2]) + 60 - now)}
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) >= concurrent then
	return {'concurrent', ARGV[6]}
end
redis.call('ZADD', KEYS[1], now, token)
redis.call('ZADD', KEYS[2], now, token)
redis.call('ZADD', KEYS[3], now + slot_ttl, token)
redis.call('EXPIRE', KEYS[1], 61)
redis.call('EXPIRE', KEYS[2], 86401)
redis.call('EXPIRE', KEYS[3], math.ceil(slot_ttl) + 1)
return {'', '0'}
"""

# KEYS: pause hash. ARGV: problem, seconds. Only ever lengthens a pause.
_PAUSE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local seconds = tonumber(ARGV[2])
local current = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if now + seconds > current then
	redis.call('HSET', KEYS[1], 'until', tostring(now + seconds), 'problem', ARGV[1])
	redis.call('PEXPIRE', KEYS[1], math.ceil(seconds * 1000) + 1000)
end
return 1
"""


class _RedisBackend:
	def __init__(self, limits: _Limits, redis, key_prefix: str):
		self.limits = limits
		self.redis = redis
		self.key_prefix = key_prefix
		self.acquire_script = redis.register_script(_ACQUIRE_LUA)
		self.pause_script = redis.register_script(_PAUSE_LUA)

	def _key(self, tenant_id, name):
		# The hash tag keeps one tenant's keys on one Redis Cluster slot, as the script needs.
		return f"{self.key_prefix}:{{{tenant_id}}}:{name}"

	def try_acquire(self, tenant_id, token):
		limits = self.limits
		keys = [self._key(tenant_id, name) for name in ("minute", "day", "slots", "pause")]
		args = [
			limits.per_minute,
			limits.per_day,
			limits.concurrent,
			limits.slot_ttl,
			token,
			limits.poll_interval,
		]
		try:
			problem, wait = self.acquire_script(keys=keys, args=args)
		except _redis_unavailable_errors() as exc:
			# Fail open: Xero's own 429s (handled by the client) still protect the tenant while Redis is down.
			log.warning("Rate limiter: Redis unavailable (%s); calling Xero without the shared limits", exc)
			return None, 0.0
		problem = _text(problem)
		return (problem or None), float(_text(wait))

	def release(self, tenant_id, token):
		try:
			self.redis.zrem(self._key(tenant_id, "slots"), token)
		except _redis_unavailable_errors():
			pass  # the slot expires after slot_ttl

	def wait(self, tenant_id, seconds):
		time.sleep(seconds)

	def pause(self, tenant_id, problem, seconds):
		try:
			self.pause_script(keys=[self._key(tenant_id, "pause")], args=[problem, seconds])
		except _redis_unavailable_errors() as exc:
			log.warning("Rate limiter: could not record a pause in Redis (%s)", exc)

	def store_figures(self, tenant_id, figures):
		key = self._key(tenant_id, "figures")
		try:
			pipe = self.redis.pipeline()
			pipe.hset(key, mapping=figures)
			pipe.expire(key, int(DAY))
			pipe.execute()
		except _redis_unavailable_errors():
			pass

	def figures(self, tenant_id):
		raw = self.redis.hgetall(self._key(tenant_id, "figures"))
		return {_text(name): int(_text(value)) for name, value in raw.items()}


def _text(value) -> str:
	return value.decode() if isinstance(value, bytes) else str(value)


def _redis_unavailable_errors():
	from redis.exceptions import ConnectionError, TimeoutError

	return (ConnectionError, TimeoutError)
