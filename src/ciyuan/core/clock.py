"""Simulated time, per request: how ``ciyuan demo`` runs a month of traffic in a minute.

A gateway started with ``ciyuan serve --simulated-time`` takes the instant of each call from
its ``X-Ciyuan-Simulated-Time`` header (ISO 8601): the usage record, the budget period, the
price in force and the statistics then see that instant, while everything else (timeouts, the
ledger's own stamps, receipts) keeps real time. Each call carries its own instant, so the
result does not depend on how fast the machine is. Without the flag the header is ignored.
Never use it for real billing.
"""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar

__all__ = ["SIMULATED_TIME_HEADER", "parse_simulated_time", "request_clock", "simulated_now"]

SIMULATED_TIME_HEADER = "x-ciyuan-simulated-time"
#: The instant of the request being served, when the server simulates time.
simulated_now: ContextVar[dt.datetime | None] = ContextVar("ciyuan_simulated_now",
                                                             default=None)


def request_clock() -> dt.datetime:
    """The current request's simulated instant, or the real time."""
    return simulated_now.get() or dt.datetime.now(dt.UTC)


def parse_simulated_time(value: str) -> dt.datetime | None:
    """A header value as a timezone-aware UTC instant; None when it is not one."""
    try:
        instant = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if instant.tzinfo is None:
        return None
    return instant.astimezone(dt.UTC)
