"""The groups of a batch's preview (Xero Import Group rows): one row per proposed order with its flags, the
row the preview table shows (JSON), an importable one's plan (``core.import_grouping.plan_of``, which the
import takes instead of proposing again) and, once imported, the order it became.

A page of the preview is one indexed query whatever the view (each view's flag leads an index with the
groups' order) and never reads the rest of the preview; a search scans only this batch's short search texts.
"""

import json

import frappe

from xero_sales_orders.core.import_grouping import (
	ALREADY_IMPORTED,
	ProposedOrder,
	group_id,
	plan_of,
	preview_row,
)
from xero_sales_orders.services.import_sql import insert_statements, run, standard_fields

GROUP = "Xero Import Group"
VIEWS = ("all", "importable", "flagged", "conflicts", "skipped")
# Each view as a condition on an indexed column (see the doctype's on_doctype_update).
VIEW_CONDITIONS = {
	"all": "",
	"importable": "and importable = 1",
	"flagged": "and flagged = 1",
	"conflicts": "and conflict = 1",
	"skipped": "and importable = 0",
}
SORT_KEY_LENGTH = 120


def row_name(batch_name: str, group: ProposedOrder) -> str:
	return f"{batch_name}-{group_id(group.key, group.invoices[0].invoice_id)}"


def group_row(batch_name: str, group: ProposedOrder, standard: dict, digest: str | None = None) -> dict:
	"""The stored row of one proposed order; with the digest of the rules it was proposed under, an importable
	one keeps its plan."""
	gid = group_id(group.key, group.invoices[0].invoice_id)
	label = group.label
	# Groups with a key first, in key order, then the invoices without one by number (as the preview lists them).
	sort_key = ("0" if group.key is not None else "1") + label.casefold()[:SORT_KEY_LENGTH]
	search = " ".join([label, group.contact_name, *(i.number for i in group.invoices)]).casefold()
	return {
		**standard,
		"name": f"{batch_name}-{gid}",
		"docstatus": 0,
		"idx": 0,
		"batch": batch_name,
		"group_id": gid,
		"sort_key": sort_key,
		"label": label,
		"contact": group.contact_name[:140],
		"currency": group.currency[:140],
		"invoices": len(group.invoices),
		"importable": int(group.importable),
		"conflict": int(group.is_conflict),
		"flagged": int(bool(group.flags)),
		"already_imported": int(any(f.code == ALREADY_IMPORTED for f in group.flags)),
		"search": search,
		"proposal": json.dumps(preview_row(group), separators=(",", ":")),
		"plan": (
			json.dumps(plan_of(group, digest), separators=(",", ":")) if digest and group.importable else None
		),
	}


UPDATED = (
	"sort_key",
	"label",
	"contact",
	"currency",
	"invoices",
	"importable",
	"conflict",
	"flagged",
	"already_imported",
	"search",
	"proposal",
	"plan",
	"modified",
)


def group_rows(batch_name: str, groups: list[ProposedOrder], digest: str | None = None) -> list[dict]:
	standard = standard_fields()
	return [group_row(batch_name, group, standard, digest) for group in groups]


def store_rows(rows: list[dict]) -> None:
	"""Writes group rows (a group stored before is replaced)."""
	run(row_statements(rows))


def row_statements(rows: list[dict]) -> list[str]:
	return insert_statements(GROUP, rows, update=UPDATED, chunk=500)


def store_groups(batch_name: str, groups: list[ProposedOrder]) -> list[dict]:
	"""Stores the proposed orders (a group stored before is replaced); returns the rows written."""
	rows = group_rows(batch_name, groups)
	store_rows(rows)
	return rows


def mark_orders(orders: dict[str, str]) -> None:
	"""Puts the created order's name on each imported group's row (name of the row -> order)."""
	if not orders:
		return
	cases = " ".join(["when %s then %s"] * len(orders))
	values = [v for pair in orders.items() for v in pair]
	frappe.db.sql(
		f"update `tab{GROUP}` set sales_order = case name {cases} end where name in %s",
		(*values, list(orders)),
	)


def page(batch_name: str, view: str, search: str | None, start: int, page_length: int) -> dict:
	"""One page of the preview in the groups' order, with the number of groups the view and search match."""
	where = f"batch = %(batch)s {VIEW_CONDITIONS[view]}"
	values = {"batch": batch_name, "start": int(start), "length": int(page_length)}
	needle = (search or "").strip().casefold()
	if needle:
		where += " and search like %(needle)s"
		values["needle"] = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
	total = frappe.db.sql(f"select count(*) from `tab{GROUP}` where {where}", values)[0][0]
	rows = frappe.db.sql(
		f"""select proposal, sales_order from `tab{GROUP}` where {where}
		order by sort_key, name limit %(length)s offset %(start)s""",
		values,
	)
	shown = []
	for data, order in rows:
		row = json.loads(data)
		if order:
			row["order"] = order
		shown.append(row)
	return {"total": total, "start": start, "rows": shown}


def summary(batch_name: str) -> dict:
	"""The preview's figures, as ``core.import_grouping.summarise`` counts them."""
	groups, invoices, to_create, conflicts, already, warnings = frappe.db.sql(
		f"""select count(*), coalesce(sum(invoices), 0), coalesce(sum(importable), 0),
			coalesce(sum(conflict), 0), coalesce(sum(already_imported), 0),
			coalesce(sum(importable and flagged), 0)
		from `tab{GROUP}` where batch = %s""",
		batch_name,
	)[0]
	groups, to_create, conflicts = int(groups), int(to_create), int(conflicts)
	return {
		"groups": groups,
		"invoices": int(invoices),
		"to_create": to_create,
		"skipped": groups - to_create - conflicts,
		"conflicts": conflicts,
		"already_imported": int(already),
		"warnings": int(warnings),
	}


def importable_groups(batch_name: str, after: tuple[str, str] | None, limit: int) -> list[tuple]:
	"""Up to ``limit`` importable groups not imported yet, in the preview's order after ``after`` (the sort key
	and name of the last one read): (name, group id, sort key, plan)."""
	sort_key, name = after or ("", "")
	return frappe.db.sql(
		f"""select name, group_id, sort_key, plan from `tab{GROUP}`
		where batch = %s and importable = 1 and sales_order is null
			and (sort_key > %s or (sort_key = %s and name > %s))
		order by sort_key, name limit %s""",
		(batch_name, sort_key, sort_key, name, int(limit)),
	)
