"""The body of ``POST /v1/outcomes``: parsed strictly, numbers read exactly.

Numbers are read from their text as ``Decimal`` (``json.loads(parse_float=Decimal)``), never
through a binary float, so ``"value": 19.99`` is 19.99 exactly. ``value`` and ``score`` may
also be strings (``"19.99"``). Unknown fields are refused: a misspelt ``reqeust_id`` would
otherwise silently become a report about nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ciyuan.core.money import InvalidAmountError, decimal
from ciyuan.core.outcomes import (
    MAX_NOTE_CHARS,
    MAX_TASK_CHARS,
    OUTCOME_KINDS,
    InvalidOutcomeError,
    OutcomeKind,
)
from ciyuan.gateway.errors import BodyTooLargeError

__all__ = ["MAX_OUTCOME_BODY_BYTES", "OutcomeRequest", "parse_outcome_body"]

#: An outcome report is a few short fields (the note at most 2,000 characters); 64 KiB is
#: ample, and refusing more keeps a misdirected upload from being parsed at all.
MAX_OUTCOME_BODY_BYTES = 64 * 1024
#: A request id is a usage-record id (at most 200 characters in the usage store).
MAX_REQUEST_ID_CHARS = 200
_FIELDS = ("request_id", "task_id", "outcome", "value", "currency", "score", "note")


@dataclass(frozen=True)
class OutcomeRequest:
    """What the caller asked to report (not yet linked to a record)."""

    request_id: str
    task_id: str
    outcome: OutcomeKind
    value: Decimal | None
    currency: str
    score: Decimal | None
    note: str


def _refuse_constant(name: str) -> Any:
    raise InvalidOutcomeError(f"request body: {name} is not a number JSON allows; send a "
                              "finite decimal", field="body")


def _load(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_OUTCOME_BODY_BYTES:
        raise BodyTooLargeError(f"an outcome report is at most {MAX_OUTCOME_BODY_BYTES:,} "
                                f"bytes, this one is {len(raw):,}: shorten the note",
                                limit=MAX_OUTCOME_BODY_BYTES)
    try:
        body = json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_int=Decimal,
                          parse_constant=_refuse_constant)
    except UnicodeDecodeError as exc:
        raise InvalidOutcomeError(f"request body is not valid UTF-8 at byte {exc.start}",
                                  field="body") from None
    except json.JSONDecodeError as exc:
        raise InvalidOutcomeError(f"request body is not valid JSON ({exc.msg} at line "
                                  f"{exc.lineno} column {exc.colno})", field="body") from None
    except ValueError as exc:  # e.g. a float literal Decimal cannot read
        raise InvalidOutcomeError(f"request body: {exc}", field="body") from None
    except RecursionError:
        raise InvalidOutcomeError("request body is nested too deeply", field="body") from None
    if not isinstance(body, dict):
        raise InvalidOutcomeError("request body must be a JSON object such as "
                                  '{"request_id": "ur-…", "outcome": "accepted"}', field="body")
    unknown = sorted(set(body) - set(_FIELDS))
    if unknown:
        raise InvalidOutcomeError(f"unknown field {unknown[0]!r}: the fields are "
                                  f"{', '.join(_FIELDS)}", field=unknown[0])
    return body


def _text(body: dict[str, Any], name: str, limit: int) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidOutcomeError(f"`{name}` must be a string", field=name)
    if len(value) > limit:
        raise InvalidOutcomeError(f"`{name}` is at most {limit} characters", field=name)
    return value.strip()


def _number(body: dict[str, Any], name: str) -> Decimal | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise InvalidOutcomeError(f"`{name}` must be a decimal number or a string such as "
                                  '"19.99"', field=name)
    try:
        return decimal(value, field=name)
    except InvalidAmountError as exc:
        raise InvalidOutcomeError(exc.message, field=name) from None


def parse_outcome_body(raw: bytes) -> OutcomeRequest:
    """The report a body asks for, or an ``invalid-outcome`` error naming the field.

    Range rules (score in [0, 1], value with currency, ...) are the ``Outcome`` value's own;
    they run when the report is built.
    """
    body = _load(raw)
    outcome = body.get("outcome")
    if outcome not in OUTCOME_KINDS:
        raise InvalidOutcomeError(f"`outcome` must be one of {', '.join(OUTCOME_KINDS)}, not "
                                  f"{outcome!r}", field="outcome")
    request_id = _text(body, "request_id", MAX_REQUEST_ID_CHARS)
    task_id = _text(body, "task_id", MAX_TASK_CHARS)
    if not request_id and not task_id:
        raise InvalidOutcomeError("give `request_id` (the X-Ciyuan-Usage-Record header of the "
                                  "call's response) or `task_id` (its X-Ciyuan-Task)",
                                  field="request_id")
    return OutcomeRequest(
        request_id=request_id, task_id=task_id, outcome=outcome,
        value=_number(body, "value"), currency=_text(body, "currency", 3).upper(),
        score=_number(body, "score"), note=_text(body, "note", MAX_NOTE_CHARS))
