"""Requests- and tokens-per-minute limits per API key (a sliding one-minute window).

Limits are enforced per gateway worker process; with N workers a key can reach N× its
limit (docs/how-to/gateway.md). Budgets, which are money, are exact across workers (ledger).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from ciyuan.gateway.errors import RateLimitedError
from ciyuan.gateway.limits import RATE_WINDOW_S

__all__ = ["RateLimiter"]

#: Keys tracked at once; the least recently used beyond this are forgotten.
MAX_TRACKED_KEYS = 100_000


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._events: dict[str, deque[tuple[float, int]]] = {}

    def check(self, key_id: str, rpm: int, tpm: int, tokens: int) -> None:
        """Admit one request of ``tokens`` or raise RateLimitedError with the wait."""
        if rpm <= 0 and tpm <= 0:
            return
        now = self._clock()
        window = self._events.pop(key_id, None) or deque()
        self._events[key_id] = window  # most recently used last
        while window and window[0][0] <= now - RATE_WINDOW_S:
            window.popleft()
        used_tokens = sum(n for _, n in window)
        if (rpm > 0 and len(window) >= rpm) or (tpm > 0 and used_tokens + tokens > tpm
                                                 and window):
            wait = max(0.0, window[0][0] + RATE_WINDOW_S - now) if window else RATE_WINDOW_S
            limit = "requests" if rpm > 0 and len(window) >= rpm else "tokens"
            raise RateLimitedError(
                f"key {key_id} is over its {limit}-per-minute limit (rpm={rpm}, tpm={tpm}); "
                f"retry in {wait:.1f} s", retry_after_s=round(wait, 1))
        window.append((now, tokens))
        if len(self._events) > MAX_TRACKED_KEYS:
            self._events.pop(next(iter(self._events)))
