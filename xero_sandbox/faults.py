"""Faults injected by tests: failures, slow answers, dropped connections, answers lost after a write."""

import random
import threading
from dataclasses import dataclass

KINDS = ("500", "503", "429", "slow", "drop", "timeout_after_store")


class FaultError(ValueError):
	pass


@dataclass
class Fault:
	kind: str
	path: str | None = None  # matches this path and everything below it, case-insensitively
	method: str | None = None
	rate: float | None = None  # probability per matching request
	count: int | None = None  # how many more times it fires
	delay: float = 3.0  # seconds, for slow and timeout_after_store
	problem: str = "minute"  # X-Rate-Limit-Problem of an injected 429
	retry_after: int = 1

	@classmethod
	def from_json(cls, data: dict) -> "Fault":
		if not isinstance(data, dict):
			raise FaultError("a fault is a JSON object")
		kind = str(data.get("kind", ""))
		if kind not in KINDS:
			raise FaultError(f"kind must be one of {', '.join(KINDS)}")
		try:
			fault = cls(
				kind=kind,
				path=data.get("path") or None,
				method=(data.get("method") or "").upper() or None,
				rate=None if data.get("rate") is None else float(data["rate"]),
				count=None if data.get("count") is None else int(data["count"]),
				delay=float(data.get("delay", 3.0)),
				problem=str(data.get("problem", "minute")),
				retry_after=int(data.get("retry_after", 1)),
			)
		except (TypeError, ValueError) as e:
			raise FaultError(f"bad fault: {e}") from None
		if fault.rate is not None and not 0 <= fault.rate <= 1:
			raise FaultError("rate is a probability between 0 and 1")
		return fault

	def matches(self, method: str, path: str) -> bool:
		if self.method and self.method != method:
			return False
		if self.path:
			wanted, actual = self.path.rstrip("/").lower(), path.rstrip("/").lower()
			return actual == wanted or actual.startswith(wanted + "/")
		return True

	def to_json(self) -> dict:
		return {k: v for k, v in self.__dict__.items() if v is not None}


class Faults:
	def __init__(self, seed: int | None = None):
		self._faults: list[Fault] = []
		self._lock = threading.Lock()
		self._random = random.Random(seed)

	def add(self, fault: Fault) -> None:
		with self._lock:
			self._faults.append(fault)

	def clear(self) -> None:
		with self._lock:
			self._faults.clear()

	def list(self) -> list[dict]:
		with self._lock:
			return [f.to_json() for f in self._faults]

	def pick(self, method: str, path: str) -> Fault | None:
		"""The first registered fault that fires for this request (and uses up one of its count)."""
		with self._lock:
			for fault in self._faults:
				if not fault.matches(method, path):
					continue
				if fault.rate is not None and self._random.random() >= fault.rate:
					continue
				if fault.count is not None:
					fault.count -= 1
					if fault.count <= 0:
						self._faults.remove(fault)
				return fault
		return None
