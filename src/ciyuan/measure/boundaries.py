"""Safe boundaries: where text can be cut without changing its token count.

Every shipped tokenizer splits text into pre-tokens before BPE, and no pre-token runs from a
newline into a following visible character, nor from a word into the space that starts the
next word. Cutting there makes counts additive: ``count(a + b) == count(a) + count(b)``.
Property tests in tests/measure/test_stream.py check it for every shipped vocabulary.
"""

from __future__ import annotations

import unicodedata

__all__ = ["last_safe_boundary", "safe_chunks", "word_boundary"]


def _visible(ch: str) -> bool:
    return not ch.isspace() and not unicodedata.category(ch).startswith("M")


def last_safe_boundary(text: str, end: int | None = None) -> int:
    """The largest ``i <= end`` with ``text[i-1] == "\\n"`` and ``text[i]`` visible; 0 if none."""
    pos = len(text) - 1 if end is None else min(end, len(text) - 1)
    while pos > 0:
        nl = text.rfind("\n", 0, pos)
        if nl < 0:
            return 0
        if _visible(text[nl + 1]):
            return nl + 1
        pos = nl
    return 0


def word_boundary(text: str) -> int:
    """Fallback: the last ``i`` where ``text[i-1]`` is alphanumeric and ``text[i:i+2]`` is
    a space then a letter (``"a| b"``)."""
    pos = len(text) - 2
    while pos > 0:
        sp = text.rfind(" ", 0, pos)
        if sp <= 0:
            return 0
        if text[sp - 1].isalnum() and text[sp + 1].isalpha() and _visible(text[sp + 1]):
            return sp
        pos = sp
    return 0


def safe_chunks(text: str, target_chars: int) -> list[str]:
    """``text`` cut at safe boundaries into pieces of about ``target_chars``.

    ``sum(count(piece)) == count(text)``; a piece grows past the target when no boundary
    is near (one long line stays whole).
    """
    assert target_chars > 0
    pieces: list[str] = []
    start = 0
    n = len(text)
    while n - start > target_chars:
        cut = last_safe_boundary(text, start + target_chars)
        if cut <= start:
            nxt = text.find("\n", start + target_chars)
            while nxt >= 0 and nxt + 1 < n and not _visible(text[nxt + 1]):
                nxt = text.find("\n", nxt + 1)
            if nxt < 0 or nxt + 1 >= n:
                break
            cut = nxt + 1
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    return [p for p in pieces if p] or [""]
