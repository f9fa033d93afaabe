"""A rendered prompt as pieces, and how a rendered prompt is counted.

A chat template turns messages into one string in which some substrings are *special tokens*
(``<|im_start|>``, ``<|eot_id|>`` ...). The model's tokenizer first cuts the string at those
tokens, gives each of them exactly one id, and tokenizes the text between them on its own.
``tally_prompt`` does the same: a special piece counts 1, and each maximal run of text between
special pieces is counted once with the tokenizer's ``count``. The total is therefore exactly
what the model's tokenizer gives for the whole prompt.

Every piece records the message it belongs to (``owner``; ``None`` for the prompt's own parts:
begin-of-text, tool blocks outside any message, reply priming) and what it is (``kind``), for
the per-message and content / overhead / tool breakdowns. A text run that crosses a message
boundary (DeepSeek joins all system messages into one run) is attributed to the message where
it starts, so the per-message figures always add up to the exact total.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Counter", "Kind", "Piece", "Prompt", "Tally", "tally_prompt"]

Counter = Callable[[str], int]
#: content: the message text itself; tool: tool definitions and calls with their markup;
#: frame: everything else the template adds (roles, separators, special tokens).
Kind = Literal["frame", "content", "tool"]


@dataclass(frozen=True)
class Piece:
    text: str
    special: bool
    kind: Kind
    owner: int | None


@dataclass(frozen=True)
class Tally:
    """A formatter's count of one chat with one tokenizer."""

    per_message: tuple[int, ...]
    outside_messages: int  # begin-of-text, tool blocks outside a message, reply priming
    content_tokens: int
    tool_tokens: int
    faithful: bool  # every part follows the family's published format (else: an estimate)

    @property
    def native_tokens(self) -> int:
        return sum(self.per_message) + self.outside_messages


class Prompt:
    """Builds a prompt piece by piece; fixed template text is split at the family's specials.

    Only ``fixed`` text is searched for special tokens: user content and tool JSON go in with
    ``text`` and always count as ordinary text, as everywhere in ciyuan.
    """

    def __init__(self, specials: Iterable[str]) -> None:
        self._specials = frozenset(specials)
        ordered = sorted(self._specials, key=len, reverse=True)
        self._pattern = re.compile("(" + "|".join(re.escape(s) for s in ordered) + ")")
        self.pieces: list[Piece] = []
        self.owner: int | None = None
        self.faithful = True

    def fixed(self, text: str, kind: Kind = "frame") -> None:
        """Template text, which may contain special tokens."""
        for part in self._pattern.split(text):
            if part:
                self.pieces.append(Piece(part, part in self._specials, kind, self.owner))

    def text(self, text: str, kind: Kind = "content") -> None:
        """Ordinary text (never split at special-token strings)."""
        if text:
            self.pieces.append(Piece(text, False, kind, self.owner))

    def render(self) -> str:
        """The prompt as one string (what the template would print)."""
        return "".join(p.text for p in self.pieces)

    def tally(self, count: Counter, messages: int) -> Tally:
        return tally_prompt(self.pieces, count, messages, self.faithful)


def _runs(pieces: Sequence[Piece]) -> list[tuple[int | None, str | None]]:
    """(owner, text) for each text run, (owner, None) for each special piece."""
    out: list[tuple[int | None, str | None]] = []
    buffer: list[str] = []
    owner: int | None = None
    for piece in pieces:
        if piece.special:
            if buffer:
                out.append((owner, "".join(buffer)))
                buffer = []
            out.append((piece.owner, None))
        else:
            if not buffer:
                owner = piece.owner
            buffer.append(piece.text)
    if buffer:
        out.append((owner, "".join(buffer)))
    return out


def _standalone(pieces: Sequence[Piece], kind: Kind, count: Counter) -> int:
    """Tokens of the pieces of one kind, each run of them counted on its own."""
    total = 0
    buffer: list[str] = []
    for piece in pieces:
        if piece.kind == kind and not piece.special:
            buffer.append(piece.text)
            continue
        if buffer:
            total += count("".join(buffer))
            buffer = []
        if piece.kind == kind:
            total += 1
    if buffer:
        total += count("".join(buffer))
    return total


def tally_prompt(pieces: Sequence[Piece], count: Counter, messages: int, faithful: bool) -> Tally:
    """Count the prompt exactly, and break it down by kind.

    Content and tool tokens are each kind's runs counted on their own. A BPE merge across a
    boundary between kinds can make the whole prompt a token or two shorter than its parts
    counted apart; that saving is taken from content first, then from tools, so the
    breakdown never exceeds the exact total and formatting overhead is never negative.
    """
    per_message = [0] * messages
    outside = 0
    for owner, text in _runs(pieces):
        tokens = 1 if text is None else count(text)
        if owner is None:
            outside += tokens
        else:
            per_message[owner] += tokens
    native = sum(per_message) + outside
    tools = min(_standalone(pieces, "tool", count), native)
    content = min(_standalone(pieces, "content", count), native - tools)
    return Tally(
        per_message=tuple(per_message),
        outside_messages=outside,
        content_tokens=content,
        tool_tokens=tools,
        faithful=faithful,
    )
