"""An organisation's tracking categories and branding themes, as Xero keeps them, and the rules Xero applies
when a document's line names a tracking option or a document names a branding theme.

Facts §11: ``GET /TrackingCategories`` lists ACTIVE categories with their ACTIVE options, and
``includeArchived=true`` adds the ARCHIVED ones (DELETED ones are never listed); an organisation has at most 4
categories of which at most 2 are active, so a line carries at most two options, one per category.
``LineItem.Tracking`` names an option by ``{TrackingCategoryID, TrackingOptionID}`` or by ``{Name, Option}``
(both required); Xero echoes all four. A Name/Option pair that matches nothing is dropped silently, as Xero
does (calcinai/xero-php#84); an unknown id is refused (400), and so is an option that is not active (the
sandbox's rule: Xero keeps archived options only on the documents that already carry them).
``GET /BrandingThemes`` lists the themes, SortOrder 0 being the default; a deleted theme's id makes an invoice
fail, with no fallback to the default (XeroAPI/xero-php-oauth2#267).
"""

import random
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

MAX_TRACKING_PER_LINE = 2
ACTIVE = "ACTIVE"
ARCHIVED = "ARCHIVED"
DELETED = "DELETED"
STATUSES = (ACTIVE, ARCHIVED, DELETED)

# (category, status, [(option, status)]): two active categories, as Xero allows, and an archived one.
_TRACKING = [
	("Region", ACTIVE, [("North", ACTIVE), ("South", ACTIVE), ("Eastside", ACTIVE), ("West", ARCHIVED)]),
	("Department", ACTIVE, [("Sales", ACTIVE), ("Services", ACTIVE), ("Marketing", ARCHIVED)]),
	("Projects 2019", ARCHIVED, [("Fit-out", ACTIVE)]),
]
# (Name, SortOrder): the demo company's themes; SortOrder 0 is the organisation's default.
_THEMES = [("Standard", 0), ("Special Projects", 1), ("Very orange invoice!", 2)]


def _uuid(rng: random.Random) -> str:
	return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def seed_settings(tenant, key: str, created: datetime) -> None:
	"""Tracking categories and branding themes of a seeded organisation, from a random stream of their own
	(``key``), so that the ids of everything seeded before them stay as they were."""
	rng = random.Random(f"{key}/settings")
	for name, status, options in _TRACKING:
		category_id = _uuid(rng)
		tenant.tracking_categories[category_id] = {
			"TrackingCategoryID": category_id,
			"Name": name,
			"Status": status,
			"Options": [
				{"TrackingOptionID": _uuid(rng), "Name": option, "Status": option_status}
				for option, option_status in options
			],
		}
	for index, (name, sort_order) in enumerate(_THEMES):
		theme_id = _uuid(rng)
		tenant.branding_themes[theme_id] = {
			"BrandingThemeID": theme_id,
			"Name": name,
			"LogoUrl": f"https://in.xero.com/logo?id={theme_id}",
			"Type": "INVOICE",
			"SortOrder": sort_order,
			"CreatedDateUTC": created + timedelta(days=index),
			"_deleted": False,
		}


def seed_contact_settings(tenant) -> None:
	"""Some seeded contacts have a branding theme of their own (Xero's contact "Sales defaults") and sales
	payment terms of each kind, so that both paths of a due date and of a theme can be tried."""
	special = next((t for t in tenant.branding_themes.values() if t["SortOrder"] == 1), None)
	for index, contact in enumerate(tenant.contacts.values()):
		if special is not None and index % 6 == 4:
			contact["BrandingTheme"] = {
				"BrandingThemeID": special["BrandingThemeID"],
				"Name": special["Name"],
			}
		if "PaymentTerms" not in contact and index % 8 in (3, 7):
			kind = ("DAYSAFTERBILLMONTH", 5) if index % 8 == 3 else ("OFCURRENTMONTH", 25)
			contact["PaymentTerms"] = {"Sales": {"Day": kind[1], "Type": kind[0]}}


# Units of each currency per US dollar: the sandbox's "XE.com day rate" (facts §11), the same every day.
_UNITS_PER_USD = {
	"USD": Decimal("1"),
	"NZD": Decimal("1.65"),
	"AUD": Decimal("1.52"),
	"GBP": Decimal("0.79"),
	"EUR": Decimal("0.92"),
}
RATE_PLACES = Decimal("0.000001")  # CurrencyRate holds 6 decimal places (max length [18].[6])


def xe_rate(base: str, currency: str) -> Decimal:
	"""Xero's CurrencyRate of a document in ``currency`` for an organisation whose base is ``base``: units of
	the document's currency per one unit of the base currency (facts §11: base amount = amount / rate)."""
	if currency == base:
		return Decimal("1.000000")
	units = _UNITS_PER_USD.get(currency, Decimal("1.5")) / _UNITS_PER_USD.get(base, Decimal("1"))
	return units.quantize(RATE_PLACES)


# --- tracking categories ------------------------------------------------------------------------------


def render_category(category: dict, include_archived: bool) -> dict:
	shown = (ACTIVE, ARCHIVED) if include_archived else (ACTIVE,)
	return {
		"TrackingCategoryID": category["TrackingCategoryID"],
		"Name": category["Name"],
		"Status": category["Status"],
		"Options": [dict(option) for option in category["Options"] if option["Status"] in shown],
	}


def listed_categories(tenant, include_archived: bool) -> list[dict]:
	shown = (ACTIVE, ARCHIVED) if include_archived else (ACTIVE,)
	return [
		render_category(c, include_archived)
		for c in tenant.tracking_categories.values()
		if c["Status"] in shown
	]


def find_option(tenant, option_id: str) -> tuple[dict, dict] | tuple[None, None]:
	wanted = str(option_id or "").lower()
	for category in tenant.tracking_categories.values():
		for option in category["Options"]:
			if option["TrackingOptionID"] == wanted:
				return category, option
	return None, None


def line_tracking(tenant, raw, problems) -> list[dict]:
	"""The tracking of one line as Xero stores and echoes it: ``{TrackingCategoryID, TrackingOptionID, Name,
	Option}`` per option. ``problems.add`` receives Xero's refusals."""
	if raw is None:
		return []
	if not isinstance(raw, list):
		# Xero answers a non-array with a 500 (XeroAPI/xero-ruby#86); the sandbox says what is wrong instead.
		problems.add("Tracking must be a list of tracking options")
		return []
	if len(raw) > MAX_TRACKING_PER_LINE:
		problems.add("A line item can have at most two tracking categories")
		return []
	resolved = []
	for entry in raw:
		if not isinstance(entry, dict):
			problems.add("Each tracking entry must be an object")
			continue
		category, option = _resolve(tenant, entry, problems)
		if category is None:
			continue
		if category["Status"] != ACTIVE or option["Status"] != ACTIVE:
			problems.add(
				f"The tracking option '{option['Name']}' of '{category['Name']}' is "
				f"{(option['Status'] if option['Status'] != ACTIVE else category['Status']).lower()} "
				"and cannot be used"
			)
			continue
		if any(t["TrackingCategoryID"] == category["TrackingCategoryID"] for t in resolved):
			problems.add(
				f"A line item can have only one option of the tracking category '{category['Name']}'"
			)
			continue
		resolved.append(
			{
				"TrackingCategoryID": category["TrackingCategoryID"],
				"TrackingOptionID": option["TrackingOptionID"],
				"Name": category["Name"],
				"Option": option["Name"],
			}
		)
	return resolved


def _resolve(tenant, entry: dict, problems):
	category_id = str(entry.get("TrackingCategoryID") or "").lower()
	option_id = str(entry.get("TrackingOptionID") or "").lower()
	if category_id or option_id:
		category = tenant.tracking_categories.get(category_id) if category_id else None
		if category_id and (category is None or category["Status"] == DELETED):
			problems.add(f"TrackingCategoryID {entry.get('TrackingCategoryID')} is not valid")
			return None, None
		if option_id:
			found_category, option = find_option(tenant, option_id)
			if option is None or option["Status"] == DELETED or (category and found_category is not category):
				problems.add(f"TrackingOptionID {entry.get('TrackingOptionID')} is not valid")
				return None, None
			return found_category, option
		name = str(entry.get("Option") or "").strip().casefold()
		option = next((o for o in category["Options"] if o["Name"].casefold() == name), None)
		if option is None or option["Status"] == DELETED:
			problems.add(f"The tracking option '{entry.get('Option')}' is not valid for '{category['Name']}'")
			return None, None
		return category, option
	name = str(entry.get("Name") or "").strip().casefold()
	option_name = str(entry.get("Option") or "").strip().casefold()
	if not name or not option_name:
		problems.add(
			"A tracking entry needs both Name and Option, or TrackingCategoryID and TrackingOptionID"
		)
		return None, None
	for category in tenant.tracking_categories.values():
		if category["Name"].casefold() == name and category["Status"] != DELETED:
			for option in category["Options"]:
				if option["Name"].casefold() == option_name and option["Status"] != DELETED:
					return category, option
	return None, None  # Xero drops a name it does not know, without a word


# --- branding themes ----------------------------------------------------------------------------------


def render_theme(theme: dict) -> dict:
	return {k: v for k, v in theme.items() if not k.startswith("_")}


def listed_themes(tenant) -> list[dict]:
	themes = [t for t in tenant.branding_themes.values() if not t["_deleted"]]
	return [render_theme(t) for t in sorted(themes, key=lambda t: (t["SortOrder"], t["Name"]))]


def theme_problem(tenant, theme_id) -> str | None:
	"""Xero's refusal of a document naming this theme, or None; an empty id means the default theme."""
	if theme_id in (None, ""):
		return None
	theme = tenant.branding_themes.get(str(theme_id).lower())
	if theme is None or theme["_deleted"]:
		return f"Branding theme {theme_id} does not exist or has been deleted"
	return None


def default_theme(tenant) -> dict | None:
	themes = listed_themes(tenant)
	return themes[0] if themes else None


# --- test controls (``/_sandbox/...``): what an accountant does in Xero's settings -------------------


def set_tracking_status(tenant, item_id: str, status: str) -> dict:
	"""Archives, deletes or restores a tracking category or option by its id."""
	status = str(status or "").upper()
	if status not in STATUSES:
		raise ValueError(f"status must be one of {', '.join(STATUSES)}")
	category = tenant.tracking_categories.get(str(item_id).lower())
	if category is not None:
		category["Status"] = status
		return render_category(category, include_archived=True)
	category, option = find_option(tenant, item_id)
	if option is None:
		raise ValueError(f"no tracking category or option {item_id}")
	option["Status"] = status
	return dict(option)


def delete_theme(tenant, theme_id: str) -> dict:
	theme = tenant.branding_themes.get(str(theme_id).lower())
	if theme is None:
		raise ValueError(f"no branding theme {theme_id}")
	theme["_deleted"] = True
	return render_theme(theme)
