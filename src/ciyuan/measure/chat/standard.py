"""Standard tokens of a chat: the same figure whatever model the chat is sent to.

``standard = o200k_base tokens of the message contents + 3 per message + 3``, where the
contents are the text parts, each tool call's function name and arguments, and each tool
definition written in one canonical JSON form (keys sorted, no spaces, UTF-8 kept). Roles,
names, image parts and every family's own markup are left out: they are the model's cost of
*formatting* the content, which is what native tokens measure (SPEC invariant 5).
"""

from __future__ import annotations

import json

from ciyuan.measure.chat.messages import Chat
from ciyuan.measure.chat.prompt import Counter

__all__ = [
    "STANDARD_REPLY_PRIMING",
    "STANDARD_TOKENS_PER_MESSAGE",
    "canonical_json",
    "standard_chat_tokens",
]

#: The OpenAI cookbook's figures, fixed once for every model.
STANDARD_TOKENS_PER_MESSAGE = 3
STANDARD_REPLY_PRIMING = 3


def canonical_json(value: object) -> str:
    """The one JSON form used for standard counts."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def standard_chat_tokens(chat: Chat, count: Counter) -> int:
    """Standard tokens of ``chat``; ``count`` is the reference encoding's counter."""
    tokens = STANDARD_REPLY_PRIMING
    for message in chat.messages:
        tokens += STANDARD_TOKENS_PER_MESSAGE + count(message.text)
        tokens += sum(count(c.name) + count(c.arguments) for c in message.tool_calls)
    return tokens + sum(count(canonical_json(t.spec)) for t in chat.tools)
