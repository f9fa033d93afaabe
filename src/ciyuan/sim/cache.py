"""Prompt caching as the vendors report it, over a bounded LRU of prompt-prefix hashes.

* **Automatic** (OpenAI, DeepSeek, Qwen on ``/v1/chat/completions`` and ``/v1/completions``):
  the prompt's rendered text is hashed at every ``PREFIX_CHECKPOINT_CHARS`` characters and at
  its end. The longest remembered prefix counts as cached if it has at least 1024 tokens,
  rounded down to a multiple of 128 tokens, as OpenAI reports ``cached_tokens``.
* **Explicit** (Anthropic ``cache_control``): the prefix up to the last marked block is written
  (``cache_creation_input_tokens``) unless it, or a prefix ending at one of the 20 blocks
  before it, was written before: that part is read (``cache_read_input_tokens``) and the rest
  written. Prefixes under 1024 tokens are not cached, as with Claude Sonnet and Opus.

Hashes are per model: one model's cache never serves another.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence

from ciyuan.sim.config import (
    CACHE_MIN_PREFIX_TOKENS,
    CACHE_STEP_TOKENS,
    PREFIX_CACHE_ENTRIES,
    PREFIX_CHECKPOINT_CHARS,
)

__all__ = ["ANTHROPIC_LOOKBACK_BLOCKS", "PrefixCache", "rounded"]

#: Anthropic checks for cache hits at most this many blocks before a breakpoint.
ANTHROPIC_LOOKBACK_BLOCKS = 20

Counter = Callable[[str], int]


class PrefixCache:
    """Remembered prefix hashes, least recently used dropped first."""

    def __init__(self, entries: int = PREFIX_CACHE_ENTRIES) -> None:
        assert entries > 0
        self._entries = entries
        self._lru: OrderedDict[bytes, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._lru)

    def _hit(self, key: bytes) -> bool:
        if key in self._lru:
            self._lru.move_to_end(key)
            return True
        return False

    def _remember(self, keys: Sequence[bytes]) -> None:
        for key in keys:
            self._lru[key] = None
            self._lru.move_to_end(key)
        while len(self._lru) > self._entries:
            self._lru.popitem(last=False)

    def automatic(self, model: str, segments: Sequence[str], count: Counter) -> int:
        """Cached tokens of this prompt (0 or a multiple of 128 ≥ 1024); remembers it."""
        text = "".join(segments)
        if len(text.encode("utf-8", "surrogatepass")) < CACHE_MIN_PREFIX_TOKENS:
            return 0  # fewer bytes than 1024 tokens: byte-level vocabularies never get there
        running = hashlib.sha256(model.encode("utf-8"))
        ends = [*range(PREFIX_CHECKPOINT_CHARS, len(text), PREFIX_CHECKPOINT_CHARS), len(text)]
        keys: list[bytes] = []
        start = 0
        for end in ends:
            running.update(text[start:end].encode("utf-8", "surrogatepass"))
            keys.append(running.copy().digest())
            start = end
        found = next((i for i in range(len(keys) - 1, -1, -1) if self._hit(keys[i])), None)
        self._remember(keys)
        if found is None:
            return 0
        tokens = count(text[: ends[found]])
        return rounded(tokens)

    def explicit(self, model: str, segments: Sequence[str], breakpoint_: int,
                 count: Counter) -> tuple[int, int]:
        """``(read, written)`` tokens for a prompt whose cache prefix is ``segments[:n]``."""
        running = hashlib.sha256(b"explicit:" + model.encode("utf-8"))
        keys: list[bytes] = []
        for segment in segments[:breakpoint_]:
            running.update(segment.encode("utf-8", "surrogatepass"))
            keys.append(running.copy().digest())
        prefix_tokens = count("".join(segments[:breakpoint_]))
        if prefix_tokens < CACHE_MIN_PREFIX_TOKENS:
            return 0, 0
        low = max(0, len(keys) - 1 - ANTHROPIC_LOOKBACK_BLOCKS)
        found = next((i for i in range(len(keys) - 1, low - 1, -1) if self._hit(keys[i])), None)
        self._remember([keys[-1]])
        if found is None:
            return 0, prefix_tokens
        read = prefix_tokens if found == len(keys) - 1 else count("".join(segments[: found + 1]))
        return read, prefix_tokens - read


def rounded(tokens: int) -> int:
    """OpenAI's report of cached tokens: 0 under 1024, else down to a multiple of 128."""
    if tokens < CACHE_MIN_PREFIX_TOKENS:
        return 0
    return tokens - tokens % CACHE_STEP_TOKENS
