"""Agreement between two raters (a judge model and reference labels): Cohen's kappa.

    κ = (p_o − p_e) / (1 − p_e)

with p_o the observed share of agreement and p_e the agreement expected by chance from each
rater's own label frequencies (J. Cohen, "A coefficient of agreement for nominal scales",
Educational and Psychological Measurement 20(1), 1960, pp. 37–46). Its large-sample standard
error, as Cohen gives it for testing and bounding κ, is

    σ_κ = √( p_o (1 − p_o) / (N (1 − p_e)²) )

:func:`expected_kappa` is the κ to expect from a judge that is right with probability
``accuracy`` on every item, independently, against labels with a share ``prevalence`` of
positives — the simulated judge of ``ciyuan.sim.judging`` is such a judge, so tests compare
the measured κ with it.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

__all__ = ["Agreement", "cohen_kappa", "expected_kappa", "kappa_from_table"]


@dataclass(frozen=True)
class Agreement:
    kappa: float
    observed: float  # p_o
    expected: float  # p_e, by chance
    n: int
    standard_error: float  # Cohen's (1960) large-sample σ_κ


def kappa_from_table(table: Sequence[Sequence[int]]) -> Agreement:
    """κ of a k × k contingency table: ``table[i][j]`` items rater 1 put in class i and
    rater 2 in class j."""
    k = len(table)
    if k < 2 or any(len(row) != k for row in table) or any(c < 0 for r in table for c in r):
        raise ValueError("a kappa table is square, at least 2 × 2, of counts >= 0")
    n = sum(map(sum, table))
    if n == 0:
        raise ValueError("a kappa table needs at least one item")
    observed = sum(table[i][i] for i in range(k)) / n
    rows = [sum(table[i]) / n for i in range(k)]
    cols = [sum(table[i][j] for i in range(k)) / n for j in range(k)]
    expected = math.fsum(r * c for r, c in zip(rows, cols, strict=True))
    if expected >= 1.0:  # both raters used one class only: agreement is undefined
        raise ValueError("kappa is undefined when both raters use a single class")
    kappa = (observed - expected) / (1 - expected)
    error = math.sqrt(observed * (1 - observed) / (n * (1 - expected) ** 2))
    return Agreement(kappa, observed, expected, n, error)


def cohen_kappa(first: Sequence[Hashable], second: Sequence[Hashable]) -> Agreement:
    """κ between two raters' labels of the same items, in the same order."""
    if len(first) != len(second):
        raise ValueError(f"the raters labelled {len(first)} and {len(second)} items")
    classes = sorted({*first, *second}, key=repr)
    if len(classes) == 1:
        classes.append(object())  # a class nobody used: the table stays 2 × 2
    index = {c: i for i, c in enumerate(classes)}
    table = [[0] * len(classes) for _ in classes]
    for a, b in zip(first, second, strict=True):
        table[index[a]][index[b]] += 1
    return kappa_from_table(table)


def expected_kappa(accuracy: float, prevalence: float) -> tuple[float, float]:
    """(κ, p_e) of a binary judge right with probability ``accuracy`` on each item, against
    labels whose positive share is ``prevalence``."""
    assert 0 <= accuracy <= 1 and 0 <= prevalence <= 1
    says_yes = prevalence * accuracy + (1 - prevalence) * (1 - accuracy)
    chance = prevalence * says_yes + (1 - prevalence) * (1 - says_yes)
    return (accuracy - chance) / (1 - chance), chance
