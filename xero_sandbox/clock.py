"""The sandbox clock: real time plus an offset that tests move forward instead of sleeping."""

import threading
import time
from datetime import datetime, timezone


class SandboxClock:
	def __init__(self):
		self._offset = 0.0
		self._lock = threading.Lock()
		self._last = 0.0

	def time(self) -> float:
		"""Epoch seconds on the sandbox clock."""
		return time.time() + self._offset

	def now(self) -> datetime:
		"""The moment of a request: each one at least a millisecond after the last (Xero's UpdatedDateUTC keeps
		milliseconds, and two changes a request apart never share one there)."""
		with self._lock:
			self._last = max(self.time(), self._last + 0.001)
			return datetime.fromtimestamp(self._last, timezone.utc)

	def advance(self, seconds: float) -> float:
		with self._lock:
			self._offset += float(seconds)
			return self._offset

	@property
	def offset(self) -> float:
		return self._offset

	def reset(self) -> None:
		with self._lock:
			self._offset = self._last = 0.0
