"""Injected faults, drawn deterministically from the seed and the request body.

Each request draws from ``(seed, SHA-256 of the body, how many times this body came
before)``: the same sequence of requests meets the same faults in every run with that seed,
whatever other requests are interleaved, and a retry of a failed body draws anew (so at a
rate below 1 retries get through). Kinds: ``429`` (rate limited, with ``retry-after``),
``500`` (server error) and ``disconnect`` (the connection drops halfway through the answer).
"""

from __future__ import annotations

from collections import OrderedDict

from ciyuan.sim.config import FAULT_MEMORY_ENTRIES, FaultKind, SimConfig
from ciyuan.sim.generate import draw

__all__ = ["FaultPlan"]


class FaultPlan:
    """The fault, if any, for each arriving request."""

    def __init__(self, config: SimConfig, entries: int = FAULT_MEMORY_ENTRIES) -> None:
        self._seed = config.seed
        self._rate = config.fault_rate
        self._kinds = config.faults
        self._entries = entries
        self._seen: OrderedDict[str, int] = OrderedDict()

    def draw(self, body_sha256: str) -> FaultKind | None:
        if self._rate <= 0:
            return None
        repeat = self._seen.pop(body_sha256, 0)
        self._seen[body_sha256] = repeat + 1
        if len(self._seen) > self._entries:
            self._seen.popitem(last=False)
        rng = draw(self._seed, "fault", body_sha256, str(repeat))
        if rng.random() < self._rate:
            return rng.choice(self._kinds)
        return None
