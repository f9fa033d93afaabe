"""Bilateral and chained price indexes over matched cells (Laspeyres, Paasche, Fisher,
Törnqvist). A period is a mapping of cell key -> (unit price, quantity)."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

from ciyuan.stats.errors import NoMatchedCellsError, UnknownIndexFormulaError

__all__ = ["FORMULAS", "chain", "fisher", "laspeyres", "matched_cells", "paasche", "tornqvist"]

K = TypeVar("K", bound=Hashable)
#: One period: cell key -> (unit price, quantity).
Period = Mapping[K, tuple[float, float]]


def matched_cells(p0: Period[K], p1: Period[K]) -> list[K]:
    """Cells priced above zero in both periods."""
    return [k for k in p0 if k in p1 and p0[k][0] > 0 and p1[k][0] > 0
            and p0[k][1] >= 0 and p1[k][1] >= 0]


def _matched(p0: Period[K], p1: Period[K]) -> list[K]:
    keys = matched_cells(p0, p1)
    if not keys or math.fsum(p0[k][0] * p0[k][1] for k in keys) == 0 \
            or math.fsum(p1[k][0] * p1[k][1] for k in keys) == 0:
        raise NoMatchedCellsError(
            "no cell has a price and a quantity in both periods, so no index links them; "
            "the chain is broken here", matched=len(keys))
    return keys


def laspeyres(p0: Period[K], p1: Period[K]) -> float:
    keys = _matched(p0, p1)
    return (math.fsum(p1[k][0] * p0[k][1] for k in keys)
            / math.fsum(p0[k][0] * p0[k][1] for k in keys))


def paasche(p0: Period[K], p1: Period[K]) -> float:
    keys = _matched(p0, p1)
    return (math.fsum(p1[k][0] * p1[k][1] for k in keys)
            / math.fsum(p0[k][0] * p1[k][1] for k in keys))


def fisher(p0: Period[K], p1: Period[K]) -> float:
    return math.sqrt(laspeyres(p0, p1) * paasche(p0, p1))


def tornqvist(p0: Period[K], p1: Period[K]) -> float:
    keys = _matched(p0, p1)
    e0 = math.fsum(p0[k][0] * p0[k][1] for k in keys)
    e1 = math.fsum(p1[k][0] * p1[k][1] for k in keys)
    return math.exp(math.fsum(
        (p0[k][0] * p0[k][1] / e0 + p1[k][0] * p1[k][1] / e1) / 2
        * math.log(p1[k][0] / p0[k][0]) for k in keys))


FORMULAS = {"laspeyres": laspeyres, "paasche": paasche, "fisher": fisher,
            "tornqvist": tornqvist}


def chain(periods: Sequence[Period[K]], formula: str = "tornqvist",
          base: float = 100.0) -> list[float]:
    """Chained levels: the first period is ``base``."""
    try:
        link = FORMULAS[formula]
    except KeyError:
        raise UnknownIndexFormulaError(
            f"unknown index formula {formula!r}; use one of {', '.join(FORMULAS)}",
            formula=formula) from None
    levels = [base] if periods else []
    for p0, p1 in zip(periods, periods[1:], strict=False):
        levels.append(levels[-1] * link(p0, p1))
    return levels
