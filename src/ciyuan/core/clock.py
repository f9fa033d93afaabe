"""An accelerated clock: simulated time that runs ``speedup`` times faster than real time.

``ciyuan demo`` runs a month of traffic in a minute or two by giving the gateway such a clock
(``ciyuan serve --clock-start … --clock-speedup …``): usage records, budgets and prices then see
the simulated instant, while everything else (TLS, timeouts, the ledger's own stamps) keeps
real time. Never use it for real billing.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

__all__ = ["AcceleratedClock"]


@dataclass(frozen=True)
class AcceleratedClock:
    start: dt.datetime  # the simulated instant at real time ``origin``
    speedup: float
    origin: float  # real time, seconds since the epoch (time.time())

    def __post_init__(self) -> None:
        assert self.start.tzinfo is not None, "the simulated start is timezone-aware"
        assert self.speedup > 0

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=(time.time() - self.origin) * self.speedup)

    def real_time_of(self, instant: dt.datetime) -> float:
        """The real ``time.time()`` at which the clock shows ``instant``."""
        return self.origin + (instant - self.start).total_seconds() / self.speedup
