"""Xero's branding themes: the local list's fields and which theme an invoice goes out with.

``GET /BrandingThemes`` lists the organisation's themes; SortOrder 0 is its default (facts §11). A contact may
have a theme of its own in Xero (its sales defaults; Xero reads ``Contact.BrandingTheme`` but ignores it on
writes). An invoice goes out with the contact's theme when it has one, else with the theme chosen for the
organisation in the app, else with none (Xero then uses its default). A theme deleted in Xero makes the
invoice fail there, with no fallback (XeroAPI/xero-php-oauth2#267), so a deleted theme is never sent: the
next in that order is, and the user is told.
"""

from collections.abc import Iterable, Mapping

from xero_sales_orders.xero.parsing import parse_xero_date

ACTIVE = "ACTIVE"
DELETED = "DELETED"


def branding_theme_fields(theme: dict) -> dict:
	name = (theme.get("Name") or "")[:140]
	sort_order = theme.get("SortOrder")
	return {
		"theme_id": theme["BrandingThemeID"].lower(),
		"theme_name": name,
		"sort_order": int(sort_order) if sort_order is not None else 0,
		"logo_url": theme.get("LogoUrl") or None,
		"status": ACTIVE,
		"title": f"{name} (default)" if sort_order == 0 else name,
		"xero_created_at": _created(theme.get("CreatedDateUTC")),
	}


def _created(value):
	moment = parse_xero_date(value) if isinstance(value, str) else value
	return moment.replace(tzinfo=None) if moment else None


def default_theme_id(themes: Iterable[dict]) -> str | None:
	"""The organisation's default theme among Xero's list: the lowest SortOrder (0)."""
	listed = sorted(
		(t for t in themes if t.get("BrandingThemeID")),
		key=lambda t: (t.get("SortOrder") or 0, t.get("Name") or ""),
	)
	return listed[0]["BrandingThemeID"].lower() if listed else None


def choose_theme(
	contact_theme: str | None, organisation_theme: str | None, status: Mapping[str, str]
) -> tuple[str | None, list[str]]:
	"""The theme an invoice goes out with, and the themes passed over because Xero no longer has them.

	``status`` maps a theme's id to its local status (ACTIVE, DELETED); an id it lacks is unknown, which is
	passed over too."""
	passed_over = []
	for theme in (contact_theme, organisation_theme):
		if not theme:
			continue
		if status.get(theme) == ACTIVE:
			return theme, passed_over
		passed_over.append(theme)
	return None, passed_over
