"""Reading a long Xero listing page by page so that a stop anywhere loses nothing and fetches little again.

The listing is asked for in ``UpdatedDateUTC`` order. After each page the next request is the listing from
the second of the page's last invoice on (``If-Modified-Since``, which Xero applies to the second), page 1:
whatever came before that second has been read, and an invoice changed in Xero meanwhile moves to the end
and comes again, with its new figures, instead of shifting the pages and making another one be skipped (as
numbered pages of a listing that changes would). Only the invoices of that one second are read twice,
usually one. When more than a tenth of a page shares its last second (a bulk change in Xero), the next
request is the next page of the same listing instead, so they are not read again; and a page that lies
within one second entirely always goes on by page number, or it would be asked for forever. Within such a
crowded second the pages go by number, so there (only there) an invoice changed in Xero while the fetch is
inside that second can shift the rest by one and make one be missed; a preview run again reads it.

The cursor is plain JSON (``to_json`` / ``from_json``), stored with each page, so a fetch that stops goes on
from the stored cursor with exactly the requests the uninterrupted fetch would have made.
"""

from dataclasses import dataclass
from datetime import datetime, timezone

ORDER = "UpdatedDateUTC ASC"
# At most this share of a page (and never more than REBASE_LIMIT invoices) is read again where a page ends.
REBASE_SHARE = 10
REBASE_LIMIT = 100


def rebase_limit(page_size: int) -> int:
	return max(1, min(REBASE_LIMIT, page_size // REBASE_SHARE))


@dataclass(frozen=True)
class Cursor:
	since: datetime | None = None  # If-Modified-Since of the next request (UTC, whole seconds)
	page: int = 1
	done: bool = False

	def to_json(self) -> dict:
		return {
			"since": self.since.isoformat() if self.since else None,
			"page": self.page,
			"done": self.done,
		}

	@classmethod
	def from_json(cls, value: dict | None) -> "Cursor":
		value = value or {}
		since = value.get("since")
		return cls(
			since=datetime.fromisoformat(since) if since else None,
			page=int(value.get("page") or 1),
			done=bool(value.get("done")),
		)


def _second(moment: datetime) -> datetime:
	if moment.tzinfo is None:
		moment = moment.replace(tzinfo=timezone.utc)
	return moment.astimezone(timezone.utc).replace(microsecond=0)


def next_cursor(cursor: Cursor, updated: list[datetime], pagination: dict, page_size: int) -> Cursor:
	"""The request after a page: ``updated`` are the page's invoices' UpdatedDateUTC in the order they came
	(ascending), ``pagination`` Xero's paging figures of that answer."""
	page_count = pagination.get("pageCount")
	last = cursor.page >= page_count if page_count is not None else len(updated) < page_size
	if last or not updated:
		return Cursor(cursor.since, cursor.page, done=True)
	last_second = _second(updated[-1])
	if cursor.since is None or last_second > cursor.since:
		again = sum(1 for moment in updated if _second(moment) == last_second)
		if again <= rebase_limit(page_size):
			return Cursor(last_second, 1)
	return Cursor(cursor.since, cursor.page + 1)
