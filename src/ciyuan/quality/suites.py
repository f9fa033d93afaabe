"""Evaluation suites: versioned JSON Lines files of items, checked line by line.

The first line is the header, every other line one item::

    {"suite": "builtin", "version": "2026.11"}
    {"id": "math-001", "task": "math", "language": "en", "prompt": "What is 17 × 23?",
     "reference": "391", "scorer": "numeric"}
    {"id": "ext-004", "task": "extraction", "language": "zh", "prompt": "…",
     "reference": {"fields": {"amount": 120}}, "scorer": "json", "options": {"threshold": 0.5}}

A malformed file is refused as a whole with an error that names the file, the line and the
field, so a suite is never half-loaded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ciyuan.quality.errors import QualityError
from ciyuan.quality.scorers import REGISTRY, load_builtin_scorers

__all__ = ["LANGUAGES", "MAX_ITEMS", "TASK_CLASSES", "Item", "Suite", "SuiteFormatError",
           "load_suite"]

TASK_CLASSES = ("code", "extraction", "math", "qa", "summarization", "translation",
                "customer_service")
LANGUAGES = ("en", "zh")
#: Items one suite file may hold.
MAX_ITEMS = 100_000
_ITEM_KEYS = {"id", "task", "language", "prompt", "reference", "scorer", "options"}


class SuiteFormatError(QualityError):
    code = "quality-suite-invalid"
    summary = "A suite file is malformed; the message names the file, the line and the field."


@dataclass(frozen=True)
class Item:
    id: str
    task: str
    language: str
    prompt: str
    reference: Any
    scorer: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Suite:
    name: str
    version: str
    items: tuple[Item, ...]
    source: str = ""

    def by_task(self) -> dict[str, list[Item]]:
        out: dict[str, list[Item]] = {}
        for item in self.items:
            out.setdefault(item.task, []).append(item)
        return out


def _fail(where: str, line: int, field_name: str, message: str) -> SuiteFormatError:
    return SuiteFormatError(f"{where}:{line}: field {field_name!r}: {message}",
                            file=where, line=line, field=field_name)


def _text(raw: Mapping[str, Any], key: str, where: str, line: int) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, line, key, "must be a non-empty string")
    return value


def _item(raw: Mapping[str, Any], where: str, line: int) -> Item:
    unknown = sorted(set(raw) - _ITEM_KEYS)
    if unknown:
        raise _fail(where, line, unknown[0],
                    f"unknown; an item has {', '.join(sorted(_ITEM_KEYS))}")
    task = _text(raw, "task", where, line)
    if task not in TASK_CLASSES:
        raise _fail(where, line, "task", f"{task!r} is not one of {', '.join(TASK_CLASSES)}")
    language = _text(raw, "language", where, line)
    if language not in LANGUAGES:
        raise _fail(where, line, "language", f"{language!r} is not one of "
                                             f"{', '.join(LANGUAGES)}")
    scorer = _text(raw, "scorer", where, line)
    if scorer not in REGISTRY:
        raise _fail(where, line, "scorer", f"unknown scorer {scorer!r}; use one of "
                                           f"{', '.join(sorted(REGISTRY))}")
    if "reference" not in raw:
        raise _fail(where, line, "reference", "is required (the answer key)")
    options = raw.get("options", {})
    if not isinstance(options, Mapping):
        raise _fail(where, line, "options", "must be an object of scorer options")
    try:
        REGISTRY[scorer](**options)
    except TypeError as exc:
        raise _fail(where, line, "options", f"not accepted by {scorer}: {exc}") from None
    return Item(_text(raw, "id", where, line), task, language, _text(raw, "prompt", where, line),
                raw["reference"], scorer, dict(options))


def load_suite(path: Path) -> Suite:
    """The suite in ``path``, checked whole (SuiteFormatError names file, line and field)."""
    load_builtin_scorers()
    where = str(path)
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteFormatError(f"cannot read suite {where}: {exc}", file=where) from None
    records: list[tuple[int, Any]] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            records.append((number, json.loads(text)))
        except json.JSONDecodeError as exc:
            raise _fail(where, number, "*", f"not JSON ({exc.msg} at column {exc.colno})"
                        ) from None
        if len(records) > MAX_ITEMS + 1:
            raise _fail(where, number, "*", f"a suite holds at most {MAX_ITEMS:,} items")
    if not records or not isinstance(records[0][1], Mapping) or "suite" not in records[0][1]:
        raise _fail(where, records[0][0] if records else 1, "suite",
                    'the first line is the header {"suite": NAME, "version": VERSION}')
    line, header = records[0]
    name, version = _text(header, "suite", where, line), _text(header, "version", where, line)
    items: list[Item] = []
    seen: dict[str, int] = {}
    for number, raw in records[1:]:
        if not isinstance(raw, Mapping):
            raise _fail(where, number, "*", "an item is a JSON object")
        item = _item(raw, where, number)
        if item.id in seen:
            raise _fail(where, number, "id", f"{item.id!r} is already the id of line "
                                             f"{seen[item.id]}")
        seen[item.id] = number
        items.append(item)
    if not items:
        raise _fail(where, line, "*", "the suite has no items")
    return Suite(name, version, tuple(items), where)
