"""pay_for_quality: linear and tiered multipliers, floor/cap clamps, missing scores, config."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ciyuan.core.usage import Usage
from ciyuan.price import Plan, default_pricer
from ciyuan.price.charges import PayForQuality, QualityTier
from ciyuan.price.engine import parse_plans
from ciyuan.price.errors import ChargeSignalError, PlanError, PriceFloatError
from ciyuan.price.lines import Rating

AT = "2026-01-15"
LIST = {"kind": "per_token"}
MILLION_IN = Usage(input_tokens=1_000_000)  # gpt-4o: 2.50 USD at list price


def _plan(*charges: dict[str, Any]) -> Plan:
    return parse_plans({"p": {"charges": list(charges)}})["p"]


def _rate(plan: Plan, score: str | None, usage: Usage = MILLION_IN) -> Rating:
    signals = {} if score is None else {"quality_score": Decimal(score)}
    return default_pricer().rate(usage, model="gpt-4o", at=AT, plan=plan, signals=signals)


LINEAR = _plan(LIST, {"kind": "pay_for_quality", "name": "q", "floor": "0.5", "cap": "1.5"})


@pytest.mark.parametrize(("score", "total"), [
    ("0", "1.25"),      # the floor: 2.50 × 0.5
    ("0.5", "2.50"),    # 0.5 + 1.0 × 0.5 = 1
    ("0.8", "3.25"),    # 0.5 + 1.0 × 0.8 = 1.3
    ("1", "3.75"),      # the cap
])
def test_linear_runs_from_floor_to_cap(score: str, total: str) -> None:
    rating = _rate(LINEAR, score)
    assert rating.total == Decimal(total)
    list_line, quality = rating.lines
    assert list_line.amount == Decimal("2.50") and quality.category == "quality"
    assert quality.amount == quality.quantity * quality.unit_price  # exact
    assert f"quality score {score}" in quality.rule and "within [0.5, 1.5]" in quality.rule


def test_a_formula_is_clamped_to_floor_and_cap() -> None:
    # nothing below a score of 0.5, full price at 0.75, capped at 1.2 from 0.85 up
    plan = _plan(LIST, {"kind": "pay_for_quality", "name": "q", "floor": "0", "cap": "1.2",
                        "intercept": "-2", "slope": "4"})
    assert _rate(plan, "0.3").total == 0
    assert "clamped from -0.8" in _rate(plan, "0.3").lines[-1].rule
    assert _rate(plan, "0.5").total == 0
    assert _rate(plan, "0.75").total == Decimal("2.50")
    assert _rate(plan, "0.8").total == Decimal("3.00")     # 1.2
    assert _rate(plan, "0.99").total == Decimal("3.00")    # 1.96 clamped to the cap


TIERED = _plan(LIST, {"kind": "pay_for_quality", "name": "q", "floor": "0.2", "cap": "1.2",
                      "tiers": [{"min_score": "0.5", "multiplier": "0.8"},
                                {"min_score": "0.9", "multiplier": "1.2"}]})


@pytest.mark.parametrize(("score", "total", "tier"), [
    ("0.499999999", "0.50", "quality tier 0"),   # below the lowest tier: the floor
    ("0.5", "2.00", "quality tier 1"),           # the threshold is inclusive
    ("0.899999999", "2.00", "quality tier 1"),
    ("0.9", "3.00", "quality tier 2"),
    ("1", "3.00", "quality tier 2"),
])
def test_tier_edges(score: str, total: str, tier: str) -> None:
    rating = _rate(TIERED, score)
    assert rating.total == Decimal(total)
    assert rating.lines[-1].tier == tier


def test_a_call_without_a_score_pays_the_missing_multiplier() -> None:
    assert _rate(LINEAR, None).total == Decimal("2.50")  # default missing = 1
    assert "no quality score" in _rate(LINEAR, None).lines[-1].rule
    strict = _plan(LIST, {"kind": "pay_for_quality", "floor": "0.5", "cap": "1.5",
                          "missing": "0.5"})
    assert _rate(strict, None).total == Decimal("1.25")


def test_a_unit_price_is_scaled_instead_of_the_lines() -> None:
    plan = _plan({"kind": "pay_for_quality", "name": "q", "floor": "0", "cap": "1",
                  "unit_price": "4.00", "meter": "output_tokens"})
    rating = _rate(plan, "0.75", Usage(input_tokens=10, output_tokens=250_000))
    (only,) = rating.lines
    assert (only.category, only.quantity, only.unit_price) == (
        "output_tokens", Decimal(250_000), Decimal("0.000003"))
    assert rating.total == Decimal("0.75")  # 250k × 4.00/M × 0.75


def test_applies_to_limits_the_base() -> None:
    plan = _plan(LIST, {"kind": "pay_for_quality", "floor": "0", "cap": "1",
                        "applies_to": ["output"]})
    rating = _rate(plan, "0.5", Usage(input_tokens=1_000_000, output_tokens=100_000))
    assert rating.total == Decimal("3.00")  # 2.50 input untouched + 1.00 output × 0.5


def test_other_models_pass_through() -> None:
    plan = _plan(LIST, {"kind": "pay_for_quality", "floor": "0", "cap": "1",
                        "models": ["deepseek-chat"]})
    assert _rate(plan, "0").total == Decimal("2.50")


@pytest.mark.parametrize("score", ["-0.1", "1.01", "NaN"])
def test_a_score_outside_zero_to_one_is_refused(score: str) -> None:
    with pytest.raises(ChargeSignalError) as caught:
        _rate(LINEAR, score)
    assert caught.value.code == "charge-signal-invalid"


@pytest.mark.parametrize(("extra", "message"), [
    ({"floor": "1.5", "cap": "1"}, "is above cap"),
    ({"floor": "0.5", "cap": "0.9"}, "missing = 1 is outside"),
    ({"floor": "0", "cap": "1", "tiers": [{"min_score": "0.5", "multiplier": "1.1"}]},
     "outside \\[floor, cap\\]"),
    ({"floor": "0", "cap": "1", "tiers": [{"min_score": "0.5", "multiplier": "1"},
                                          {"min_score": "0.5", "multiplier": "1"}]},
     "increasing min_score"),
    ({"floor": "0", "cap": "1", "tiers": [{"min_score": "1.5", "multiplier": "1"}]},
     "increasing min_score"),
    ({"floor": "0", "cap": "1", "tiers": []}, "expected 1 to 20"),
    ({"floor": "0", "cap": "1", "slope": "1", "tiers": [{"min_score": "0", "multiplier": "1"}]},
     "not both"),
    ({"floor": "0", "cap": "1", "slope": "steep"}, "expected a quoted decimal"),
    ({"cap": "1"}, "floor: missing"),
    ({"floor": "0", "cap": "1", "colour": "red"}, "unknown key"),
])
def test_bad_config_is_a_plan_error(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(PlanError, match=message) as caught:
        _plan({"kind": "pay_for_quality", **extra})
    assert caught.value.code == "plan-invalid"


def test_a_float_coefficient_is_refused_as_a_float() -> None:
    with pytest.raises(PriceFloatError):
        _plan({"kind": "pay_for_quality", "floor": "0", "cap": "1", "intercept": 0.5})


bounds = st.tuples(st.decimals(0, 5, places=3), st.decimals(0, 5, places=3)).map(sorted)
scores = st.decimals(0, 1, places=9)
coefficients = st.decimals(-10, 10, places=4)


@settings(max_examples=300, deadline=None)
@given(bounds=bounds, score=scores, intercept=coefficients, slope=coefficients,
       thresholds=st.lists(st.decimals(0, 1, places=3), min_size=1, max_size=5, unique=True),
       multipliers=st.lists(st.decimals(-5, 10, places=3), min_size=5, max_size=5))
def test_the_multiplier_always_lies_within_floor_and_cap(
        bounds: list[Decimal], score: Decimal, intercept: Decimal, slope: Decimal,
        thresholds: list[Decimal], multipliers: list[Decimal]) -> None:
    floor, cap = bounds
    linear = PayForQuality("q", floor, cap, floor, intercept=intercept, slope=slope)
    # built directly, tiers may hold multipliers config would refuse: they are clamped too
    tiers = tuple(QualityTier(t, m) for t, m in zip(sorted(thresholds), multipliers,
                                                    strict=False))
    tiered = PayForQuality("q", floor, cap, floor, tiers=tiers)
    for model in (linear, tiered):
        value, _, _ = model.multiplier(score)
        assert floor <= value <= cap
