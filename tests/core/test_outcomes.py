"""The Outcome value: validation, and which report is in force (effective_outcomes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ciyuan.core.outcomes import (
    OUTCOME_KINDS,
    InvalidOutcomeError,
    Outcome,
    effective_outcomes,
)

T0 = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


def _o(id: str = "o1", *, record: str = "r1", task: str = "", outcome: str = "accepted",
       at: int = 0, tenant: str = "acme", **kw: object) -> Outcome:
    return Outcome(id=id, tenant=tenant, record_id=record, task=task,
                   outcome=outcome,  # type: ignore[arg-type]
                   reported_at=T0 + dt.timedelta(seconds=at), **kw)  # type: ignore[arg-type]


def test_a_valid_report_keeps_exact_decimals() -> None:
    o = _o(value=Decimal("12.345678901"), currency="USD", score=Decimal("0.75"), note="kept")
    assert o.value == Decimal("12.345678901") and o.score == Decimal("0.75")


@pytest.mark.parametrize("kw, field", [
    ({"outcome": "maybe"}, "outcome"),
    ({"value": Decimal("1")}, "currency"),
    ({"currency": "USD"}, "currency"),
    ({"value": Decimal("-1"), "currency": "USD"}, "value"),
    ({"value": Decimal("0"), "currency": "USD"}, "value"),
    ({"value": Decimal("1E-10"), "currency": "USD"}, "value"),
    ({"value": Decimal("1"), "currency": "usd"}, "currency"),
    ({"score": Decimal("1.01")}, "score"),
    ({"score": Decimal("-0.1")}, "score"),
    ({"score": Decimal("NaN")}, "score"),
    ({"record": "", "task": ""}, "request_id"),
    ({"task": "t" * 201}, "task_id"),
    ({"note": "n" * 2001}, "note"),
    ({"id": ""}, "id"),
])
def test_bad_reports_are_refused_naming_the_field(kw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidOutcomeError) as caught:
        _o(**kw)  # type: ignore[arg-type]
    assert caught.value.details["field"] == field
    assert caught.value.code == "invalid-outcome"


def test_a_rejected_outcome_may_say_it_created_nothing() -> None:
    assert _o(outcome="rejected", value=Decimal(0), currency="CNY").value == 0


def test_later_reports_supersede_earlier_ones_per_subject() -> None:
    first = _o("a", at=0, outcome="rejected")
    second = _o("b", at=10, outcome="accepted")
    other = _o("c", record="r2", at=5)
    task = _o("d", record="", task="ticket-9", at=7)
    other_tenant = _o("e", tenant="globex", at=1)
    assert effective_outcomes([second, first, other, task, other_tenant]) == [
        other_tenant, other, task, second]
    assert effective_outcomes([first, second, other], as_of=T0 + dt.timedelta(seconds=5)) == [
        first, other]
    assert effective_outcomes([first, second], as_of=T0 - dt.timedelta(seconds=1)) == []


def test_same_instant_the_later_listed_report_wins() -> None:
    a, b = _o("a", outcome="rejected"), _o("b", outcome="partial")
    assert effective_outcomes([a, b]) == [b]
    assert effective_outcomes([b, a]) == [a]


@given(st.lists(st.tuples(st.sampled_from(["r1", "r2", "r3"]), st.integers(0, 20),
                          st.sampled_from(OUTCOME_KINDS)), max_size=30),
       st.integers(-1, 21))
def test_effective_is_one_latest_report_per_subject(
        rows: list[tuple[str, int, str]], cut: int) -> None:
    reports = [_o(f"o{i}", record=r, at=at, outcome=k) for i, (r, at, k) in enumerate(rows)]
    as_of = T0 + dt.timedelta(seconds=cut)
    got = effective_outcomes(reports, as_of=as_of)
    assert len({o.record_id for o in got}) == len(got)
    for o in got:
        assert o.reported_at <= as_of
        rivals = [r for r in reports if r.record_id == o.record_id and r.reported_at <= as_of]
        assert all(r.reported_at <= o.reported_at for r in rivals)
    assert {o.record_id for o in got} == {r.record_id for r in reports if r.reported_at <= as_of}
