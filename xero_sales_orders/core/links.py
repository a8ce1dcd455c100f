"""Which links from Xero the app stores and shows: https:// only, or the local sandbox over plain http.

An invoice's online URL and its "View in Xero" link end up as ``href`` attributes in the desk. A stored
``javascript:`` or ``data:`` link would run script on a click, and a link to some other plain-http host would
leak the customer's invoice; so anything else is neither stored nor rendered. The desk applies the same rule
(``public/js/xero_safe.js``).
"""

from urllib.parse import urlsplit

# The sandbox (and a developer's local Xero stand-in) listen on the loopback interface.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_URL_LENGTH = 2000


def safe_link(url) -> str | None:
	"""``url`` (stripped) when it is an https:// link, or http:// to the local machine; else None.

	Refused: other schemes (``javascript:``, ``data:``, ``ftp:``), links without a host, links carrying a user
	name or password, and links with spaces, control characters or backslashes (which browsers repair into
	something else than what was checked).
	"""
	if not isinstance(url, str):
		return None
	text = url.strip()
	if not text or len(text) > MAX_URL_LENGTH:
		return None
	if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in text):
		return None
	try:
		parts = urlsplit(text)
		host = parts.hostname
		parts.port  # noqa: B018 (raises ValueError on a malformed port)
	except ValueError:
		return None
	if not host or parts.username is not None or parts.password is not None:
		return None
	scheme = parts.scheme.lower()
	if not text.lower().startswith(f"{scheme}://"):
		return None
	if scheme == "https" or (scheme == "http" and host.lower() in LOCAL_HOSTS):
		return text
	return None


def is_safe_link(url) -> bool:
	return safe_link(url) is not None
