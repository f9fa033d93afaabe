"""Counting text that arrives in pieces: SSE deltas, file blocks, bytes cut mid-character.

Every tokenizer we ship splits text into pre-tokens before BPE, and no pre-token runs from a
newline into a following non-space character. So the count of ``a + b`` equals
``count(a) + count(b)`` whenever ``a`` ends with ``"\\n"`` and ``b`` starts with a visible
character: a *safe boundary*. The counter keeps the text after the last safe boundary pending
and counts everything before it, so memory stays bounded and the total equals counting the
assembled text (property-tested over random splits).

Text with no newline for ``MAX_PENDING_CHARS`` (a 1 GB single line) falls back to a boundary
between a word and the space before the next word, which is also a pre-token boundary in
every shipped family; only if even that is missing is a forced cut made, and
``forced_cuts`` says how many (each may shift the count by a token or two).
"""

from __future__ import annotations

import codecs

from ciyuan.core.errors import InvalidUtf8Error
from ciyuan.measure.backends import Tokenizer
from ciyuan.measure.boundaries import last_safe_boundary, safe_chunks, word_boundary

__all__ = [
    "FLUSH_CHARS",
    "MAX_PENDING_CHARS",
    "StreamCounter",
    "Utf8Stream",
    "last_safe_boundary",
    "safe_chunks",
]

#: Count pending text once this much has accumulated (amortizes the per-call cost).
FLUSH_CHARS = 512 * 1024
#: Bound on text held back while waiting for a safe boundary (4 Mi characters ≈ 16 MB).
MAX_PENDING_CHARS = 4 * 1024 * 1024


class Utf8Stream:
    """Bytes in, text out; invalid UTF-8 raises with the absolute byte offset."""

    def __init__(self, errors: str = "strict") -> None:
        if errors not in ("strict", "replace"):
            raise ValueError("errors must be 'strict' or 'replace'")
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors=errors)
        self._offset = 0
        self.bytes_seen = 0

    def decode(self, data: bytes, final: bool = False) -> str:
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            buffered = len(self._decoder.getstate()[0]) if not final else 0
            offset = self._offset - buffered + exc.start
            raise InvalidUtf8Error(
                f"input is not valid UTF-8 at byte offset {max(offset, 0)}: convert it to "
                f"UTF-8 (e.g. `iconv -f GB18030 -t UTF-8`) or pass `--errors replace` to "
                f"count it with U+FFFD in place of the bad bytes",
                byte_offset=max(offset, 0),
            ) from None
        self._offset += len(data)
        self.bytes_seen += len(data)
        return text


class StreamCounter:
    """Feed text (or UTF-8 bytes) in any pieces; ``total`` at the end equals the count of
    the whole text."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        *,
        flush_chars: int = FLUSH_CHARS,
        max_pending_chars: int = MAX_PENDING_CHARS,
        errors: str = "strict",
    ) -> None:
        assert 0 < flush_chars <= max_pending_chars
        self.tokenizer = tokenizer
        self._flush_chars = flush_chars
        self._max_pending = max_pending_chars
        self._utf8 = Utf8Stream(errors)
        self._pending: list[str] = []
        self._pending_len = 0
        self._counted = 0
        self.characters = 0
        self.forced_cuts = 0
        self._finished = False

    @property
    def counted(self) -> int:
        """Tokens in the text before the last safe boundary seen so far (final)."""
        return self._counted

    def feed(self, piece: str | bytes) -> None:
        assert not self._finished, "feed after finish"
        text = self._utf8.decode(piece) if isinstance(piece, bytes) else piece
        if not text:
            return
        self.characters += len(text)
        self._pending.append(text)
        self._pending_len += len(text)
        if self._pending_len >= self._flush_chars:
            self._flush()

    def _flush(self) -> None:
        text = "".join(self._pending)
        cut = last_safe_boundary(text)
        if cut == 0 and len(text) >= self._max_pending:
            cut = word_boundary(text)
            if cut == 0:
                cut = len(text) // 2
                self.forced_cuts += 1
        if cut > 0:
            self._counted += self.tokenizer.count(text[:cut])
            text = text[cut:]
        self._pending = [text] if text else []
        self._pending_len = len(text)

    def peek_total(self) -> int:
        """Running total including pending text (may still change by a few tokens)."""
        return self._counted + self.tokenizer.count("".join(self._pending))

    def finish(self) -> int:
        """Count what is pending and return the total; the counter is closed after this."""
        if not self._finished:
            tail = self._utf8.decode(b"", final=True)
            if tail:
                self.characters += len(tail)
                self._pending.append(tail)
            self._counted += self.tokenizer.count("".join(self._pending))
            self._pending = []
            self._pending_len = 0
            self._finished = True
        return self._counted


