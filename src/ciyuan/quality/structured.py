"""JSON answers: valid JSON, valid against the item's schema, and the expected fields.

The reference is ``{"schema": {...}, "fields": {...}}`` (either part optional). The answer's
JSON is taken from a fenced code block if it has one, else from its first ``{`` or ``[`` to
the matching end. The score is 0 for no JSON or a schema violation, else the share of the
expected fields (dotted paths allowed: ``"customer.name"``) whose values are equal.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

from ciyuan.quality.errors import QualityError
from ciyuan.quality.scorers import Score, register

__all__ = ["JsonMatch", "extract_json"]

_FENCE = re.compile(r"```(?:json)?\s*\n(.*?)```", re.S)


def extract_json(answer: str) -> Any:
    """The JSON value in ``answer``; ValueError when there is none."""
    fenced = _FENCE.search(answer)
    candidates = [fenced.group(1)] if fenced else []
    starts = [i for i in (answer.find("{"), answer.find("[")) if i >= 0]
    if starts:
        candidates.append(answer[min(starts):])
    decoder = json.JSONDecoder()
    for text in candidates:
        try:
            value, _ = decoder.raw_decode(text.strip())
            return value
        except json.JSONDecodeError:
            continue
    raise ValueError("no JSON value in the answer")


def _at(value: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise KeyError(path)
        value = value[part]
    return value


@register("json")
@dataclass(frozen=True)
class JsonMatch:
    threshold: float = 1.0
    name: str = "json"

    def score(self, answer: str, reference: Any) -> Score:
        if not isinstance(reference, Mapping):
            raise QualityError("a json item's reference is {\"schema\": ..., \"fields\": ...}",
                               field="reference")
        try:
            value = extract_json(answer)
        except ValueError:
            return Score(self.name, 0.0, False, "no JSON in the answer")
        schema = reference.get("schema")
        if schema is not None:
            try:
                jsonschema.validate(value, schema)
            except jsonschema.ValidationError as exc:
                return Score(self.name, 0.0, False, f"schema: {exc.message}"[:300])
        fields: Mapping[str, Any] = reference.get("fields", {})
        if not fields:
            return Score(self.name, 1.0, True, "valid")
        equal = 0
        for path, expected in fields.items():
            with contextlib.suppress(KeyError):  # a missing field is not equal
                equal += _at(value, path) == expected
        share = equal / len(fields)
        return Score(self.name, share, share >= self.threshold,
                     f"{equal} of {len(fields)} fields")
