"""The sandbox clock: real time plus an offset that tests move forward instead of sleeping."""

import threading
import time
from datetime import datetime, timezone


class SandboxClock:
	def __init__(self):
		self._offset = 0.0
		self._lock = threading.Lock()

	def time(self) -> float:
		"""Epoch seconds on the sandbox clock."""
		return time.time() + self._offset

	def now(self) -> datetime:
		return datetime.fromtimestamp(self.time(), timezone.utc)

	def advance(self, seconds: float) -> float:
		with self._lock:
			self._offset += float(seconds)
			return self._offset

	@property
	def offset(self) -> float:
		return self._offset

	def reset(self) -> None:
		with self._lock:
			self._offset = 0.0
