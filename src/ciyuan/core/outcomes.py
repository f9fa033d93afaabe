"""``Outcome``: what a caller says became of a metered call (or of a task of several calls).

A client reports, after the fact, that the answer of a call was ``accepted``, ``rejected`` or
only ``partial``-ly usable, optionally with the value it created (an exact decimal in a
currency) and a quality score in [0, 1]. Outcomes feed pay-for-outcome and pay-for-quality
charge models and the value-per-token figures of the release (SPEC §2 "token economic
efficiency", §4.5).

Reports are append-only: a later report about the same record (or task) supersedes an
earlier one, and :func:`effective_outcomes` gives the one in force at a moment. The report's
``id`` is its identity (the client's ``Idempotency-Key`` when it gave one): storing the same id
twice is a no-op when the bodies agree and an idempotency conflict when they differ.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from ciyuan.core.errors import InputError
from ciyuan.core.money import NANO_PLACES, format_amount

__all__ = [
    "MAX_NOTE_CHARS",
    "MAX_OUTCOME_ID_CHARS",
    "MAX_TASK_CHARS",
    "MAX_VALUE",
    "OUTCOME_KINDS",
    "InvalidOutcomeError",
    "Outcome",
    "OutcomeKind",
    "effective_outcomes",
    "outcome_subject",
]

OutcomeKind = Literal["accepted", "rejected", "partial"]
OUTCOME_KINDS: tuple[OutcomeKind, ...] = ("accepted", "rejected", "partial")

#: An outcome id is a client idempotency key or a generated one; 200 characters holds any
#: UUID, ULID or "<system>:<ticket>" key a client would choose, and bounds the index entry.
MAX_OUTCOME_ID_CHARS = 200
#: Same bound as the X-Ciyuan-Task attribution header a task id comes from.
MAX_TASK_CHARS = 200
#: A note is a short human remark ("customer kept the draft"), not a document store.
MAX_NOTE_CHARS = 2000
#: Values are stored as integer nano-units like every amount (ciyuan.core.money): more
#: decimal places than that cannot be kept exactly, so they are refused, never rounded.
MAX_VALUE_PLACES = NANO_PLACES
#: The largest value one report may claim (a billion currency units): stored as BIGINT
#: nano-units, which end at about 9.2e9 units; a larger claim is a typo or a unit mistake.
MAX_VALUE = Decimal(10) ** 9
#: Scores are stored exactly; nine places is finer than any judge or rubric distinguishes.
MAX_SCORE_PLACES = 9
#: A currency code has the ISO 4217 shape (three capital letters); the value a caller created
#: may be in any currency, not only those ciyuan prices in.
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class InvalidOutcomeError(InputError):
    code = "invalid-outcome"
    summary = ("An outcome report is malformed: unknown outcome, score outside [0, 1], value "
               "without currency, a negative value, or a field too long; the message names it.")


def _places(number: Decimal) -> int:
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite numbers only reach here
    return max(0, -exponent)


def _check_value(value: Decimal, currency: str, outcome: str) -> None:
    if not value.is_finite():
        raise InvalidOutcomeError("value: must be a finite decimal number", field="value")
    if value < 0:
        raise InvalidOutcomeError(
            "value: a created value cannot be negative; omit it when nothing was created",
            field="value")
    if value == 0 and outcome != "rejected":
        raise InvalidOutcomeError(
            f"value: an {outcome} outcome with value 0 says nothing; omit value, or give the "
            "value it created", field="value")
    if value > MAX_VALUE:
        raise InvalidOutcomeError(
            f"value: {value} is over the bound of {MAX_VALUE:,} per report; check the unit",
            field="value")
    if _places(value) > MAX_VALUE_PLACES:
        raise InvalidOutcomeError(
            f"value: at most {MAX_VALUE_PLACES} decimal places are kept exactly; round it "
            "yourself", field="value")
    if not currency:
        raise InvalidOutcomeError("currency: required with value (an ISO 4217 code such as "
                                  "\"USD\" or \"CNY\")", field="currency")


def _check_score(score: Decimal) -> None:
    if not score.is_finite() or not Decimal(0) <= score <= Decimal(1):
        raise InvalidOutcomeError(f"score: {score} is outside [0, 1]; give a share such as 0.8",
                                  field="score")
    if _places(score) > MAX_SCORE_PLACES:
        raise InvalidOutcomeError(
            f"score: at most {MAX_SCORE_PLACES} decimal places", field="score")


@dataclass(frozen=True)
class Outcome:
    """One outcome report (immutable; a correction is a later report about the same subject)."""

    id: str
    tenant: str
    #: The usage record this outcome is about; "" when only a task was given and it matched
    #: several records: then the outcome is about the task.
    record_id: str
    task: str  # X-Ciyuan-Task of the call(s), "" if none
    outcome: OutcomeKind
    reported_at: dt.datetime  # timezone-aware UTC
    value: Decimal | None = None  # value the caller says it created (never float)
    currency: str = ""  # required when value is given
    score: Decimal | None = None  # optional quality score in [0, 1]
    note: str = ""

    def __post_init__(self) -> None:
        assert self.reported_at.tzinfo is not None, "timestamps are timezone-aware (UTC)"
        assert not isinstance(self.value, float) and not isinstance(self.score, float)
        if not self.id or len(self.id) > MAX_OUTCOME_ID_CHARS:
            raise InvalidOutcomeError(
                f"id: 1 to {MAX_OUTCOME_ID_CHARS} characters", field="id")
        if not self.tenant:
            raise InvalidOutcomeError("tenant: required", field="tenant")
        if not self.record_id and not self.task:
            raise InvalidOutcomeError("an outcome is about a record or a task: give request_id "
                                      "or task_id", field="request_id")
        if len(self.task) > MAX_TASK_CHARS:
            raise InvalidOutcomeError(f"task_id: at most {MAX_TASK_CHARS} characters",
                                      field="task_id")
        if self.outcome not in OUTCOME_KINDS:
            raise InvalidOutcomeError(
                f"outcome: {self.outcome!r} is not one of {', '.join(OUTCOME_KINDS)}",
                field="outcome")
        if self.value is not None:
            _check_value(self.value, self.currency, self.outcome)
        elif self.currency:
            raise InvalidOutcomeError("currency: given without value; give both or neither",
                                      field="currency")
        if self.currency and not _CURRENCY.match(self.currency):
            raise InvalidOutcomeError(
                f"currency: {self.currency!r} is not an ISO 4217 code such as \"USD\"",
                field="currency")
        if self.score is not None:
            _check_score(self.score)
        if len(self.note) > MAX_NOTE_CHARS:
            raise InvalidOutcomeError(f"note: at most {MAX_NOTE_CHARS} characters",
                                      field="note")

    def to_dict(self) -> dict[str, object]:
        """The report as JSON-ready data: money and score as exact decimal strings."""
        return {
            "id": self.id, "tenant": self.tenant, "request_id": self.record_id or None,
            "task_id": self.task or None, "outcome": self.outcome,
            "value": None if self.value is None else format_amount(self.value),
            "currency": self.currency or None,
            "score": None if self.score is None else format_amount(self.score),
            "note": self.note, "reported_at": self.reported_at.isoformat(),
        }

    def same_report(self, other: Outcome) -> bool:
        """Whether ``other`` is the same report (everything but when it was received)."""
        return (self.id, self.tenant, self.record_id, self.task, self.outcome, self.value,
                self.currency, self.score, self.note) == (
            other.id, other.tenant, other.record_id, other.task, other.outcome, other.value,
            other.currency, other.score, other.note)


def outcome_subject(outcome: Outcome) -> tuple[str, str, str]:
    """What a report is about: ``(tenant, "record", id)`` or ``(tenant, "task", task)``."""
    if outcome.record_id:
        return (outcome.tenant, "record", outcome.record_id)
    return (outcome.tenant, "task", outcome.task)


def effective_outcomes(outcomes: Iterable[Outcome], *,
                       as_of: dt.datetime | None = None) -> list[Outcome]:
    """The report in force per subject (record, or task): the latest one at or before ``as_of``.

    Later ``reported_at`` wins; between reports received at the same instant the one later in
    ``outcomes`` wins (stores list in the order they received reports). The result is ordered
    by ``reported_at``.
    """
    assert as_of is None or as_of.tzinfo is not None, "as_of is timezone-aware"
    latest: dict[tuple[str, str, str], Outcome] = {}
    for o in outcomes:
        if as_of is not None and o.reported_at > as_of:
            continue
        key = outcome_subject(o)
        held = latest.get(key)
        if held is None or o.reported_at >= held.reported_at:
            latest[key] = o
    return sorted(latest.values(), key=lambda o: o.reported_at)
