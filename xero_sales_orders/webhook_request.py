"""Xero's webhook deliveries take a short path through Frappe's request handling.

Xero sends deliveries in bursts and wants each answered within 5 seconds. The endpoint's own work
(verify the signature, one INSERT, one enqueue) costs about a millisecond; Frappe's general request
pipeline around it (guest session, CSRF and cookies, whitelisting, JSON response, session save)
costs about 8 ms of CPU, so on a small server that pipeline, not the webhook, saturates the cores
long before 200 deliveries a second. For POSTs to the webhook path Frappe's ``init_request`` is
therefore replaced by one that sets up the site and database as Frappe does (``frappe.init``,
``frappe.connect``), answers, and hands the finished response back as a werkzeug HTTPException,
which ``frappe.app.application`` returns as it is. What Frappe does after that (its after-response
callbacks, ``frappe.destroy``) runs as for any request; its after_request hooks are skipped, as the
before_request hooks they close never ran on this path.

A server that runs one request at a time per process (gunicorn's sync workers, as bench sets up)
also keeps one MariaDB connection per site for this path: opening one per request, as Frappe does,
costs more than the whole delivery.

Installed by the app's before_request hook (and when the package is imported in a web process), so
it covers every request after a worker's first. A delivery that is a worker's first request goes
through Frappe's whole pipeline to the whitelisted method in api/webhook.py, which gives the same
answers, except to a body that claims to be JSON and is not: Frappe parses that before any app code
runs and answers 500 itself.
"""

import atexit
import sys
from collections import OrderedDict

from werkzeug.exceptions import HTTPException

WEBHOOK_PATH = "/api/method/xero_sales_orders.api.webhook.receive"


class Answered(HTTPException):
	"""Carries a finished response out of init_request; Frappe's application returns it unchanged."""


def install() -> None:
	app = sys.modules.get("frappe.app")
	if app is None or getattr(app.init_request, "_answers_webhooks", False):
		return
	frappes_init_request = app.init_request

	def init_request(request):
		if request.path == WEBHOOK_PATH and request.method == "POST":
			answer_delivery(app, request)  # raises Answered, or falls through in maintenance mode
		return frappes_init_request(request)

	init_request._answers_webhooks = True
	app.init_request = init_request


def answer_delivery(app, request) -> None:
	import frappe
	from frappe.utils import CallbackManager, get_site_name
	from werkzeug.exceptions import NotFound
	from werkzeug.wrappers import Response

	from xero_sales_orders.api.webhook import answer

	frappe.local.request = request
	request.after_response = CallbackManager()
	site = app._site or request.headers.get("X-Frappe-Site-Name") or get_site_name(request.host)
	frappe.init(site=site, sites_path=app._sites_path, force=True)
	if not (frappe.local.conf and frappe.local.conf.db_name):
		raise NotFound
	if frappe.local.conf.maintenance_mode:
		return  # Frappe's own handling answers 503, and Xero retries later
	frappe.set_user("Guest")
	if request.environ.get("wsgi.multithread", True):
		frappe.connect(set_admin_as_user=False)
		status = answer(request)
		frappe.db.commit()
	else:
		status = answer_on_kept_connection(site, answer, request)
	# Frappe's after_request hooks close what its before_request hooks opened (monitor, recorder, rate
	# limiter), none of which ran on this path; marking the site context finished skips them.
	frappe.local.initialised = False
	raise Answered(response=Response(status=status))


# site -> frappe Database kept open between requests, for processes that serve one request at a time;
# the most recently used few only, so that a bench of many sites does not hold workers x sites connections.
_kept_connections: OrderedDict = OrderedDict()
MAX_KEPT_CONNECTIONS = 3


def answer_on_kept_connection(site: str, answer, request) -> int:
	import frappe
	import pymysql

	for attempt in (1, 2):
		kept = _kept_connections.pop(site, None)
		if kept:
			frappe.local.db = kept
		else:
			frappe.connect(set_admin_as_user=False)
		try:
			status = answer(request)
			frappe.db.commit()
		except (pymysql.OperationalError, pymysql.InterfaceError):
			# The kept connection may have been closed by the server (restart, wait_timeout): once more on
			# a new one. Events are stored with INSERT IGNORE on their dedupe key, so a repeat is harmless.
			_close(frappe.local.db)
			frappe.local.db = None
			if not kept or attempt == 2:
				raise
			continue
		except BaseException:
			_close(frappe.local.db)
			frappe.local.db = None
			raise
		_kept_connections[site] = frappe.local.db
		while len(_kept_connections) > MAX_KEPT_CONNECTIONS:
			_close(_kept_connections.popitem(last=False)[1])
		frappe.local.db = None  # so that frappe.destroy at the end of the request leaves it open
		return status


def _close(db) -> None:
	try:
		db.close()
	except Exception:
		pass  # already gone


@atexit.register
def _close_kept_connections() -> None:
	for db in _kept_connections.values():
		_close(db)
