"""Deterministic answer text: seeded draws, sentences from the phrase bank, exact token cuts.

The same seed and request content give the same answer. An answer's visible tokens are the
model tokenizer's count of its text, never more than the limit: when the drawn length does
not fit, the text is cut (inside a sentence if need be) to the longest prefix that fits.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass

import regex

from ciyuan.sim.config import REASONING_TOKENS_MAX, REASONING_TOKENS_MIN
from ciyuan.sim.phrases import PHRASES

__all__ = ["Answer", "compose_answer", "draw", "reasoning_tokens", "stream_pieces"]

Counter = Callable[[str], int]

#: One streamed piece: up to two Han characters, a word, one punctuation mark or a space
#: run, each with the spaces before it. That is about one token, as vendors stream.
_PIECE = regex.compile(r"\s*\p{Han}{1,2}|\s*[^\W\p{Han}]+|\s*[^\w\s]|\s+")
#: Reasoning effort → multiplier of the drawn hidden-reasoning length.
_EFFORT = {"minimal": 0.25, "low": 0.5, "medium": 1.0, "high": 2.0}


def draw(seed: int, *parts: str) -> random.Random:
    """A generator determined by ``seed`` and ``parts`` (same inputs, same draws)."""
    digest = hashlib.sha256(repr((seed, parts)).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


@dataclass(frozen=True)
class Answer:
    """Visible answer text; ``tokens`` is the model tokenizer's count of it."""

    text: str
    tokens: int
    truncated: bool


def _cut(parts: list[str], count: Counter, limit: int, estimates: list[int]) -> str:
    """The longest prefix of ``"".join(parts)`` whose exact count is at most ``limit``.

    Per-part ``estimates`` find the part where the limit falls, short counts find the place
    inside it, exact counts of the whole prefix confirm (stepping back in the rare case where
    tokens merge across the cut).
    """
    whole, running = 0, 0
    while whole < len(parts) and running + estimates[whole] <= limit:
        running += estimates[whole]
        whole += 1
    base = "".join(parts[:whole])
    while whole and count(base) > limit:
        whole -= 1
        base = "".join(parts[:whole])
    if whole == len(parts):
        return base
    part, room = parts[whole], limit - count(base)
    low, high = 0, len(part)  # search on the part alone: count(part[:low]) <= room
    while low < high:
        middle = (low + high + 1) // 2
        if count(part[:middle]) <= room:
            low = middle
        else:
            high = middle - 1
    while low and count(base + part[:low]) > limit:
        low -= 1
    return base + part[:low]


def compose_answer(rng: random.Random, language: str, count: Counter, target: int, limit: int,
                   opener: str = "", piece_counts: dict[str, int] | None = None) -> Answer:
    """Sentences drawn until about ``target`` tokens, cut to at most ``limit`` tokens.

    ``piece_counts`` caches the token count of each sentence for one tokenizer (the running
    length is estimated from it; the final count is exact).
    """
    if limit <= 0:
        return Answer("", 0, truncated=True)
    bank = PHRASES["zh" if language == "zh" else "en"]
    separator = "" if language == "zh" else " "
    cache = {} if piece_counts is None else piece_counts
    parts = [opener] if opener else []
    estimates = [count(opener)] if opener else []
    estimate = sum(estimates)
    while estimate < target:
        text = "".join(parts)
        part = rng.choice(bank)
        if text and not text.endswith(" "):
            part = separator + part
        if part not in cache:
            cache[part] = count(part)
        parts.append(part)
        estimates.append(cache[part])
        estimate += cache[part]
    text = "".join(parts)
    tokens = count(text)
    if tokens <= limit:
        return Answer(text, tokens, truncated=False)
    text = _cut(parts, count, limit, estimates)
    return Answer(text, count(text), truncated=True)


def reasoning_tokens(rng: random.Random, effort: object) -> int:
    """Hidden reasoning tokens of a reasoning model at ``effort`` (default medium)."""
    factor = _EFFORT.get(effort, 1.0) if isinstance(effort, str) else 1.0
    return max(1, round(rng.randint(REASONING_TOKENS_MIN, REASONING_TOKENS_MAX) * factor))


def stream_pieces(text: str) -> list[str]:
    """``text`` in about-one-token pieces that join back to it exactly."""
    pieces: list[str] = _PIECE.findall(text)
    assert "".join(pieces) == text
    return pieces
