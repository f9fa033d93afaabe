"""Bilateral and chained price indexes over matched cells.

A *period* maps a cell key (any hashable, e.g. ``(model, category)``) to ``(unit price,
quantity)``. Two periods are compared over their *matched cells*: keys present in both with
a finite price above zero and a finite quantity of at least zero in each. Everything else
(a model that appears or retires, an unpriced cell) is left out of the link and shows up in
the coverage that :func:`chain_steps` reports.

Every function returns a ratio (1.0 = no change) or index levels (``base`` = the first
period). Statistics, not money: floats are summed with :func:`math.fsum`. The method is
written up in ``docs/methods/price-index.md``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from ciyuan.core.errors import InputError
from ciyuan.stats.errors import NoMatchedCellsError, UnknownIndexFormulaError

__all__ = [
    "FORMULAS",
    "Formula",
    "IndexStep",
    "Period",
    "chain",
    "chain_steps",
    "direct",
    "fisher",
    "laspeyres",
    "matched_cells",
    "paasche",
    "tornqvist",
]

K = TypeVar("K", bound=Hashable)
#: One period: cell key -> (unit price, quantity).
Period = Mapping[K, tuple[float, float]]


def _usable(cell: tuple[float, float]) -> bool:
    price, quantity = cell
    return math.isfinite(price) and math.isfinite(quantity) and price > 0 and quantity >= 0


def matched_cells(p0: Period[K], p1: Period[K]) -> list[K]:
    """The keys that enter a link from ``p0`` to ``p1``, in ``p0``'s order."""
    return [k for k, cell in p0.items() if k in p1 and _usable(cell) and _usable(p1[k])]


def _expenditure(period: Period[K], keys: Sequence[K]) -> float:
    return math.fsum(period[k][0] * period[k][1] for k in keys)


def _link(p0: Period[K], p1: Period[K]) -> tuple[list[K], float, float]:
    """Matched keys and their total expenditure in each period; raises if no link exists."""
    keys = matched_cells(p0, p1)
    e0, e1 = _expenditure(p0, keys), _expenditure(p1, keys)
    if not keys or e0 == 0 or e1 == 0:
        raise NoMatchedCellsError(
            f"{len(keys)} cell(s) have a price and a quantity in both periods and they carry "
            "no expenditure in one of them, so no price index links the two periods; the "
            "chain breaks here (check that both periods have priced, consumed cells)",
            matched=len(keys))
    return keys, e0, e1


def laspeyres(p0: Period[K], p1: Period[K]) -> float:
    """Laspeyres: the period-0 basket priced at period-1 over period-0 prices."""
    keys, e0, _ = _link(p0, p1)
    return math.fsum(p1[k][0] * p0[k][1] for k in keys) / e0


def paasche(p0: Period[K], p1: Period[K]) -> float:
    """Paasche: the period-1 basket priced at period-1 over period-0 prices."""
    keys, _, e1 = _link(p0, p1)
    return e1 / math.fsum(p0[k][0] * p1[k][1] for k in keys)


def fisher(p0: Period[K], p1: Period[K]) -> float:
    """Fisher: the geometric mean of Laspeyres and Paasche."""
    return math.sqrt(laspeyres(p0, p1) * paasche(p0, p1))


def tornqvist(p0: Period[K], p1: Period[K]) -> float:
    """Törnqvist: exp of the log price relatives weighted by the two periods' mean shares."""
    keys, e0, e1 = _link(p0, p1)
    return math.exp(math.fsum(
        (p0[k][0] * p0[k][1] / e0 + p1[k][0] * p1[k][1] / e1) / 2
        * math.log(p1[k][0] / p0[k][0]) for k in keys))


class Formula(Protocol):
    """A bilateral index: two periods in, a ratio out."""

    def __call__(self, p0: Period[K], p1: Period[K], /) -> float: ...


#: The bilateral formulas by name, as ``chain`` and ``direct`` accept them.
FORMULAS: Mapping[str, Formula] = {
    "laspeyres": laspeyres, "paasche": paasche, "fisher": fisher, "tornqvist": tornqvist,
}


def _formula(name: str) -> Formula:
    try:
        return FORMULAS[name]
    except KeyError:
        raise UnknownIndexFormulaError(
            f"unknown index formula {name!r}; use one of {', '.join(FORMULAS)}",
            formula=name) from None


def chain(periods: Sequence[Period[K]], formula: str = "tornqvist",
          base: float = 100.0) -> list[float]:
    """Chained levels: the first period is ``base``, each next one the previous level times
    the link between consecutive periods. One level per period; ``[]`` for no period."""
    link = _formula(formula)
    levels = [base] if periods else []
    for p0, p1 in zip(periods, periods[1:], strict=False):
        levels.append(levels[-1] * link(p0, p1))
    return levels


def direct(periods: Sequence[Period[K]], formula: str = "tornqvist",
           base: float = 100.0) -> list[float]:
    """Fixed-base levels: every period compared with the first (for comparison with
    :func:`chain`; the two agree for two periods)."""
    link = _formula(formula)
    return [base] + [base * link(periods[0], p) for p in periods[1:]] if periods else []


@dataclass(frozen=True, slots=True)
class IndexStep:
    """One link of a chain, with the coverage the release reports beside it."""

    from_period: str | None
    to_period: str | None
    formula: str
    ratio: float
    matched_cells: int
    #: Matched cells' share of all period-1 expenditure (1.0 = nothing left out).
    expenditure_share_matched: float


def chain_steps(periods: Sequence[Period[K]], formula: str = "tornqvist",
                labels: Sequence[str] | None = None) -> list[IndexStep]:
    """The links of :func:`chain` with matched-cell counts and period-1 coverage."""
    if labels is not None and len(labels) != len(periods):
        raise InputError(f"{len(labels)} labels for {len(periods)} periods; give one label "
                         "per period or none", field="labels")
    link = _formula(formula)
    steps = []
    for i, (p0, p1) in enumerate(zip(periods, periods[1:], strict=False)):
        ratio = link(p0, p1)  # raises first when the link is broken, so total > 0 below
        keys = matched_cells(p0, p1)
        total = _expenditure(p1, [k for k, cell in p1.items() if _usable(cell)])
        steps.append(IndexStep(
            from_period=labels[i] if labels else None,
            to_period=labels[i + 1] if labels else None,
            formula=formula, ratio=ratio, matched_cells=len(keys),
            expenditure_share_matched=_expenditure(p1, keys) / total))
    return steps
