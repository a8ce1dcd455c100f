"""Xero webhook signatures: base64 HMAC-SHA256 of the raw body, keyed with the webhook key's UTF-8 bytes."""

import base64
import hashlib
import hmac


def sign(body: bytes, key: str) -> str:
	"""The `x-xero-signature` Xero sends for `body`. The key is used as text, never base64-decoded."""
	if isinstance(body, str):
		# Re-encoded or re-serialised JSON is the classic cause of signature failures: demand the raw bytes.
		raise TypeError("sign() needs the raw request body as bytes")
	digest = hmac.new(key.encode("utf-8"), bytes(body), hashlib.sha256).digest()
	return base64.b64encode(digest).decode("ascii")


def verify(body: bytes, signature: str | None, key: str) -> bool:
	"""True only when `signature` is exactly Xero's signature of `body`; compared in constant time."""
	if not signature or not isinstance(signature, str) or not key:
		return False
	return hmac.compare_digest(sign(body, key).encode("ascii"), signature.encode("utf-8"))
