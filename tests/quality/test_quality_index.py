"""The quality index: means, macro average, bootstrap intervals, errors, cost of pass."""

from __future__ import annotations

import random

import pytest

from ciyuan.quality.index import Result, quality_index


def _results(model: str, task: str, accuracy: float, n: int, seed: int) -> list[Result]:
    rng = random.Random(seed)
    return [Result(model, task, f"{task}-{i}", float(ok), ok, cost_nano=1_000, tokens=100)
            for i, ok in enumerate(rng.random() < accuracy for _ in range(n))]


def test_means_macro_average_and_cost_of_pass() -> None:
    results = [Result("m", "math", "a", 1.0, True, cost_nano=300, tokens=30),
               Result("m", "math", "b", 0.0, False, cost_nano=300, tokens=30),
               Result("m", "qa", "c", 0.5, False, cost_nano=100, tokens=10),
               Result("m", "qa", "d", 1.0, True, cost_nano=100, tokens=10),
               Result("m", "qa", "e", 0.0, False, error=True)]
    q = quality_index(results, resamples=200)["m"]
    assert q.by_task["math"].mean == 0.5 and q.by_task["qa"].mean == 0.75
    assert q.overall.mean == pytest.approx((0.5 + 0.75) / 2)  # each task class counts once
    assert q.errors == 1 and q.by_task["qa"].n == 2  # the failed scorer is not a zero
    assert q.cost_of_pass_nano == {"math": 600, "qa": 200}
    assert q.tokens_per_pass == {"math": 60.0, "qa": 20.0}


def test_intervals_cover_the_truth_and_shrink_with_n() -> None:
    small = quality_index(_results("m", "math", 0.7, 60, 1), resamples=1000)["m"].by_task["math"]
    large = quality_index(_results("m", "math", 0.7, 2000, 2), resamples=1000)["m"].by_task["math"]
    assert small.low <= small.mean <= small.high
    assert large.low <= 0.7 <= large.high
    assert (large.high - large.low) < (small.high - small.low) / 3
    # the normal approximation of a proportion's 95 % interval, as a cross-check
    half = 1.96 * (large.mean * (1 - large.mean) / large.n) ** 0.5
    assert (large.high - large.low) / 2 == pytest.approx(half, rel=0.15)


def test_the_same_results_give_the_same_interval() -> None:
    data = _results("m", "qa", 0.5, 100, 3) + _results("m", "code", 0.8, 50, 4)
    assert quality_index(data, seed=5) == quality_index(list(reversed(data)), seed=5)
