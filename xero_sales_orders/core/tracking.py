"""Xero's tracking categories on order and invoice lines: Xero's rules, without Frappe.

An organisation has at most two active tracking categories (facts §11), so a line carries at most two
tracking options, one per category. Only an option that is ACTIVE in an ACTIVE category may go on a new line;
an option of another organisation never may. The order's own options are the default of its lines: a line
takes the order's option of every category it does not name itself. Xero receives a line's options as
``LineItem.Tracking`` ``[{TrackingCategoryID, TrackingOptionID, Name, Option}]``; the ids make Xero refuse an
option it does not have (a Name/Option pair that matches nothing would be dropped without a word).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .errors import TrackingRuleError

MAX_OPTIONS_PER_LINE = 2
ACTIVE = "ACTIVE"


@dataclass(frozen=True)
class TrackingOption:
	name: str  # the local record's name (Xero's TrackingOptionID)
	option_id: str
	option_name: str
	status: str
	category_id: str
	category_name: str
	category_status: str
	organisation: tuple  # (connection, tenant_id)

	@property
	def active(self) -> bool:
		return self.status == ACTIVE and self.category_status == ACTIVE

	@property
	def label(self) -> str:
		return f"{self.category_name}: {self.option_name}"

	@property
	def why_inactive(self) -> str:
		if self.category_status != ACTIVE:
			return f"its category {self.category_name} is {self.category_status.lower()} in Xero"
		return f"it is {self.status.lower()} in Xero"

	def xero(self) -> dict:
		return {
			"TrackingCategoryID": self.category_id,
			"TrackingOptionID": self.option_id,
			"Name": self.category_name,
			"Option": self.option_name,
		}


def flatten_categories(categories: Iterable[dict]) -> list[dict]:
	"""Xero's categories with their options as one record per option (what the local list keeps)."""
	return [
		{"category": category, "option": option}
		for category in categories or []
		for option in category.get("Options") or []
		if option.get("TrackingOptionID")
	]


def tracking_option_fields(record: dict) -> dict:
	category, option = record["category"], record["option"]
	category_name = (category.get("Name") or "")[:100]
	option_name = (option.get("Name") or "")[:100]
	status = option.get("Status") or ACTIVE
	category_status = category.get("Status") or ACTIVE
	return {
		"option_id": option["TrackingOptionID"].lower(),
		"option_name": option_name,
		"status": status,
		"category_id": (category.get("TrackingCategoryID") or "").lower(),
		"category_name": category_name,
		"category_status": category_status,
		"is_active": 1 if status == ACTIVE and category_status == ACTIVE else 0,
		"title": f"{category_name}: {option_name}",
	}


def slots(values: Sequence) -> tuple:
	"""A line's two tracking fields as a tuple of the names set, in order, without repeats."""
	return tuple(dict.fromkeys(v for v in values if v))


def with_defaults(line: Sequence, order: Sequence, options: Mapping[str, TrackingOption]) -> tuple:
	"""The line's options plus the order's option of each category the line does not name (Xero's limit of
	two is checked by ``check_line``, not here)."""
	chosen = list(slots(line))
	categories = {options[n].category_id for n in chosen if n in options}
	for name in slots(order):
		option = options.get(name)
		if option is not None and option.category_id not in categories and len(chosen) < MAX_OPTIONS_PER_LINE:
			chosen.append(name)
			categories.add(option.category_id)
	return tuple(chosen)


def check_line(
	chosen: Sequence, options: Mapping[str, TrackingOption], organisation: tuple, where: str, new: bool = True
) -> None:
	"""Refuses a line's (or the order's) tracking options that Xero would not take: unknown, of another
	organisation, not active (for a ``new`` choice), two of one category, or more than two."""
	chosen = slots(chosen)
	if len(chosen) > MAX_OPTIONS_PER_LINE:
		raise TrackingRuleError(f"{where}: Xero takes at most {MAX_OPTIONS_PER_LINE} tracking options a line")
	seen = {}
	for name in chosen:
		option = options.get(name)
		if option is None:
			raise TrackingRuleError(
				f"{where}: there is no Xero tracking option {name!r}; sync the Xero connection and pick one of its options",
				field="tracking",
			)
		if tuple(option.organisation) != tuple(organisation):
			raise TrackingRuleError(
				f"{where}: tracking option {option.label} belongs to another Xero organisation than this order",
				field="tracking",
			)
		if new and not option.active:
			raise TrackingRuleError(
				f"{where}: tracking option {option.label} cannot be used: {option.why_inactive}",
				field="tracking",
			)
		if option.category_id in seen:
			raise TrackingRuleError(
				f"{where}: {seen[option.category_id].label} and {option.label} are both options of "
				f"{option.category_name}; a line takes one option of each tracking category",
				field="tracking",
			)
		seen[option.category_id] = option


def xero_tracking(chosen: Sequence, options: Mapping[str, TrackingOption]) -> tuple[list[dict], list]:
	"""``LineItem.Tracking`` for the line's options that are still active, and the options left off because
	they are not (archived or deleted in Xero since the line was written)."""
	sent, left_off = [], []
	for name in slots(chosen):
		option = options.get(name)
		if option is None or not option.active:
			left_off.append(option or name)
		else:
			sent.append(option.xero())
	return sent, left_off


def line_option_ids(tracking: Iterable[dict] | None) -> tuple:
	"""The TrackingOptionIDs of a Xero line's ``Tracking`` (lower case, in Xero's order)."""
	return tuple(
		str(t.get("TrackingOptionID")).lower()
		for t in tracking or []
		if isinstance(t, dict) and t.get("TrackingOptionID")
	)
