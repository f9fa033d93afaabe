"""JSON parsing on the gateway's hot path: orjson (C) first, the standard library's ``json``
for whatever orjson refuses.

A metered call parses its request body, the upstream's answer and, when streamed, every
server-sent event (about 50 for a short answer): with ``json.loads`` that was about a
twentieth of a call's CPU. orjson parses the same documents to the same values several
times faster, with two kinds of exception: it refuses a few that ``json.loads`` accepts
(``NaN`` and ``Infinity``, lone surrogate escapes, nesting deeper than 1,024), and it reads
an integer beyond 64 bits as a float. Whatever it refuses goes to ``json.loads``, and so
does any document with a run of 19 digits (where such an integer could be), so what
parses, what it parses to and the errors raised (``json.JSONDecodeError``, with line and
column) are exactly the standard library's (a property test checks it). One gap is left,
on purpose: nesting between the interpreter's recursion limit (about 1,000 levels) and
orjson's 1,024 parses here where ``json.loads`` runs out of stack.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

__all__ = ["loads"]

#: Digits enough for an integer beyond 64 bits (2**63 has 19), which orjson makes a float.
_LONG_DIGITS = "[0-9]{19}"
_LONG_TEXT, _LONG_BYTES = re.compile(_LONG_DIGITS), re.compile(_LONG_DIGITS.encode())


def loads(data: bytes | str) -> Any:
    """``json.loads(data)``, faster."""
    long = (_LONG_TEXT.search(data) if isinstance(data, str) else _LONG_BYTES.search(data))
    if long is None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)
