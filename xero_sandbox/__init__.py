"""A local Xero sandbox (identity, accounting API, rate limits, faults, webhooks) for demos, tests and
benchmarks. Pure Python: no Frappe import. See docs/xero-sandbox-and-client.md."""

from .server import DEFAULTS, SandboxServer

__all__ = ["DEFAULTS", "SandboxServer"]
