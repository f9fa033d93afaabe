"""Charge models: each one's arithmetic, the split-run property, the registry and plan errors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ciyuan.core.usage import Usage
from ciyuan.price import (
    CHARGE_MODELS,
    ChargeModel,
    ChargeModelBase,
    PeriodState,
    Plan,
    Step,
    close_period,
    default_pricer,
    open_period,
)
from ciyuan.price.charges import ChargeModelRegistry, Config, FreeQuota, MinimumCommitment
from ciyuan.price.engine import get_plan, parse_plans
from ciyuan.price.errors import CurrencyMismatchError, PlanError, PriceFloatError, UnknownPlanError
from ciyuan.price.lines import Call, ChargeLine, line

AT = "2026-01-15"


def _plan(*charges: dict[str, Any], currency: str | None = None) -> Plan:
    raw: dict[str, Any] = {"charges": list(charges)}
    if currency:
        raw["currency"] = currency
    return parse_plans({"p": raw})["p"]


def _rate(plan: Plan, state: PeriodState, tokens: int, model: str = "gpt-4o") -> Any:
    usage = Usage(input_tokens=tokens // 2, output_tokens=tokens - tokens // 2)
    return default_pricer().rate(usage, model=model, at=AT, plan=plan, state=state)


TIERS = [{"up_to": 1000, "unit_price": "3"}, {"up_to": 5000, "unit_price": "2"},
         {"unit_price": "1"}]


def test_volume_reprices_earlier_units_when_a_threshold_is_crossed() -> None:
    plan = _plan({"kind": "volume", "name": "v", "per": 1000, "tiers": TIERS})
    first = _rate(plan, PeriodState(), 800)
    assert first.total == Decimal("2.4")  # 800 × 3/1000
    second = _rate(plan, first.state, 400)
    assert [(ln.quantity, ln.unit_price * 1000, ln.amount) for ln in second.lines] == [
        (800, -1, Decimal("-0.8")),  # re-priced from tier 1 to tier 2
        (400, 2, Decimal("0.8")),
    ]
    assert first.total + second.total == Decimal("2.4")  # 1,200 × 2/1000


def test_package_rounds_up_started_packages() -> None:
    plan = _plan({"kind": "package", "name": "pkg", "size": 1000, "price": "0.50"})
    first = _rate(plan, PeriodState(), 1)
    second = _rate(plan, first.state, 999)
    third = _rate(plan, second.state, 1)
    assert (first.total, second.total, third.total) == (Decimal("0.50"), 0, Decimal("0.50"))


def test_free_quota_covers_list_price_lines_then_list_price_applies() -> None:
    plan = _plan({"kind": "per_token"}, {"kind": "free_quota", "name": "trial",
                                         "included": 1_500_000})
    first = _rate(plan, PeriodState(), 1_000_000)
    assert first.total == 0 and all(ln.component == "trial" for ln in first.lines)
    second = _rate(plan, first.state, 1_000_000)  # 500k input, 500k output; 500k left free
    assert [(ln.category, ln.quantity, ln.amount) for ln in second.lines] == [
        ("input", 500_000, 0), ("output", 500_000, Decimal("5.00"))]
    assert isinstance(plan.components[1], FreeQuota)


def test_two_part_with_list_overage() -> None:
    plan = _plan({"kind": "per_token"}, {"kind": "two_part", "name": "pro", "fee": "10",
                                         "included": 1_000_000, "overage": "list"})
    fee, state = open_period(plan, PeriodState(), "USD")
    again, state = open_period(plan, state, "USD")
    assert [ln.amount for ln in fee] == [Decimal("10")] and again == ()
    rating = _rate(plan, state, 2_000_000)
    assert rating.total == Decimal("10.00")  # 1M input covered, 1M output × $10/M


def test_minimum_commitment_bills_the_shortfall_at_close() -> None:
    plan = _plan({"kind": "per_token"}, {"kind": "minimum_commitment", "name": "min",
                                         "minimum": "100"})
    rating = _rate(plan, PeriodState(), 2_000_000)
    lines, state = close_period(plan, rating.state, "USD")
    assert [ln.amount for ln in lines] == [Decimal("87.50")] and state.rated_total == 100
    assert isinstance(plan.components[1], MinimumCommitment)
    big, _ = close_period(plan, PeriodState(rated_total=Decimal(150)), "USD")
    assert big == ()


def test_markup_percent_and_fixed() -> None:
    plan = _plan({"kind": "per_token"}, {"kind": "markup", "name": "m", "percent": "20",
                                         "applies_to": ["output"]})
    rating = _rate(plan, PeriodState(), 2_000_000)
    assert rating.lines[-1].amount == Decimal("2.000")  # 20 % of the $10 output line only
    assert rating.lines[-1].quantity == Decimal("10.00")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 20_000), min_size=1, max_size=8),
       st.sampled_from(["graduated", "volume", "package"]))
def test_rating_call_by_call_equals_rating_the_sum(calls: list[int], kind: str) -> None:
    """OpenMeter's split-run property: the period total does not depend on how it is split."""
    spec: dict[str, Any] = {"kind": kind, "name": kind, "meter": "input_tokens"}
    spec |= ({"size": 1000, "price": "0.5"} if kind == "package" else
             {"per": 1000, "tiers": TIERS})
    plan = _plan(spec)
    state, split_total = PeriodState(), Decimal(0)
    for tokens in calls:
        rating = default_pricer().rate(Usage(input_tokens=tokens), model="gpt-4o", at=AT,
                                       plan=plan, state=state)
        split_total += rating.total
        state = rating.state
    whole = default_pricer().rate(Usage(input_tokens=sum(calls)), model="gpt-4o", at=AT,
                                  plan=plan, state=PeriodState())
    assert split_total == whole.total == state.rated_total


@dataclass(frozen=True)
class QualityScaled(ChargeModelBase):
    """A toy pay-for-quality model: scales the lines so far by a quality score signal."""

    kind: ClassVar[str] = "test_quality_scaled"
    name: str = "quality"

    def rate(self, call: Call, lines: tuple[ChargeLine, ...], state: PeriodState) -> Step:
        score = call.signals.get("quality_score", Decimal(1))
        base = sum((ln.amount for ln in lines), Decimal(0))
        return Step((*lines, line("quality", base, "USD", score - 1,
                                  f"quality score {score}", component=self.name)), state)


def test_the_protocol_takes_a_pay_for_quality_model_without_changes() -> None:
    registry = ChargeModelRegistry()
    registry.register("test_quality_scaled", lambda name, config: QualityScaled(name))
    model = registry.build("q", {"kind": "test_quality_scaled"}, "test")
    assert isinstance(model, ChargeModel)
    plan = Plan("q", (CHARGE_MODELS.build("list", {"kind": "per_token"}, "t"), model))
    rating = default_pricer().rate(Usage(input_tokens=1_000_000), model="gpt-4o", at=AT,
                                   plan=plan, signals={"quality_score": Decimal("0.8")})
    assert rating.total == Decimal("2.00")  # 2.50 scaled by 0.8
    with pytest.raises(PlanError, match="already registered"):
        registry.register("test_quality_scaled", lambda name, config: QualityScaled(name))


@pytest.mark.parametrize(("charge", "error", "message"), [
    ({"kind": "nope"}, PlanError, "is not a charge model"),
    ({"kind": "graduated", "tiers": [{"unit_price": "1"}, {"up_to": 5, "unit_price": "1"}]},
     PlanError, "increasing up_to"),
    ({"kind": "graduated"}, PlanError, "tiers"),
    ({"kind": "two_part", "fee": 20.0, "included": 10}, PriceFloatError, 'fee = "20.0"'),
    ({"kind": "two_part", "fee": "20", "included": -1}, PlanError, "non-negative integer"),
    ({"kind": "markup"}, PlanError, "percent"),
    ({"kind": "package", "size": 0, "price": "1"}, PlanError, "at least 1"),
    ({"kind": "per_token", "extra": 1}, PlanError, "unknown key"),
    ({"kind": "graduated", "meter": "bananas", "tiers": TIERS}, PlanError, "unknown meter"),
])
def test_bad_plans_name_the_key(charge: dict[str, Any], error: type[Exception],
                                message: str) -> None:
    with pytest.raises(error, match=message):
        _plan(charge)


def test_unknown_plan_and_currency_mismatch() -> None:
    with pytest.raises(UnknownPlanError, match=r"known plans: list"):
        get_plan({}, "gold")
    plan = _plan({"kind": "per_token"}, currency="CNY")
    with pytest.raises(CurrencyMismatchError, match="--convert"):
        _rate(plan, PeriodState(), 10)
    converted = default_pricer().rate(Usage(input_tokens=1_000_000), model="gpt-4o",
                                      at="2026-02-01", plan=plan, currency="CNY", convert=True)
    assert converted.currency == "CNY"


def test_period_state_is_immutable_and_keyed_by_component() -> None:
    state = PeriodState().with_used("a", Decimal(5))
    assert state.used_by("a") == 5 and PeriodState().used_by("a") == 0
    with pytest.raises(TypeError):
        state.used["a"] = Decimal(1)  # type: ignore[index]
    assert Config({"x": 1}, "w").count("x") == 1
    assert dt.UTC  # the module keeps datetime for annotations in examples
