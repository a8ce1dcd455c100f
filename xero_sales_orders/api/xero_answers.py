"""Xero's conditions as answers: every whitelisted method that calls Xero runs inside ``xero_answers()``.

The Xero client raises its own exceptions (``xero.errors``); reaching a user through Frappe unchanged they
were 500s with an Error Log traceback each. Here each becomes the app's exception with its own status and a
message the user can act on:

| Xero condition | answer |
| --- | --- |
| minute, concurrent or day limit (429, or the shared limiter's own wait running out) | 429, ``Retry-After`` |
| no answer, 5xx or a dropped connection after the client's retries | 503, ``Retry-After`` |
| the grant refused (401 after a refresh, 403, ``invalid_grant``) | 409: reconnect |
| the request refused (400 validation errors, 404, other 4xx) | 417 with Xero's message |

Frappe has no response-header API in v15 for an exception's answer, so the seconds are kept in the request's
flags and the ``after_request`` hook ``add_retry_after`` writes the header.
"""

from contextlib import contextmanager

import frappe
import requests

from xero_sales_orders.exceptions import RETRY_AFTER_FLAG, raise_xero_answer
from xero_sales_orders.xero.errors import XeroAPIError
from xero_sales_orders.xero.oauth import OAuthError


@contextmanager
def xero_answers():
	"""``with xero_answers(): ...`` around what a whitelisted method asks of Xero."""
	try:
		yield
	except (XeroAPIError, OAuthError, requests.RequestException) as e:
		raise_xero_answer(e)


def add_retry_after(response=None, request=None):
	"""after_request hook: the Retry-After of a Xero condition answered in this request."""
	seconds = frappe.local.flags.get(RETRY_AFTER_FLAG)
	if seconds and response is not None and getattr(response, "status_code", 0) in (429, 503):
		response.headers["Retry-After"] = str(int(seconds))
