"""Errors of the statistical release::

    CiyuanError
    └── StatsError                  the release could not be computed
        ├── NoMatchedCellsError     no price index links two periods
        └── UnknownIndexFormulaError
"""

from __future__ import annotations

from ciyuan.core.errors import CiyuanError

__all__ = ["NoMatchedCellsError", "StatsError", "UnknownIndexFormulaError"]


class StatsError(CiyuanError):
    code = "stats-error"
    summary = "The statistical release could not be computed; the message says why."


class NoMatchedCellsError(StatsError):
    code = "stats-no-matched-cells"
    summary = ("Two periods share no priced cell that carries expenditure in both, so no price "
               "index links them; the chain breaks there.")


class UnknownIndexFormulaError(StatsError):
    code = "stats-unknown-formula"
    summary = "The index formula is not one of laspeyres, paasche, fisher, tornqvist."
