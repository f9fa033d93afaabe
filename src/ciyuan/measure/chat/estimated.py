"""Families whose chat format is applied on the provider's servers: Claude, Gemini, Mistral.

Their templates (and, for Claude and Gemini, their vocabularies) are not public, so the count is
the message texts in the model's (estimated) tokenizer plus a fixed overhead per message,
chosen as documented in ``docs/concepts/chat-overhead.md``. Every result is ``estimated``;
the provider's reported usage is the truth for billing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ciyuan.measure.chat.messages import Chat, Message, ToolDef
from ciyuan.measure.chat.prompt import Counter, Tally

__all__ = ["ESTIMATED_FORMATS", "EstimatedFormat", "OverheadProfile"]


@dataclass(frozen=True)
class OverheadProfile:
    """Fixed token overheads of one family (see the basis of each figure in the doc)."""

    name: str
    per_message: int
    prefix: int  # once per request (begin-of-sequence)
    priming: int  # the start of the reply turn
    tools_fixed: int  # system prompt the provider adds when tools are present
    per_tool_call: int  # markup around one tool call (its name and arguments counted apart)
    tool_json: Callable[[ToolDef], object]  # what each tool definition looks like as JSON
    per_role: Mapping[str, int] = field(default_factory=dict)

    def message_overhead(self, message: Message) -> int:
        return self.per_role.get(message.role, self.per_message)


def _anthropic_tool(tool: ToolDef) -> object:
    return {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}


def _gemini_tool(tool: ToolDef) -> object:
    return {"name": tool.name, "description": tool.description, "parameters": tool.parameters}


def _mistral_tool(tool: ToolDef) -> object:
    return tool.spec


ANTHROPIC = OverheadProfile(
    name="anthropic", per_message=3, prefix=0, priming=3,
    # Anthropic's tool-use pricing page: Claude 3.7 / 4.x add a 346-token tool system prompt
    # for tool_choice auto or none (313 for any / tool; Claude 3.5 Haiku: 264).
    tools_fixed=346, per_tool_call=3, tool_json=_anthropic_tool,
)
GEMINI = OverheadProfile(
    name="gemini", per_message=5, prefix=1, priming=3,
    tools_fixed=0, per_tool_call=3, tool_json=_gemini_tool,
)
MISTRAL = OverheadProfile(
    name="mistral", per_message=2, prefix=1, priming=0,
    tools_fixed=2, per_tool_call=1, tool_json=_mistral_tool,
    per_role={"assistant": 1},
)


class EstimatedFormat:
    """Content in the model's tokenizer plus a profile's fixed overheads."""

    native_tokenizers: frozenset[str] = frozenset()

    def __init__(self, profile: OverheadProfile) -> None:
        self.profile = profile
        self.name = profile.name

    def tally(self, chat: Chat, count: Counter) -> Tally:
        profile = self.profile
        per_message: list[int] = []
        tool_tokens = 0
        for message in chat.messages:
            calls = sum(profile.per_tool_call + count(c.name) + count(c.arguments)
                        for c in message.tool_calls)
            per_message.append(profile.message_overhead(message) + count(message.text) + calls)
            tool_tokens += calls
        block = 0
        if chat.tools:
            block = profile.tools_fixed + sum(
                count(json.dumps(profile.tool_json(t), ensure_ascii=False)) for t in chat.tools)
        return Tally(
            per_message=tuple(per_message),
            outside_messages=profile.prefix + profile.priming + block,
            content_tokens=sum(count(m.text) for m in chat.messages),
            tool_tokens=tool_tokens + block,
            faithful=False,
        )


ESTIMATED_FORMATS = tuple(EstimatedFormat(p) for p in (ANTHROPIC, GEMINI, MISTRAL))
