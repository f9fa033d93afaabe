"""Revisions: a month published again after late events, compared with what was published.

Every value that differs from the previous publication of the same month is flagged ``R``
(revised) and listed in the change log with its previous value, its new value and the
difference; values that did not change keep their flag (``P`` or ``A``). The revision number
goes up by one when anything changed, and stays put when a re-run changed nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["Change", "apply_revision", "row_key"]

Change = dict[str, Any]
#: Columns that identify a row (the rest are values).
_KEY_COLUMNS = {"unit_prices": 2}


def row_key(table: str, row: Sequence[object]) -> tuple[object, ...]:
    return tuple(row[: _KEY_COLUMNS.get(table, 1)])


def _difference(old: object, new: object) -> object:
    if isinstance(old, bool) or isinstance(new, bool):
        return None
    if isinstance(old, int) and isinstance(new, int):
        return new - old
    if isinstance(old, float | int) and isinstance(new, float | int):
        return round(new - old, 6)
    if isinstance(old, str) and isinstance(new, str):
        try:
            return str(Decimal(new) - Decimal(old))
        except InvalidOperation:
            return None
    return None


def _revise_table(name: str, table: dict[str, Any], before: dict[str, Any] | None,
                  changes: list[Change]) -> None:
    columns = table["columns"]
    flag_at = columns.index("flag") if "flag" in columns else None
    previous = {row_key(name, r): r for r in (before or {}).get("rows", [])}
    prior_columns = (before or {}).get("columns", columns)
    for row in table["rows"]:
        key = row_key(name, row)
        old = previous.pop(key, None)
        changed = False
        for i, column in enumerate(columns):
            if i == flag_at or i < len(key):
                continue
            old_value = (old[prior_columns.index(column)]
                         if old is not None and column in prior_columns else None)
            if old is not None and old_value == row[i]:
                continue
            if old is None and row[i] is None:
                continue
            changed = True
            changes.append({"table": name, "key": list(key), "column": column,
                            "previous": old_value, "new": row[i],
                            "difference": _difference(old_value, row[i])})
        if flag_at is not None and (changed or (old is not None and old[-1] == "R")):
            row[flag_at] = "R"  # a value once revised stays flagged R
    for key, old in previous.items():
        changes.append({"table": name, "key": list(key), "column": "*", "previous": old,
                        "new": None, "difference": None})


def apply_revision(release: dict[str, Any], previous: dict[str, Any]) -> list[Change]:
    """Flag what changed since ``previous`` (same month) in ``release``, in place; the change
    log. ``release['revision']`` becomes the next number when anything changed."""
    if previous.get("month") != release["month"]:
        raise ValueError("a revision compares two publications of the same month")
    changes: list[Change] = []
    old_headline = previous.get("headline", {})
    for name, cell in release["headline"].items():
        old = old_headline.get(name, {}).get("value")
        if name in old_headline and old == cell["value"]:
            if old_headline[name].get("flag") == "R":
                cell["flag"] = "R"
        elif name in old_headline:
            cell["flag"] = "R"
            changes.append({"table": "headline", "key": [name], "column": "value",
                            "previous": old, "new": cell["value"],
                            "difference": _difference(old, cell["value"])})
    old_tables = previous.get("tables", {})
    for name, table in release["tables"].items():
        _revise_table(name, table, old_tables.get(name), changes)
    revision = int(previous.get("revision", 0))
    release["revision"] = revision + 1 if changes else revision
    if changes or previous.get("status") == "R":
        release["status"] = "R"
    if changes:
        release["revises"] = {"revision": revision, "generated_at": previous.get("generated_at")}
    elif "revises" in previous:
        release["revises"] = previous["revises"]
    return changes
