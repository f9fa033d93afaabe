"""A bounded, short-lived cache in front of the key lookup, for the gateway's hot path.

Authentication needs the stored key on every call; on PostgreSQL that is a network round
trip. ``KeyCache`` keeps each looked-up key (or its absence) for ``ttl_s`` seconds, so a
revocation takes effect within ``ttl_s`` on every worker. It caches lookups, not decisions:
``authenticate`` still hashes and compares the secret on every call.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from ciyuan.identity.model import ApiKey

__all__ = ["KeyCache"]


class KeyCache:
    """``lookup`` wrapped with a TTL and an LRU bound; use it as ``authenticate``'s lookup."""

    def __init__(
        self,
        lookup: Callable[[str], ApiKey | None],
        *,
        ttl_s: float = 5.0,
        max_entries: int = 10_000,  # about 5 MB of keys: far more active keys than one worker sees
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        assert ttl_s >= 0 and max_entries >= 1
        self._lookup = lookup
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, ApiKey | None]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, key_id: str) -> ApiKey | None:
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key_id)
            if hit is not None and now - hit[0] < self._ttl_s:
                self._entries.move_to_end(key_id)
                return hit[1]
        key = self._lookup(key_id)
        with self._lock:
            self._entries[key_id] = (now, key)
            self._entries.move_to_end(key_id)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return key

    def forget(self, key_id: str) -> None:
        """Drop one entry (this worker revoked the key and should not wait for the TTL)."""
        with self._lock:
            self._entries.pop(key_id, None)
