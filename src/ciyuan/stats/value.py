"""Value per token: what outcome reports say the month's calls created, per token and per spend.

Pure: outcome reports and usage records in, one :class:`ValueFigure` per currency out
(SPEC §2 "token economic efficiency"). ``ciyuan.stats.publish`` reads both from the stores; a
test passes them in memory.

* The report in force per subject is the latest one received at or before the release's
  ``as_of`` (``ciyuan.core.outcomes.effective_outcomes``): a superseded report never counts.
* Only reports that carry a ``value`` count (a ``rejected`` report may carry ``0``: its calls
  are covered and created nothing); a report without one says nothing about value.
* A report about a record covers that call; a report about a task covers the task's calls of
  the month (as invoices read a task: the calls of the period). Only the report's own tenant's
  calls are matched, and only settled calls started in the month; a report about no such call
  (another month's, or unknown) is left out.
* A call covered by its own report and by its task's report is counted once among the covered
  calls and tokens; both values are added.
* Per currency of the value: reports, calls and native tokens covered, the value, the value per
  million native tokens, the value per unit of the covered calls' spend (when all of them were
  charged in that currency, else not available) and coverage: covered native tokens ÷ the
  month's native tokens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ciyuan.core.money import PER_MILLION, format_amount, from_nano
from ciyuan.core.outcomes import Outcome, effective_outcomes, outcome_subject
from ciyuan.core.records import UsageRecord
from ciyuan.stats.partitions import month_bounds

__all__ = ["SETTLED", "ValueFigure", "native_tokens", "value_figures", "value_headline",
           "value_note", "value_table"]

#: The statuses the release counts as calls (the export's default query).
SETTLED = ("completed", "reconciled")
#: Decimal places of the per-token and per-spend ratios (as unit prices: a millionth).
_RATIO = Decimal("0.000001")


@dataclass(frozen=True)
class ValueFigure:
    """Value figures of one currency for one month."""

    currency: str
    reports: int
    calls: int
    native_tokens: int
    value: Decimal
    spend: Decimal | None  # of the covered calls, in ``currency``; None if charged otherwise
    month_native_tokens: int

    @property
    def per_million_native(self) -> Decimal | None:
        if self.native_tokens == 0:
            return None
        return (self.value * PER_MILLION / self.native_tokens).quantize(_RATIO)

    @property
    def per_unit_spend(self) -> Decimal | None:
        if not self.spend:
            return None
        return (self.value / self.spend).quantize(_RATIO)

    @property
    def coverage(self) -> float | None:
        if self.month_native_tokens == 0:
            return None
        return self.native_tokens / self.month_native_tokens  # a share: a statistic


def native_tokens(record: UsageRecord) -> int:
    """A settled call's native tokens, as the release counts them (input plus output)."""
    usage = record.usage
    return 0 if usage is None else usage.input_tokens + usage.output_tokens


@dataclass
class _Tally:
    reports: int = 0
    value: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        self.calls: dict[str, UsageRecord] = {}


def _calls_of_month(records: Iterable[UsageRecord], month: str,
                    ) -> tuple[dict[tuple[str, str], UsageRecord],
                               dict[tuple[str, str], list[UsageRecord]]]:
    start, end = month_bounds(month)
    by_id: dict[tuple[str, str], UsageRecord] = {}
    by_task: dict[tuple[str, str], list[UsageRecord]] = {}
    for r in records:
        if r.status not in SETTLED or not start <= r.started_at < end:
            continue
        if (r.tenant, r.id) in by_id:
            continue  # the same record given twice (an id list and a task list overlap)
        by_id[(r.tenant, r.id)] = r
        if r.task:
            by_task.setdefault((r.tenant, r.task), []).append(r)
    return by_id, by_task


def value_figures(outcomes: Iterable[Outcome], records: Iterable[UsageRecord], *, month: str,
                  as_of: dt.datetime, month_native_tokens: int) -> list[ValueFigure]:
    """The value figures of ``month`` per currency (sorted), from the reports in force at
    ``as_of`` about the settled ``records`` of the month (others are ignored)."""
    by_id, by_task = _calls_of_month(records, month)
    tallies: dict[str, _Tally] = {}
    for report in effective_outcomes(outcomes, as_of=as_of):
        if report.value is None:
            continue
        tenant, kind, subject = outcome_subject(report)
        if kind == "record":
            own = by_id.get((tenant, subject))
            covered = [own] if own is not None else []
        else:
            covered = by_task.get((tenant, subject), [])
        if not covered:
            continue
        tally = tallies.setdefault(report.currency, _Tally())
        tally.reports += 1
        tally.value += report.value
        tally.calls.update((r.id, r) for r in covered)
    return [_figure(currency, t, month_native_tokens) for currency, t in sorted(tallies.items())]


def _figure(currency: str, tally: _Tally, month_native: int) -> ValueFigure:
    calls = list(tally.calls.values())
    charged_here = all((r.currency or "USD") == currency for r in calls)
    spend = from_nano(sum(r.charge_nano for r in calls)) if charged_here else None
    return ValueFigure(currency, tally.reports, len(calls),
                       sum(native_tokens(r) for r in calls), tally.value, spend, month_native)


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else format_amount(amount)


def value_table(figures: Sequence[ValueFigure], flag: str) -> dict[str, Any]:
    """The release table ``value_per_token`` (one row per currency of the values)."""
    rows = [[f.currency, f.reports, f.calls, f.native_tokens, _text(f.value), _text(f.spend),
             _text(f.per_million_native), _text(f.per_unit_spend),
             None if f.coverage is None else round(f.coverage, 6), flag] for f in figures]
    return {"title": "Value per token, from outcome reports",
            "unit": "reports; calls; native tokens; currency units; currency per million native "
                    "tokens; value per unit of spend; share 0-1",
            "columns": ["currency", "outcome_reports", "calls", "native_tokens", "value",
                        "spend_of_covered_calls", "value_per_million_native",
                        "value_per_unit_spend", "coverage_native_tokens", "flag"],
            "rows": rows}


def value_headline(figures: Sequence[ValueFigure]) -> dict[str, str] | None:
    """``{currency: value per million native tokens}``, or None when nothing is valued."""
    found = {f.currency: _text(f.per_million_native) for f in figures
             if f.per_million_native is not None}
    return {c: v for c, v in found.items() if v is not None} or None


def value_note(figures: Sequence[ValueFigure] | None) -> str:
    """What the value figures rest on, or why there are none."""
    if figures is None:
        return ("not available: the release was published from usage partitions without a "
                "store, so no outcome reports were read")
    if not figures:
        return ("not available: no outcome report with a value is in force for this month's "
                "calls")
    reports = sum(f.reports for f in figures)
    calls = sum(f.calls for f in figures)
    return (f"from {reports:,} outcome reports with a value in force at publication, covering "
            f"{calls:,} calls; a report about a task counts for the task's calls in this month; "
            "calls without a report are not valued (coverage says how much is covered)")
