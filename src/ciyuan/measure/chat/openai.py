"""OpenAI chat models (tiktoken vocabularies): the cookbook rule, plus a rendering of tools.

Messages follow OpenAI's cookbook "How to count tokens with tiktoken": every message costs
3 tokens (``<|start|>{role}<|message|>…<|end|>``) plus the tokens of its role, content and
name (a name costs 1 more), and every reply is primed with ``<|start|>assistant<|message|>``
(3 tokens). This reproduces the API's ``prompt_tokens`` for the cookbook's worked example
exactly (129 on cl100k_base, 124 on o200k_base).

Tool definitions are not public. OpenAI is known to show them to the model as a TypeScript
namespace in the system prompt; we render that namespace the way the widely used
openai-chat-tokens library does (hmarr, MIT) and add its fitted constants: the block costs its
text + 9 tokens, or + 5 when a system message exists (the block joins it, and that message
gains one newline). This reproduces the cookbook's tool example exactly too (105 / 101), but
it is an approximation for other schemas (nested objects, unions): results are ``estimated``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ciyuan.core.errors import InvalidChatError
from ciyuan.measure.chat.messages import Chat, Message, ToolDef
from ciyuan.measure.chat.prompt import Counter, Tally

__all__ = ["OpenAIFormat", "format_function_definitions"]

TOKENS_PER_MESSAGE = 3  # <|start|>{role}<|message|>{content}<|end|>
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3  # <|start|>assistant<|message|>
TOOL_CALL_OVERHEAD = 3  # per call, as openai-chat-tokens counts a function_call
TOOLS_OVERHEAD = 9
TOOLS_WITH_SYSTEM_DISCOUNT = 4
#: Schemas are rendered to this nesting depth; deeper ones are refused (bounded recursion).
MAX_SCHEMA_DEPTH = 32


def _js(value: object) -> str:
    """A value as a JavaScript template literal prints it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "null" if value is None else str(value)


def _format_type(schema: Mapping[str, Any], indent: int, depth: int) -> str:
    if depth > MAX_SCHEMA_DEPTH:
        raise InvalidChatError(
            f"tools: a parameter schema nests deeper than {MAX_SCHEMA_DEPTH} levels; flatten it",
            field="tools",
        )
    if isinstance(schema.get("anyOf"), list):
        return " | ".join(_format_type(s, indent, depth + 1) for s in schema["anyOf"]
                          if isinstance(s, Mapping))
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(_format_type({**schema, "type": k}, indent, depth + 1) for k in kind)
    enum = schema.get("enum")
    if kind == "string":
        return " | ".join(f'"{_js(v)}"' for v in enum) if isinstance(enum, list) else "string"
    if kind in ("number", "integer"):
        return " | ".join(_js(v) for v in enum) if isinstance(enum, list) else "number"
    if kind in ("boolean", "null"):
        return str(kind)
    if kind == "object":
        return "\n".join(["{", _format_properties(schema, indent + 2, depth + 1), "}"])
    if kind == "array":
        items = schema.get("items")
        return f"{_format_type(items, indent, depth + 1)}[]" if isinstance(items, Mapping) \
            else "any[]"
    return ""


def _format_properties(schema: Mapping[str, Any], indent: int, depth: int) -> str:
    properties = schema.get("properties")
    required = schema.get("required")
    required = required if isinstance(required, list) else []
    lines: list[str] = []
    for name, param in (properties.items() if isinstance(properties, Mapping) else ()):
        param = param if isinstance(param, Mapping) else {}
        description = param.get("description")
        if description and indent < 2:
            lines.append(f"// {description}")
        mark = "" if name in required else "?"
        lines.append(f"{name}{mark}: {_format_type(param, indent, depth)},")
    return "\n".join(" " * indent + line for line in lines)


def format_function_definitions(tools: Sequence[ToolDef]) -> str:
    """The TypeScript namespace OpenAI is believed to put in the system prompt."""
    lines = ["namespace functions {", ""]
    for tool in tools:
        if tool.description:
            lines.append(f"// {tool.description}")
        properties = tool.parameters.get("properties")
        if isinstance(properties, Mapping) and properties:
            lines.append(f"type {tool.name} = (_: {{")
            lines.append(_format_properties(tool.parameters, 0, 0))
            lines.append("}) => any;")
        else:
            lines.append(f"type {tool.name} = () => any;")
        lines.append("")
    lines.append("} // namespace functions")
    return "\n".join(lines)


def _message_tokens(message: Message, text: str, count: Counter) -> tuple[int, int]:
    """(tokens of the message, of which tool-call tokens)."""
    tokens = TOKENS_PER_MESSAGE + count(message.role) + count(text)
    if message.name:
        tokens += count(message.name) + TOKENS_PER_NAME
    calls = sum(TOOL_CALL_OVERHEAD + count(c.name) + count(c.arguments) for c in message.tool_calls)
    return tokens + calls, calls


class OpenAIFormat:
    """The ``openai`` chat format (GPT-3.5, GPT-4, GPT-4o, GPT-4.1, o-series, GPT-5)."""

    name = "openai"
    native_tokenizers = frozenset({"o200k_base", "cl100k_base"})

    def tally(self, chat: Chat, count: Counter) -> Tally:
        padded = next((i for i, m in enumerate(chat.messages) if m.is_system), None)
        padded = padded if chat.tools else None
        per_message: list[int] = []
        tool_tokens = 0
        for i, message in enumerate(chat.messages):
            text = message.text + "\n" if i == padded else message.text
            tokens, calls = _message_tokens(message, text, count)
            per_message.append(tokens)
            tool_tokens += calls
            if i == padded:
                tool_tokens += count(text) - count(message.text)
        block = 0
        if chat.tools:
            block = count(format_function_definitions(chat.tools)) + TOOLS_OVERHEAD
            block -= TOOLS_WITH_SYSTEM_DISCOUNT if padded is not None else 0
        return Tally(
            per_message=tuple(per_message),
            outside_messages=REPLY_PRIMING + block,
            content_tokens=sum(count(m.text) for m in chat.messages),
            tool_tokens=tool_tokens + block,
            faithful=not chat.uses_tools and not chat.multi_part,
        )

