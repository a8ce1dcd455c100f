import multiprocessing
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid

import pytest

from xero_sales_orders.xero.client import XeroRateLimitError
from xero_sales_orders.xero.ratelimit import RateLimiter, rate_figures, retry_after_seconds

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
TENANT = "tenant-a"


class FakeClock:
	def __init__(self):
		self.now = 1000.0

	def __call__(self):
		return self.now


def free_port() -> int:
	with socket.socket() as sock:
		sock.bind(("127.0.0.1", 0))
		return sock.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url():
	if not os.path.exists(REDIS_SERVER):
		pytest.skip(
			f"!!! REDIS TESTS SKIPPED: no redis-server binary at {REDIS_SERVER}; the shared limiter is untested"
		)
	import redis

	port = free_port()
	process = subprocess.Popen(
		[REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
		stdout=subprocess.DEVNULL,
		stderr=subprocess.DEVNULL,
	)
	url = f"redis://127.0.0.1:{port}/0"
	client = redis.Redis.from_url(url)
	deadline = time.monotonic() + 5
	while True:
		try:
			client.ping()
			break
		except redis.exceptions.ConnectionError:
			if time.monotonic() > deadline or process.poll() is not None:
				process.kill()
				pytest.fail("redis-server did not start")
			time.sleep(0.02)
	yield url
	process.terminate()
	process.wait(5)


@pytest.fixture
def redis_client(redis_url):
	import redis

	client = redis.Redis.from_url(redis_url)
	yield client
	client.close()


@pytest.fixture(params=["local", "redis"])
def make_limiter(request):
	"""Builds limiters on the in-process backend or on a shared real Redis (fresh keys per test)."""
	if request.param == "local":
		return lambda **options: RateLimiter(**options)
	client = request.getfixturevalue("redis_client")
	prefix = f"test:{uuid.uuid4().hex}"
	return lambda **options: RateLimiter(redis=client, key_prefix=prefix, **options)


def test_minute_limit_refuses_with_the_time_until_a_call_ages_out(make_limiter):
	limiter = make_limiter(per_minute=3, max_wait=0)
	for _ in range(3):
		with limiter.slot(TENANT):
			pass
	with pytest.raises(XeroRateLimitError) as refused:
		with limiter.slot(TENANT):
			pass
	assert refused.value.problem == "minute"
	assert 55 < refused.value.retry_after <= 60
	with limiter.slot("tenant-b"):  # limits are per tenant
		pass


def test_minute_window_slides_on_the_clock():
	clock = FakeClock()
	limiter = RateLimiter(per_minute=2, max_wait=0, clock=clock)
	for _ in range(2):
		with limiter.slot(TENANT):
			pass
	clock.now += 59.9
	with pytest.raises(XeroRateLimitError):
		with limiter.slot(TENANT):
			pass
	clock.now += 0.2
	with limiter.slot(TENANT):
		pass


def test_day_budget_is_refused_at_once_even_with_a_long_wait(make_limiter):
	limiter = make_limiter(per_day=2, max_wait=30)
	for _ in range(2):
		with limiter.slot(TENANT):
			pass
	started = time.monotonic()
	with pytest.raises(XeroRateLimitError) as refused:
		with limiter.slot(TENANT):
			pass
	assert time.monotonic() - started < 1
	assert refused.value.problem == "day"
	assert refused.value.retry_after > 86000


def test_concurrency_waits_for_a_released_slot(make_limiter):
	limiter = make_limiter(concurrent=2, max_wait=5, poll_interval=0.01)
	active, peak, lock = [0], [0], threading.Lock()

	def work():
		with limiter.slot(TENANT):
			with lock:
				active[0] += 1
				peak[0] = max(peak[0], active[0])
			time.sleep(0.03)
			with lock:
				active[0] -= 1

	threads = [threading.Thread(target=work) for _ in range(8)]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join()
	assert peak[0] == 2


def test_concurrency_wait_is_bounded_and_does_not_spin(make_limiter):
	limiter = make_limiter(concurrent=1, max_wait=0.3, poll_interval=0.05)
	attempts = [0]
	try_acquire = limiter._backend.try_acquire

	def counting_try_acquire(*args):
		attempts[0] += 1
		return try_acquire(*args)

	limiter._backend.try_acquire = counting_try_acquire
	with limiter.slot(TENANT):
		started = time.monotonic()
		with pytest.raises(XeroRateLimitError) as refused:
			with limiter.slot(TENANT):
				pass
		waited = time.monotonic() - started
	assert refused.value.problem == "concurrent"
	assert 0.2 <= waited < 1.0
	assert attempts[0] <= 12  # about one attempt per poll interval, not thousands


def test_a_429_pauses_the_tenant_for_every_caller(make_limiter):
	limiter = make_limiter(max_wait=0.5)
	headers = {"Retry-After": "30", "X-Rate-Limit-Problem": "minute", "X-MinLimit-Remaining": "0"}
	assert limiter.record_figures(TENANT, headers) == {"minute": 0}
	with pytest.raises(XeroRateLimitError) as refused:
		with limiter.slot(TENANT):
			pass
	assert refused.value.problem == "minute"
	assert 25 < refused.value.retry_after <= 30


def test_a_short_pause_is_waited_out(make_limiter):
	limiter = make_limiter(max_wait=2)
	limiter.record_figures(TENANT, {"Retry-After": "0.2", "X-Rate-Limit-Problem": "concurrent"})
	started = time.monotonic()
	with limiter.slot(TENANT):
		pass
	assert 0.1 < time.monotonic() - started < 1.5


def test_day_problem_pause_raises_at_once(make_limiter):
	limiter = make_limiter(max_wait=60)
	limiter.record_figures(TENANT, {"Retry-After": "7200", "X-Rate-Limit-Problem": "day"})
	with pytest.raises(XeroRateLimitError) as refused:
		with limiter.slot(TENANT):
			pass
	assert refused.value.problem == "day" and refused.value.retry_after > 7000


def test_figures_are_remembered(make_limiter):
	limiter = make_limiter()
	headers = {
		"X-MinLimit-Remaining": "57",
		"X-DayLimit-Remaining": "4990",
		"X-AppMinLimit-Remaining": "9999",
	}
	assert limiter.record_figures(TENANT, headers) == {"minute": 57, "day": 4990, "app_minute": 9999}
	assert limiter.figures(TENANT) == {"minute": 57, "day": 4990, "app_minute": 9999}


def test_header_helpers():
	assert rate_figures({"X-MinLimit-Remaining": "3", "X-DayLimit-Remaining": "oops"}) == {"minute": 3}
	assert retry_after_seconds({"Retry-After": "12"}) == 12
	assert retry_after_seconds({}) is None
	assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0


def _hold_slot_and_crash(redis_url, prefix):
	import redis

	limiter = RateLimiter(
		redis=redis.Redis.from_url(redis_url), key_prefix=prefix, concurrent=1, slot_ttl=0.5
	)
	with limiter.slot(TENANT):
		os._exit(0)  # a worker killed mid-call never releases its slot


def test_a_crashed_workers_slot_expires(redis_url, redis_client):
	prefix = f"test:{uuid.uuid4().hex}"
	worker = multiprocessing.get_context("spawn").Process(
		target=_hold_slot_and_crash, args=(redis_url, prefix)
	)
	worker.start()
	worker.join(20)
	limiter = RateLimiter(redis=redis_client, key_prefix=prefix, concurrent=1, slot_ttl=0.5, max_wait=0)
	with pytest.raises(XeroRateLimitError):
		with limiter.slot(TENANT):
			pass
	with limiter.slot(TENANT, max_wait=2):
		pass


def _hammer(redis_url, prefix, results_key, threads_per_process, calls_per_thread):
	"""One worker process: threads taking slots; records how many calls were in flight at once."""
	import redis

	client = redis.Redis.from_url(redis_url)
	limiter = RateLimiter(redis=client, key_prefix=prefix, max_wait=2, poll_interval=0.01)

	def work():
		for _ in range(calls_per_thread):
			try:
				with limiter.slot(TENANT):
					in_flight = client.incr(f"{results_key}:active")
					client.rpush(f"{results_key}:in_flight", in_flight)
					time.sleep(0.02)
					client.decr(f"{results_key}:active")
			except XeroRateLimitError as refused:
				client.rpush(f"{results_key}:refused", refused.problem)

	# Start together, so that the processes really compete for the slots.
	client.incr(f"{results_key}:ready")
	while int(client.get(f"{results_key}:ready")) < 3:
		time.sleep(0.01)
	threads = [threading.Thread(target=work) for _ in range(threads_per_process)]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join()


def test_three_processes_share_five_concurrent_and_sixty_a_minute(redis_url, redis_client):
	prefix, results = f"test:{uuid.uuid4().hex}", f"results:{uuid.uuid4().hex}"
	context = multiprocessing.get_context("spawn")
	workers = [context.Process(target=_hammer, args=(redis_url, prefix, results, 4, 8)) for _ in range(3)]
	for worker in workers:
		worker.start()
	for worker in workers:
		worker.join(60)
		assert worker.exitcode == 0
	in_flight = [int(n) for n in redis_client.lrange(f"{results}:in_flight", 0, -1)]
	refused = [p.decode() for p in redis_client.lrange(f"{results}:refused", 0, -1)]
	assert len(in_flight) == 60  # 96 attempts within a second: exactly the minute's 60 get through
	assert refused == ["minute"] * 36
	assert max(in_flight) == 5
