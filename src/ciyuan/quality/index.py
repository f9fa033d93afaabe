"""The quality index: accuracy per model × task class with bootstrap confidence intervals,
the overall index as the macro average over task classes, and cost of pass; and the
four-dimension profile (accuracy, completeness, efficiency, robustness) with the combined
score (:func:`quality_profile`; docs/methods/quality-index.md).

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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

__all__ = ["BOOTSTRAP_RESAMPLES", "DEFAULT_WEIGHTS", "DIMENSIONS", "Efficiency", "Estimate",
           "ModelQuality", "Profile", "Result", "quality_index", "quality_profile"]

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
    latency_ms: float | None = None  # the call's, when the results file recorded it
    scorer: str = ""


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


DIMENSIONS = ("accuracy", "completeness", "efficiency", "robustness")
#: Weights of the dimensions in the combined score (a weighted geometric mean): accuracy
#: counts most, as the dimension every item measures; the other three share the rest.
DEFAULT_WEIGHTS: dict[str, float] = {"accuracy": 0.4, "completeness": 0.2, "efficiency": 0.2,
                                     "robustness": 0.2}


@dataclass(frozen=True)
class Efficiency:
    cost_of_pass_nano: Estimate | None  # all items' cost ÷ items passed (None: costs unknown)
    tokens_per_pass: Estimate | None
    latency_ms: Estimate | None  # mean per call (None: not recorded)
    latency_ms_p95: float | None
    score: float | None  # in [0, 1]: the best compared model's figure ÷ this model's
    basis: tuple[str, ...]  # what the score compares: "cost" or "tokens", and "latency"
    #: the figures measured ("cost", "tokens" per pass, "latency" per call); inf per pass
    #: when nothing passed
    figures: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    model: str
    accuracy: Estimate  # the macro index above
    completeness: Estimate | None  # mean score of the items with required points
    efficiency: Efficiency
    robustness: Estimate | None  # consistency under perturbations and seeds
    accuracy_drop: float | None  # mean original score - mean variant score
    combined: float | None
    combined_over: tuple[str, ...]  # the dimensions that had data

    def scores(self) -> dict[str, float | None]:
        """Each dimension's score in [0, 1] (None: no data)."""
        return {"accuracy": self.accuracy.mean,
                "completeness": self.completeness.mean if self.completeness else None,
                "efficiency": self.efficiency.score,
                "robustness": self.robustness.mean if self.robustness else None}


def _bootstrap(rows: Sequence[tuple[float, ...]], stat: Callable[[Sequence[tuple[float, ...]]],
               float | None], rng: random.Random, resamples: int, level: float
               ) -> Estimate | None:
    """``stat`` of ``rows`` with a percentile bootstrap interval (rows resampled)."""
    point = stat(rows) if rows else None
    if point is None:
        return None
    draws = sorted(d for _ in range(resamples)
                   if (d := stat([rows[rng.randrange(len(rows))] for _ in rows])) is not None)
    tail = (1 - level) / 2
    return Estimate(point, _percentile(draws, tail), _percentile(draws, 1 - tail), len(rows))


def _column_mean(rows: Sequence[tuple[float, ...]]) -> float:
    return _mean([r[0] for r in rows])


def _per_pass(rows: Sequence[tuple[float, ...]]) -> float | None:
    passed = sum(r[1] for r in rows)
    return math.fsum(r[0] for r in rows) / passed if passed else None


def _efficiency(results: list[Result], rng: random.Random, resamples: int,
                level: float) -> Efficiency:
    scored = [r for r in results if not r.error]
    has_cost = bool(scored) and all(r.cost_nano > 0 for r in scored)
    has_tokens = bool(scored) and all(r.tokens > 0 for r in scored)
    cost = _bootstrap([(float(r.cost_nano), float(r.passed)) for r in scored], _per_pass, rng,
                      resamples, level) if has_cost else None
    tokens = _bootstrap([(float(r.tokens), float(r.passed)) for r in scored], _per_pass, rng,
                        resamples, level) if has_tokens else None
    latencies = [r.latency_ms for r in results if r.latency_ms is not None]
    latency = _bootstrap([(x,) for x in latencies], _column_mean, rng, resamples, level)
    p95 = _percentile(sorted(latencies), 0.95) if latencies else None
    figures = {}
    if has_cost:
        figures["cost"] = cost.mean if cost else math.inf
    if has_tokens:
        figures["tokens"] = tokens.mean if tokens else math.inf
    if latency is not None:
        figures["latency"] = latency.mean
    return Efficiency(cost, tokens, latency, p95, None, (), figures)


def _normalise(efficiency: dict[str, Efficiency]) -> dict[str, Efficiency]:
    """Each model's efficiency score: per figure the best model's value ÷ its own (lower is
    better), geometric mean over the figures every compared model has."""
    figures = {m: e.figures for m, e in efficiency.items()}
    shared = set.intersection(*(set(f) for f in figures.values())) if figures else set()
    shared = {k for k in shared if min(f[k] for f in figures.values()) < math.inf}
    basis = tuple(k for k in (("cost",) if "cost" in shared else ("tokens",) if "tokens" in
                              shared else ()) + (("latency",) if "latency" in shared else ()))
    out = {}
    for model, e in efficiency.items():
        ratios = [min(f[k] for f in figures.values()) / figures[model][k]
                  if figures[model][k] > 0 else 1.0 for k in basis]  # inf: ratio 0
        score = None if not ratios else 0.0 if min(ratios) <= 0 else \
            math.exp(_mean([math.log(r) for r in ratios]))
        out[model] = replace(e, score=score, basis=basis if score is not None else ())
    return out


def _combine(scores: Mapping[str, float | None], weights: Mapping[str, float]
             ) -> tuple[float | None, tuple[str, ...]]:
    """The weighted geometric mean of the dimensions that have data (weights renormalised);
    a dimension at 0 makes the whole 0 (a good price does not buy back a wrong answer)."""
    present = tuple(d for d in DIMENSIONS if scores.get(d) is not None and weights.get(d, 0) > 0)
    if not present:
        return None, ()
    values = {d: float(scores[d] or 0.0) for d in present}
    if any(v <= 0 for v in values.values()):
        return 0.0, present
    total = math.fsum(weights[d] for d in present)
    return math.exp(math.fsum(weights[d] * math.log(values[d]) for d in present) / total), \
        present


def quality_profile(results: Iterable[Result],
                    consistency: Mapping[str, tuple[Sequence[bool], float]] | None = None, *,
                    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
                    resamples: int = BOOTSTRAP_RESAMPLES, level: float = 0.95,
                    seed: int = 0) -> dict[str, Profile]:
    """The four-dimension profile of every model in ``results``. ``consistency`` holds, per
    model, whether each item was answered alike under all its variants and the accuracy drop
    (ciyuan.quality.robustness); efficiency is normalised over the models given."""
    results = list(results)
    index = quality_index(results, resamples=resamples, level=level, seed=seed)
    by_model: dict[str, list[Result]] = defaultdict(list)
    for result in sorted(results, key=lambda r: (r.model, r.item)):
        by_model[result.model].append(result)
    efficiency, parts = {}, {}
    for model in index:
        rng = random.Random(f"{seed}:{model}:profile")
        points = [(r.value,) for r in by_model[model]
                  if r.scorer == "completeness" and not r.error]
        completeness = _bootstrap(points, _column_mean, rng, resamples, level)
        robust, drop = None, None
        if consistency and model in consistency and consistency[model][0]:
            flags, drop = consistency[model]
            robust = _bootstrap([(float(f),) for f in flags], _column_mean, rng, resamples,
                                level)
        efficiency[model] = _efficiency(by_model[model], rng, resamples, level)
        parts[model] = (completeness, robust, drop)
    out = {}
    for model, e in _normalise(efficiency).items():
        completeness, robust, drop = parts[model]
        profile = Profile(model, index[model].overall, completeness, e, robust, drop, None, ())
        combined, over = _combine(profile.scores(), weights)
        out[model] = replace(profile, combined=combined, combined_over=over)
    return out
