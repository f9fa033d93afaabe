"""The text of one chat message's ``content``, as OpenAI and Anthropic both send it.

Lenient on purpose: callers that only read a message (the simulator's prompt, the live judge's
question and answer) take a string, or the ``text`` parts of a list, and ignore anything else;
strict validation of request bodies lives in ``ciyuan.measure.chat.messages``.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["content_text"]


def content_text(content: object) -> str:
    """A string content as is, the ``text`` parts of a list joined by newlines, else ""."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content
                         if isinstance(p, Mapping) and p.get("type") == "text")
    return ""
