"""pay_for_outcome: price per accepted outcome, partial share, rejected at 0, pending calls,
unresolved rules, the dispute window, and how it covers the token lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ciyuan.core.usage import Usage
from ciyuan.price import PeriodState, Plan, default_pricer
from ciyuan.price.charges import DisputeWindow, PayForOutcome
from ciyuan.price.engine import parse_plans
from ciyuan.price.errors import ChargeSignalError, PlanError
from ciyuan.price.lines import Rating

AT = "2026-01-15"
USAGE = Usage(input_tokens=1_000_000, output_tokens=100_000)  # gpt-4o list: 3.50 USD
OUTCOME = {"kind": "pay_for_outcome", "name": "outcomes", "price": "0.40", "dispute_days": 7}


def _plan(**extra: Any) -> Plan:
    return parse_plans({"p": {"charges": [{"kind": "per_token"}, {**OUTCOME, **extra}]}})["p"]


def _rate(plan: Plan, **signals: int | str) -> Rating:
    return default_pricer().rate(USAGE, model="gpt-4o", at=AT, plan=plan,
                                 signals={k: Decimal(v) for k, v in signals.items()})


PLAN = _plan()


def test_an_accepted_outcome_replaces_the_token_charges() -> None:
    rating = _rate(PLAN, outcome_accepted=1)
    assert rating.total == Decimal("0.40")
    covered = rating.lines[:2]
    assert [(ln.category, ln.quantity, ln.amount) for ln in covered] == [
        ("input", Decimal(1_000_000), Decimal(0)), ("output", Decimal(100_000), Decimal(0))]
    assert "list value 2.5 USD" in covered[0].rule
    assert (rating.lines[2].category, rating.lines[2].unit) == ("outcome_accepted", "outcome")


def test_partial_pays_its_share_and_rejected_nothing() -> None:
    assert _rate(PLAN, outcome_partial=1).total == Decimal("0.20")   # default share 0.5
    assert _rate(_plan(partial_share="0.25"), outcome_partial=1).total == Decimal("0.10")
    rejected = _rate(PLAN, outcome_rejected=1)
    assert rejected.total == 0
    assert rejected.lines[-1].category == "outcome_rejected"
    assert "nothing for a rejected outcome" in rejected.lines[-1].rule


def test_counts_add_up_exactly() -> None:
    rating = _rate(PLAN, outcome_accepted=2, outcome_partial=1, outcome_rejected=3)
    assert rating.total == Decimal("1.00")  # 2 × 0.40 + 0.20
    assert [ln.category for ln in rating.lines[2:]] == [
        "outcome_accepted", "outcome_partial", "outcome_rejected"]


def test_a_pending_call_bills_nothing_yet_and_says_when_its_window_closes() -> None:
    state = PeriodState(start=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                        end=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    rating = default_pricer().rate(USAGE, model="gpt-4o", at=AT, plan=PLAN, state=state,
                                   signals={"outcome_pending": Decimal(1),
                                            "outcome_accepted": Decimal(1)})
    assert rating.total == 0
    assert rating.lines[-1].category == "outcome_pending"
    assert "closes 2026-01-22T00:00:00+00:00" in rating.lines[-1].rule
    from_end = _plan(dispute_from="period_end")
    later = default_pricer().rate(USAGE, model="gpt-4o", at=AT, plan=from_end, state=state,
                                  signals={"outcome_pending": Decimal(1)})
    assert "closes 2026-02-08T00:00:00+00:00" in later.lines[-1].rule


@pytest.mark.parametrize(("rule", "total"), [
    ("nothing", "0"), ("accepted", "0.40"), ("partial", "0.20"), ("list", "3.50")])
def test_unresolved_calls_follow_the_configured_rule(rule: str, total: str) -> None:
    rating = _rate(_plan(unresolved=rule))
    assert rating.total == Decimal(total)
    assert rating.lines[-1].category == "outcome_unresolved"


def test_default_unresolved_is_nothing() -> None:
    assert _rate(PLAN).total == 0
    assert "nothing billed" in _rate(PLAN).lines[-1].rule


def test_a_call_whose_task_outcome_is_billed_elsewhere_bills_nothing() -> None:
    rating = _rate(_plan(unresolved="accepted"), outcome_in_task=1)
    assert rating.total == 0 and rating.lines[-1].category == "outcome_in_task"


def test_other_models_keep_their_token_charges() -> None:
    assert _rate(_plan(models=["deepseek-chat"]), outcome_accepted=1).total == Decimal("3.50")


def test_the_window_closes_after_the_call_or_the_period_end() -> None:
    at, end = dt.datetime(2026, 1, 15, tzinfo=dt.UTC), dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    assert DisputeWindow(7).closes_at(at, end) == dt.datetime(2026, 1, 22, tzinfo=dt.UTC)
    assert DisputeWindow(7, "period_end").closes_at(at, end) == dt.datetime(
        2026, 2, 8, tzinfo=dt.UTC)
    assert DisputeWindow(0, "period_end").closes_at(at, None) == at


@pytest.mark.parametrize("signals", [{"outcome_accepted": "-1"}, {"outcome_partial": "0.5"},
                                     {"outcome_rejected": "Infinity"}])
def test_bad_counts_are_refused(signals: dict[str, str]) -> None:
    with pytest.raises(ChargeSignalError) as caught:
        _rate(PLAN, **signals)
    assert caught.value.code == "charge-signal-invalid"


@pytest.mark.parametrize(("extra", "message"), [
    ({"dispute_days": None}, "dispute_days: missing"),
    ({"dispute_days": 400}, "at most 366"),
    ({"dispute_days": -1}, "non-negative integer"),
    ({"dispute_from": "report"}, "use \"call\" or \"period_end\""),
    ({"unresolved": "maybe"}, "use one of nothing, accepted, partial, list"),
    ({"partial_share": "1.5"}, "in \\[0, 1\\]"),
    ({"price": None}, "price: missing"),
    ({"price": "-1"}, "negative"),
    ({"refund": "all"}, "unknown key"),
])
def test_bad_config_is_a_plan_error(extra: dict[str, Any], message: str) -> None:
    raw = {k: v for k, v in {**OUTCOME, **extra}.items() if v is not None}
    with pytest.raises(PlanError, match=message) as caught:
        parse_plans({"p": {"charges": [raw]}})
    assert caught.value.code == "plan-invalid"


counts = st.integers(0, 10_000)


@settings(max_examples=300, deadline=None)
@given(accepted=counts, partial=counts, rejected=counts,
       price=st.decimals(0, 1_000, places=6), share=st.decimals(0, 1, places=4))
def test_the_amount_is_accepted_times_price_plus_the_partial_share(
        accepted: int, partial: int, rejected: int, price: Decimal, share: Decimal) -> None:
    model = PayForOutcome("o", price, DisputeWindow(0), partial_share=share)
    plan = Plan("p", (model,))
    signals = {"outcome_accepted": Decimal(accepted), "outcome_partial": Decimal(partial),
               "outcome_rejected": Decimal(rejected)}
    rating = default_pricer().rate(USAGE, model="gpt-4o", at=AT, plan=plan, signals=signals)
    assert rating.total == accepted * price + partial * price * share  # exact Decimals
    assert rating.total == model.amount(Decimal(accepted), Decimal(partial))
    assert all(ln.amount == ln.quantity * ln.unit_price for ln in rating.lines)
