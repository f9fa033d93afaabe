"""The quality index: accuracy per model × task class with bootstrap confidence intervals,
the overall index as the macro average over task classes, and cost of pass.

Each scored item contributes its score value in [0, 1]; items whose scorer failed are counted
as errors and left out of the means (reported, never silently scored 0). Intervals are
percentile bootstrap intervals: items are resampled with replacement within each task class
(stratified, so every resample keeps the suite's mix), ``resamples`` times, from a seeded
generator, so the same results always give the same interval.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["BOOTSTRAP_RESAMPLES", "Estimate", "ModelQuality", "Result", "quality_index"]

#: Bootstrap resamples per interval.
BOOTSTRAP_RESAMPLES = 2000


@dataclass(frozen=True)
class Result:
    """One scored item of one model."""

    model: str
    task: str
    item: str
    value: float
    passed: bool
    error: bool = False
    cost_nano: int = 0
    tokens: int = 0


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float  # the interval's bounds (95 % by default)
    high: float
    n: int


@dataclass(frozen=True)
class ModelQuality:
    model: str
    overall: Estimate
    by_task: dict[str, Estimate]
    errors: int
    cost_of_pass_nano: dict[str, int | None]  # per task: cost of all its items ÷ items passed
    tokens_per_pass: dict[str, float | None]


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    position = q * (len(sorted_values) - 1)
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _estimates(groups: dict[str, list[float]], rng: random.Random, resamples: int,
               level: float) -> tuple[Estimate, dict[str, Estimate]]:
    tasks = sorted(t for t, v in groups.items() if v)
    per_task: dict[str, list[float]] = {t: [] for t in tasks}
    overall: list[float] = []
    for _ in range(resamples):
        means = {}
        for task in tasks:
            values = groups[task]
            means[task] = _mean([values[rng.randrange(len(values))] for _ in values])
            per_task[task].append(means[task])
        overall.append(_mean(list(means.values())))
    tail = (1 - level) / 2

    def estimate(point: float, draws: list[float], n: int) -> Estimate:
        draws.sort()
        return Estimate(point, _percentile(draws, tail), _percentile(draws, 1 - tail), n)

    by_task = {t: estimate(_mean(groups[t]), per_task[t], len(groups[t])) for t in tasks}
    point = _mean([by_task[t].mean for t in tasks])
    return estimate(point, overall, sum(len(groups[t]) for t in tasks)), by_task


def quality_index(results: Iterable[Result], *, resamples: int = BOOTSTRAP_RESAMPLES,
                  level: float = 0.95, seed: int = 0) -> dict[str, ModelQuality]:
    """The quality of every model in ``results``."""
    grouped: dict[str, dict[str, list[Result]]] = defaultdict(lambda: defaultdict(list))
    for result in results:
        grouped[result.model][result.task].append(result)
    out = {}
    for model in sorted(grouped):
        tasks = grouped[model]
        # in item order, so the interval does not depend on the order results arrive in
        values = {t: [r.value for r in sorted(rs, key=lambda r: r.item) if not r.error]
                  for t, rs in tasks.items()}
        if not any(values.values()):
            continue
        overall, by_task = _estimates(values, random.Random(f"{seed}:{model}"), resamples,
                                      level)
        cost, tokens = {}, {}
        for task, rs in sorted(tasks.items()):
            passed = sum(r.passed for r in rs if not r.error)
            cost[task] = sum(r.cost_nano for r in rs) // passed if passed else None
            tokens[task] = sum(r.tokens for r in rs) / passed if passed else None
        out[model] = ModelQuality(model, overall, by_task,
                                  sum(r.error for rs in tasks.values() for r in rs),
                                  cost, tokens)
    return out
