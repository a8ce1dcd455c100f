"""Webhook deliveries as Xero makes them: the payload, its signature, and the intent-to-receive series."""

import base64
import hashlib
import hmac
import json
import random
import string
import threading

import requests

from .xerojson import webhook_timestamp

RESOURCE_PATHS = {"INVOICE": "Invoices", "CONTACT": "Contacts", "CREDITNOTE": "CreditNotes"}
DELIVERY_TIMEOUT = 5  # seconds: Xero gives a receiver 5 s to answer


class WebhookError(ValueError):
	pass


def sign(body: bytes, key: str) -> str:
	"""``x-xero-signature`` as Xero computes it: base64 of HMAC-SHA256 over the raw body bytes, keyed with
	the webhook key's UTF-8 bytes (the key is text, never base64-decoded)."""
	digest = hmac.new(key.encode("utf-8"), bytes(body), hashlib.sha256).digest()
	return base64.b64encode(digest).decode("ascii")


def mis_sign(signature: str) -> str:
	"""A signature one character off, like the mis-signed probes Xero sends during intent to receive."""
	first = signature[0]
	return ("A" if first != "A" else "B") + signature[1:]


class WebhookSender:
	def __init__(self, key: str, default_url: str | None, api_url: str, now):
		self.key = key
		self.default_url = default_url
		self.api_url = api_url
		self.now = now  # callable -> datetime on the sandbox clock
		self._sequence = 0
		self._lock = threading.Lock()

	def _next_sequence(self, count: int) -> tuple[int, int]:
		with self._lock:
			first = self._sequence + 1
			self._sequence += max(count, 1)
			return first, self._sequence

	@staticmethod
	def _entropy() -> str:
		return "".join(random.choice(string.ascii_uppercase) for _ in range(20))

	def build_body(self, events: list[dict]) -> bytes:
		"""The raw body; the tail keeps Xero's irregular spacing so receivers must not re-serialise."""
		if events:
			first, last = self._next_sequence(len(events))
		else:
			first = last = 0
		head = json.dumps({"events": events}, separators=(",", ":"))[:-1]
		return (
			f'{head},"firstEventSequence": {first},"lastEventSequence": {last}, "entropy": "{self._entropy()}"}}'
		).encode()

	def event(self, spec: dict, tenant_known, credit_note_data=None) -> dict:
		"""One event from a test's spec; ``credit_note_data(tenant_id, id)`` gives a credit note's Type and Status."""
		if not isinstance(spec, dict):
			raise WebhookError("each event is an object")
		tenant_id = spec.get("tenant_id") or spec.get("tenantId")
		category = str(spec.get("category") or spec.get("eventCategory") or "INVOICE").upper()
		event_type = str(spec.get("type") or spec.get("eventType") or "UPDATE").upper()
		resource_id = spec.get("resource_id") or spec.get("resourceId")
		if not tenant_id or not tenant_known(tenant_id):
			raise WebhookError(f"unknown tenant_id {tenant_id!r}")
		if category not in RESOURCE_PATHS or event_type not in ("CREATE", "UPDATE") or not resource_id:
			raise WebhookError(
				"an event needs category INVOICE|CONTACT|CREDITNOTE, type CREATE|UPDATE, resource_id"
			)
		event = {
			"resourceUrl": f"{self.api_url}/api.xro/2.0/{RESOURCE_PATHS[category]}/{resource_id}",
			"resourceId": resource_id,
			"eventDateUtc": webhook_timestamp(self.now()),
			"eventType": event_type,
			"eventCategory": category,
			"tenantId": tenant_id,
			"tenantType": "ORGANISATION",
		}
		if category == "CREDITNOTE":
			# Only credit note events carry data: the credit note's Type and Status (facts §6).
			data = spec.get("data") or (
				credit_note_data(tenant_id, resource_id) if credit_note_data else None
			)
			if not isinstance(data, dict) or not data.get("Type") or not data.get("Status"):
				raise WebhookError(
					f"no credit note {resource_id!r} in that tenant: pass its data {{Type, Status}}"
				)
			event["data"] = {"Type": data["Type"], "Status": data["Status"]}
		return event

	def deliver(self, body: bytes, url: str | None, *, good_signature: bool = True) -> dict:
		url = url or self.default_url
		if not url:
			raise WebhookError("no url: pass one or start the sandbox with --webhook-url")
		signature = sign(body, self.key)
		if not good_signature:
			signature = mis_sign(signature)
		try:
			answer = requests.post(
				url,
				data=body,
				headers={"Content-Type": "application/json", "x-xero-signature": signature},
				timeout=DELIVERY_TIMEOUT,
			)
		except requests.RequestException as e:
			return {"status": None, "error": str(e), "signature": signature, "payload": body.decode()}
		return {
			"status": answer.status_code,
			"body": answer.text,
			"signature": signature,
			"payload": body.decode(),
		}

	def intent_to_receive(self, url: str | None) -> dict:
		"""Empty-event posts, correctly and wrongly signed; a receiver passes when it answers 2xx / 401."""
		probes = []
		for good in (True, False, True, False, True):
			result = self.deliver(self.build_body([]), url, good_signature=good)
			status = result["status"]
			ok = (status is not None and 200 <= status < 300) if good else status == 401
			probes.append(
				{
					"signed": "correctly" if good else "wrongly",
					"expected": 200 if good else 401,
					"got": status,
					"body_empty": not result.get("body"),
					"ok": ok,
				}
			)
		return {"passed": all(p["ok"] for p in probes), "probes": probes}
