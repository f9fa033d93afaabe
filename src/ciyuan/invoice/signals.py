"""A period's outcome reports → the per-call signals pay-for-quality and pay-for-outcome price on.

Pure: records and outcome reports in, ``{record id: signals}`` out (``ciyuan.price.signals``
names the keys). The invoice service reads the reports from the outcome store; a test can
pass them in memory.

Outcomes (for the calls a ``pay_for_outcome`` model of the plan covers):

* each call's dispute window (the model's :class:`~ciyuan.price.charges.DisputeWindow`)
  decides which report is in force: the latest one received before the window closed;
  reports after that cannot change the bill any more;
* while the window is open at the rating time the call is ``outcome_pending``;
* a report about a task (no record id) is one outcome of the task, billed once, with the
  task's latest call in the records given (its carrier); the task's other calls get
  ``outcome_in_task`` unless they have a report of their own;
* only reports of the record's own tenant count.

Quality scores come from a :class:`QualitySource`; the default, :class:`OutcomeScores`, takes
the ``score`` of the report in force at the rating time (a record's own, else its task's).
Live judge scores can be another source with the same Protocol.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

from ciyuan.core.outcomes import Outcome, effective_outcomes, outcome_subject
from ciyuan.core.records import UsageRecord
from ciyuan.price import Plan
from ciyuan.price.charges import DisputeWindow, PayForOutcome, PayForQuality
from ciyuan.price.signals import OUTCOME_COUNTS, OUTCOME_IN_TASK, OUTCOME_PENDING, QUALITY_SCORE

__all__ = [
    "OutcomeReader",
    "OutcomeScores",
    "QualitySource",
    "call_signals",
    "needs_signals",
    "outcome_signals",
]

Signals = dict[str, Decimal]
_Subject = tuple[str, str, str]
_ONE = Decimal(1)


class OutcomeReader(Protocol):
    """What the invoice service needs of an outcome store (``ciyuan.store.outcomes``)."""

    def list(self, tenant: str | None, *, start: dt.datetime | None = None,
             end: dt.datetime | None = None, record_ids: Iterable[str] | None = None,
             task: str | None = None) -> list[Outcome]: ...


@runtime_checkable
class QualitySource(Protocol):
    """Where quality scores come from: records → ``{record id: score in [0, 1]}``."""

    def scores(self, records: Sequence[UsageRecord]) -> Mapping[str, Decimal]: ...


def _by_subject(outcomes: Iterable[Outcome]) -> dict[_Subject, list[Outcome]]:
    grouped: dict[_Subject, list[Outcome]] = {}
    for outcome in outcomes:
        grouped.setdefault(outcome_subject(outcome), []).append(outcome)
    return grouped


def _in_force(reports: list[Outcome] | None, as_of: dt.datetime) -> Outcome | None:
    found = effective_outcomes(reports, as_of=as_of) if reports else []
    return found[0] if found else None


@dataclass(frozen=True)
class OutcomeScores:
    """Quality scores from the ``score`` of outcome reports in force at ``as_of``."""

    outcomes: tuple[Outcome, ...]
    as_of: dt.datetime

    def scores(self, records: Sequence[UsageRecord]) -> Mapping[str, Decimal]:
        grouped = _by_subject(self.outcomes)
        found: dict[str, Decimal] = {}
        for record in records:
            own = _in_force(grouped.get((record.tenant, "record", record.id)), self.as_of)
            task = (_in_force(grouped.get((record.tenant, "task", record.task)), self.as_of)
                    if record.task else None)
            score = next((o.score for o in (own, task) if o is not None and o.score is not None),
                         None)
            if score is not None:
                found[record.id] = score
        return found


def _carriers(records: Sequence[UsageRecord]) -> dict[tuple[str, str], str]:
    """(tenant, task) → the id of the task's latest call among ``records``."""
    latest: dict[tuple[str, str], UsageRecord] = {}
    for r in records:
        if r.task:
            held = latest.get((r.tenant, r.task))
            if held is None or (r.started_at, r.id) > (held.started_at, held.id):
                latest[(r.tenant, r.task)] = r
    return {key: r.id for key, r in latest.items()}


def outcome_signals(records: Sequence[UsageRecord], outcomes: Iterable[Outcome], *,
                    window: Mapping[str, DisputeWindow] | DisputeWindow,
                    period_end: dt.datetime | None, as_of: dt.datetime,
                    ) -> dict[str, Signals]:
    """Outcome signals per record id; ``window`` is one window, or model → window for the
    models an outcome model covers (records of other models get none)."""
    grouped = _by_subject(outcomes)
    carriers = _carriers(records)
    out: dict[str, Signals] = {}
    for record in records:
        chosen = window if isinstance(window, DisputeWindow) else window.get(record.model)
        if chosen is None:
            continue
        closes = chosen.closes_at(record.started_at, period_end)
        signals: Signals = {}
        if as_of < closes:
            signals[OUTCOME_PENDING] = _ONE
        cutoff = min(as_of, closes)
        reports = [_in_force(grouped.get((record.tenant, "record", record.id)), cutoff)]
        task_key = (record.tenant, record.task)
        if record.task and (record.tenant, "task", record.task) in grouped:
            if carriers.get(task_key) == record.id:
                reports.append(_in_force(grouped[(record.tenant, "task", record.task)], cutoff))
            else:
                signals[OUTCOME_IN_TASK] = _ONE
        for report in reports:
            if report is not None:
                key = OUTCOME_COUNTS[report.outcome]
                signals[key] = signals.get(key, Decimal(0)) + 1
        out[record.id] = signals
    return out


def needs_signals(plan: Plan) -> bool:
    """Whether rating under ``plan`` reads outcome or quality signals."""
    return any(isinstance(c, PayForOutcome | PayForQuality) for c in plan.components)


def _windows(plan: Plan, records: Sequence[UsageRecord],
             resolve: Callable[[str], str]) -> dict[str, DisputeWindow]:
    models = [c for c in plan.components if isinstance(c, PayForOutcome)]
    found: dict[str, DisputeWindow] = {}
    for record in records:
        name = resolve(record.model)
        model = next((m for m in models if m.applies(name)), None)
        if model is not None:
            found[record.model] = model.window
    return found


def call_signals(records: Sequence[UsageRecord], outcomes: Iterable[Outcome], *, plan: Plan,
                 period_end: dt.datetime | None, as_of: dt.datetime,
                 quality: QualitySource | None = None,
                 resolve: Callable[[str], str] = str) -> dict[str, Mapping[str, Decimal]]:
    """The signals of each record the plan needs: outcomes for the calls its
    ``pay_for_outcome`` models cover, quality scores when it has a ``pay_for_quality`` one
    (from ``quality``, default the reports' scores). ``resolve`` maps a record's model name
    to the name rating uses (``Pricer.resolve``: an alias to its catalog id)."""
    reports = tuple(outcomes)
    out: dict[str, Signals] = {}
    windows = _windows(plan, records, resolve)
    if windows:
        out.update(outcome_signals(records, reports, window=windows, period_end=period_end,
                                   as_of=as_of))
    if any(isinstance(c, PayForQuality) for c in plan.components):
        source = quality if quality is not None else OutcomeScores(reports, as_of)
        for record_id, score in source.scores(records).items():
            out.setdefault(record_id, {})[QUALITY_SCORE] = score
    return dict(out)
