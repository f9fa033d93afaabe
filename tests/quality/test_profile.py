"""Robustness from variant rows, and the four-dimension profile with its combination."""

from __future__ import annotations

import math

import pytest

from ciyuan.quality.index import DEFAULT_WEIGHTS, Result, quality_profile
from ciyuan.quality.robustness import robustness


def _row(model: str, item: str, passed: bool, value: float | None = None) -> dict[str, object]:
    return {"model": model, "item": item, "passed": passed,
            "value": float(passed) if value is None else value, "error": ""}


def test_consistency_agreement_and_accuracy_drop() -> None:
    originals = [_row("m", "a", True), _row("m", "b", True), _row("m", "c", False),
                 {**_row("m", "d", True), "error": "boom"}]
    variant_rows = [_row("m", "a~typos.0", True), _row("m", "a~paraphrase.0", True),
                    _row("m", "b~typos.0", False), _row("m", "b~paraphrase.0", True),
                    _row("m", "c~typos.0", False), _row("m", "c~paraphrase.0", True),
                    _row("m", "d~typos.0", False),  # its original's scorer failed: left out
                    _row("m", "zzz~typos.0", True)]  # no original: left out
    r = robustness(originals, variant_rows)["m"]
    assert (r.items, r.variants) == (3, 6)
    assert r.consistent == (True, False, False) and r.consistency == pytest.approx(1 / 3)
    assert r.agreement == pytest.approx(4 / 6)
    assert r.accuracy_drop == pytest.approx((0 + 0.5 + -0.5) / 3)
    assert r.by_kind["typos"] == pytest.approx((2 / 3, 1 / 3))
    assert r.by_kind["paraphrase"] == pytest.approx((2 / 3, -1 / 3))


def _results(model: str, passes: list[bool], cost: int, latency: float,
             completeness: list[float] = ()) -> list[Result]:  # type: ignore[assignment]
    out = [Result(model, "qa", f"q{i}", float(p), p, cost_nano=cost, tokens=100,
                  latency_ms=latency, scorer="choice") for i, p in enumerate(passes)]
    out += [Result(model, "customer_service", f"c{i}", v, v >= 1.0, cost_nano=cost,
                   tokens=100, latency_ms=latency, scorer="completeness")
            for i, v in enumerate(completeness)]
    return out


def test_profile_dimensions_and_combination() -> None:
    cheap = _results("cheap", [True, False] * 10, cost=1_000, latency=100.0,
                     completeness=[1.0, 0.5, 0.5, 1.0])
    dear = _results("dear", [True] * 18 + [False] * 2, cost=4_000, latency=50.0)
    consistency = {"cheap": ((True, False, True, True), 0.1)}
    profiles = quality_profile(cheap + dear, consistency, resamples=300)
    c, d = profiles["cheap"], profiles["dear"]
    assert c.completeness is not None and c.completeness.mean == 0.75
    assert d.completeness is None and d.robustness is None  # no data: n/a, never made up
    assert c.robustness is not None and c.robustness.mean == 0.75 and c.accuracy_drop == 0.1
    # cost of pass: all items' cost ÷ passes; cheap passes 12 of 24, dear 18 of 20
    assert c.efficiency.cost_of_pass_nano is not None
    assert c.efficiency.cost_of_pass_nano.mean == pytest.approx(24 * 1000 / 12)
    assert d.efficiency.cost_of_pass_nano is not None
    assert d.efficiency.cost_of_pass_nano.mean == pytest.approx(20 * 4000 / 18)
    low, high = c.efficiency.cost_of_pass_nano.low, c.efficiency.cost_of_pass_nano.high
    assert low <= 2000 <= high
    assert c.efficiency.basis == ("cost", "latency")
    # efficiency: best ÷ own per figure, geometric mean over cost and latency
    assert c.efficiency.score == pytest.approx(math.sqrt(1.0 * 50 / 100))
    assert d.efficiency.score == pytest.approx(math.sqrt((2000 / (80000 / 18)) * 1.0))
    scores = c.scores()
    expected = math.exp(sum(DEFAULT_WEIGHTS[k] * math.log(v) for k, v in scores.items()
                            if v is not None) / sum(DEFAULT_WEIGHTS.values()))
    assert c.combined == pytest.approx(expected)
    assert c.combined_over == ("accuracy", "completeness", "efficiency", "robustness")
    assert d.combined_over == ("accuracy", "efficiency")  # weights renormalised over these
    wd = DEFAULT_WEIGHTS["accuracy"] + DEFAULT_WEIGHTS["efficiency"]
    assert d.combined == pytest.approx(math.exp(
        (DEFAULT_WEIGHTS["accuracy"] * math.log(d.accuracy.mean)
         + DEFAULT_WEIGHTS["efficiency"] * math.log(d.efficiency.score or 0)) / wd))


def test_unknown_costs_fall_back_to_tokens_and_a_zero_dimension_zeroes_the_whole() -> None:
    a = [Result("a", "qa", f"q{i}", 1.0, True, tokens=50) for i in range(5)]
    b = [Result("b", "qa", f"q{i}", 0.0, False, tokens=50) for i in range(5)]
    profiles = quality_profile(a + b, resamples=100)
    assert profiles["a"].efficiency.basis == ("tokens",)
    assert profiles["a"].efficiency.cost_of_pass_nano is None
    assert profiles["a"].efficiency.latency_ms is None
    assert profiles["b"].efficiency.score == 0.0  # nothing passed: cost of pass infinite
    assert profiles["b"].combined == 0.0  # accuracy 0: no other dimension buys it back
