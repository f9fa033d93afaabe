"""Outcome reports → per-call signals: the report in force at the window's close, pending
calls, task outcomes billed once, other tenants' reports ignored, pluggable quality scores;
and the settlement's margins under a revenue share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

from invoice_helpers import record

from ciyuan.core.outcomes import Outcome
from ciyuan.core.records import UsageRecord
from ciyuan.invoice import BillingPeriod, QualitySource, SettlementEntry, SettlementTerms, settle
from ciyuan.invoice.signals import OutcomeScores, call_signals, needs_signals, outcome_signals
from ciyuan.price import LIST_PLAN
from ciyuan.price.charges import DisputeWindow
from ciyuan.price.engine import parse_plans

UTC = dt.UTC
END = dt.datetime(2026, 2, 1, tzinfo=UTC)
WEEK = DisputeWindow(7)


def day(d: int) -> dt.datetime:
    return dt.datetime(2026, 1, d, tzinfo=UTC)


def report(n: int, outcome: str, at: dt.datetime, *, call: str = "", task: str = "",
           tenant: str = "acme", score: str | None = None) -> Outcome:
    return Outcome(id=f"o-{n}", tenant=tenant, record_id=call, task=task,
                   outcome=outcome, reported_at=at,  # type: ignore[arg-type]
                   score=Decimal(score) if score else None)


def test_the_report_in_force_when_the_window_closes_is_billed() -> None:
    calls = [record(1, day(1))]
    reports = [report(1, "accepted", day(2), call="call-1"),
               report(2, "rejected", day(8), call="call-1"),   # at the close: still counts
               report(3, "partial", day(9), call="call-1")]    # after it: cannot change it
    signals = outcome_signals(calls, reports, window=WEEK, period_end=END, as_of=day(20))
    assert signals == {"call-1": {"outcome_rejected": 1}}


def test_while_the_window_is_open_the_call_is_pending() -> None:
    calls = [record(1, day(28))]
    reports = [report(1, "accepted", day(29), call="call-1")]
    open_ = outcome_signals(calls, reports, window=WEEK, period_end=END, as_of=day(31))
    assert open_["call-1"]["outcome_pending"] == 1
    from_end = DisputeWindow(0, "period_end")
    assert outcome_signals(calls, reports, window=from_end, period_end=END,
                           as_of=END) == {"call-1": {"outcome_accepted": 1}}


def test_a_task_outcome_is_billed_once_with_the_tasks_latest_call() -> None:
    calls = [replace(record(n, day(n)), task="t-1") for n in (1, 2, 3)]
    reports = [report(1, "accepted", day(4), task="t-1"),
               report(2, "partial", day(2), call="call-1")]  # call 1 also has its own
    signals = outcome_signals(calls, reports, window=WEEK, period_end=END, as_of=day(20))
    assert signals == {"call-1": {"outcome_in_task": 1, "outcome_partial": 1},
                       "call-2": {"outcome_in_task": 1},
                       "call-3": {"outcome_accepted": 1}}


def test_only_the_records_own_tenant_counts() -> None:
    calls = [record(1, day(1)), record(2, day(1), tenant="globex")]
    reports = [report(1, "accepted", day(2), call="call-1", tenant="globex"),
               report(2, "accepted", day(2), call="call-2", tenant="acme")]
    signals = outcome_signals(calls, reports, window=WEEK, period_end=END, as_of=day(20))
    assert signals == {"call-1": {}, "call-2": {}}


def test_windows_per_model_and_only_for_the_models_covered() -> None:
    plan = parse_plans({"p": {"charges": [
        {"kind": "per_token"},
        {"kind": "pay_for_outcome", "price": "1", "dispute_days": 0, "models": ["gpt-4o"]}]}})["p"]
    calls = [record(1, day(1)), record(2, day(1), model="deepseek-chat")]
    reports = [report(1, "accepted", day(1), call="call-1"),
               report(2, "accepted", day(1), call="call-2")]
    signals = call_signals(calls, reports, plan=plan, period_end=END, as_of=day(5))
    assert signals == {"call-1": {"outcome_accepted": 1}}
    assert needs_signals(plan) and not needs_signals(LIST_PLAN)


class Judge:
    """Another quality source (live judge scores, later): a fixed table here."""

    def scores(self, records: Sequence[UsageRecord]) -> Mapping[str, Decimal]:
        return {r.id: Decimal("0.25") for r in records}


def test_quality_scores_come_from_reports_or_any_source() -> None:
    plan = parse_plans({"p": {"charges": [
        {"kind": "pay_for_quality", "floor": "0", "cap": "1"}]}})["p"]
    calls = [replace(record(1, day(1)), task="t"), record(2, day(1)), record(3, day(1))]
    reports = [report(1, "accepted", day(2), task="t", score="0.6"),
               report(2, "accepted", day(2), call="call-2", score="0.9"),
               report(3, "accepted", day(9), call="call-3", score="0.1")]  # after as_of
    scores = call_signals(calls, reports, plan=plan, period_end=END, as_of=day(5))
    assert scores == {"call-1": {"quality_score": Decimal("0.6")},
                      "call-2": {"quality_score": Decimal("0.9")}}
    assert OutcomeScores(tuple(reports), day(10)).scores(calls)["call-3"] == Decimal("0.1")
    judge = Judge()
    assert isinstance(judge, QualitySource)
    judged = call_signals(calls, reports, plan=plan, period_end=END, as_of=day(5), quality=judge)
    assert {k: v["quality_score"] for k, v in judged.items()} == {
        "call-1": Decimal("0.25"), "call-2": Decimal("0.25"), "call-3": Decimal("0.25")}


def test_margins_under_a_revenue_share_still_add_up() -> None:
    statement = settle(BillingPeriod.parse("2026-01"), "USD", [
        SettlementEntry("acme", "openai", Decimal("10"), 6 * 10**9, "outcome"),
        SettlementEntry("acme", "deepseek", Decimal("4"), 10**9, "outcome"),
        SettlementEntry("acme", "", Decimal("20"), 0, "period"),
        SettlementEntry("globex", "openai", Decimal("1.5"), 10**9, "usage"),
    ], SettlementTerms({"deepseek": Decimal("0.7")}))
    margins = {(m.tenant, m.basis): (m.charge, m.provider_cost, m.margin)
               for m in statement.margins}
    assert margins == {
        ("acme", "outcome"): (Decimal("14"), Decimal("8.8"), Decimal("5.2")),  # 6 + 0.7 × 4
        ("acme", "period"): (Decimal("20"), Decimal("0"), Decimal("20")),
        ("globex", "usage"): (Decimal("1.5"), Decimal("1"), Decimal("0.5"))}
    platform = next(p for p in statement.parties if p.role == "platform")
    assert platform.exact == sum(m.margin for m in statement.margins) == Decimal("25.7")
    assert statement.total_nano == 0
