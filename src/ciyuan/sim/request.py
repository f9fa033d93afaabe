"""Requests as values: the chat request both APIs are reduced to, and OpenAI's parsing.

A ``ChatRequest`` holds the messages in OpenAI's format (what ``count_chat`` counts), the
tools, the output limit and the streaming options, plus the prompt rendered as *segments*
(one per tool, system block and message) for prefix caching and the answer's language.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ciyuan.core.content import content_text
from ciyuan.measure.language import detect_language
from ciyuan.sim.config import MAX_TOKENS_LIMIT
from ciyuan.sim.errors import SimBadRequestError
from ciyuan.sim.tools import ToolSpec

__all__ = [
    "ChatRequest", "finish_request", "integer", "openai_chat_request", "optional",
    "render_message",
]

#: Fields that do not change what a model answers; left out of the content hash so that a
#: streamed and a plain call of the same prompt get the same answer.
TRANSPORT_FIELDS = frozenset({"stream", "stream_options", "user", "metadata", "store",
                              "max_tokens", "max_completion_tokens", "service_tier"})


@dataclass(frozen=True)
class ChatRequest:
    """One chat request, whichever API it came through."""

    model: str
    messages: tuple[Mapping[str, Any], ...]
    tools: tuple[Mapping[str, Any], ...]  # OpenAI function-tool format
    tool_specs: tuple[ToolSpec, ...]
    tool_choice: str  # "auto" | "none" | "required" | a tool name
    max_tokens: int | None
    stream: bool
    include_usage: bool
    reasoning_effort: str | None
    segments: tuple[str, ...]
    cache_breakpoint: int | None  # explicit (Anthropic) cache prefix: segments[:n]
    last_role: str
    last_text: str
    language: str  # "zh" | "en": the answer's language
    content_key: str  # JSON of the fields that decide the answer
    seed: int | None = None  # the sampling seed asked for (OpenAI ``seed``; skill flips)


def optional(body: Mapping[str, Any], name: str, kind: type | tuple[type, ...],
             default: Any = None) -> Any:
    """``body[name]`` if present and of ``kind`` (None counts as absent), else a 400."""
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise SimBadRequestError(f"field {name!r} must be {names}, got {type(value).__name__}",
                                 field=name)
    return value


def integer(body: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value: int | None = optional(body, name, int)
    if value is not None and not low <= value <= high:
        raise SimBadRequestError(f"field {name!r} is {value}: give an integer from {low} to "
                                 f"{high}", field=name)
    return value


def render_message(message: Mapping[str, Any]) -> str:
    """One message as a prompt segment (role marker, text, tool calls)."""
    calls = message.get("tool_calls")
    tail = json.dumps(calls, ensure_ascii=False, sort_keys=True) if calls else ""
    return f"<|{message.get('role')}|>{content_text(message.get('content'))}{tail}\n"


def _tool_specs(tools: Sequence[Mapping[str, Any]]) -> tuple[ToolSpec, ...]:
    specs = []
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise SimBadRequestError(f"tools[{index}] must be {{\"type\": \"function\", "
                                     f"\"function\": {{\"name\": ...}}}}", field="tools")
        parameters = function.get("parameters")
        specs.append(ToolSpec(function["name"], parameters if isinstance(parameters, Mapping)
                              else {}))
    return tuple(specs)


def _openai_choice(raw: object, has_tools: bool) -> str:
    if raw is None:
        return "auto" if has_tools else "none"
    if raw in ("auto", "none", "required"):
        return str(raw)
    if isinstance(raw, Mapping) and isinstance(raw.get("function"), Mapping):
        return str(raw["function"].get("name"))
    raise SimBadRequestError("tool_choice must be \"auto\", \"none\", \"required\" or "
                             "{\"type\": \"function\", \"function\": {\"name\": ...}}",
                             field="tool_choice")


def finish_request(model: str, body: Mapping[str, Any], messages: Sequence[Mapping[str, Any]],
                   tools: Sequence[Mapping[str, Any]], **fields: Any) -> ChatRequest:
    """The parts every API shares: segments, last message, language, content key."""
    segments = tuple(json.dumps(t, ensure_ascii=False, sort_keys=True) for t in tools) + tuple(
        fields.pop("segments", None) or (render_message(m) for m in messages))
    last = messages[-1] if messages else {}
    last_text = content_text(last.get("content"))
    user_texts = [content_text(m.get("content")) for m in messages if m.get("role") == "user"]
    language = detect_language(user_texts[-1] if user_texts else last_text)
    key = {k: v for k, v in body.items() if k not in TRANSPORT_FIELDS}
    return ChatRequest(
        model=model, messages=tuple(messages), tools=tuple(tools),
        segments=segments, last_role=str(last.get("role", "")), last_text=last_text,
        language="zh" if language in ("zh", "mixed") else "en",
        content_key=json.dumps(key, ensure_ascii=False, sort_keys=True, default=str),
        **fields)


def openai_chat_request(body: Mapping[str, Any]) -> ChatRequest:
    """Validate a ``POST /v1/chat/completions`` body."""
    model = optional(body, "model", str)
    messages = optional(body, "messages", list)
    if model is None or not messages:
        raise SimBadRequestError("a chat request needs \"model\" and a non-empty \"messages\" "
                                 "list", field="messages" if model else "model")
    bad = next((i for i, m in enumerate(messages) if not isinstance(m, Mapping)), None)
    if bad is not None:
        raise SimBadRequestError(f"messages[{bad}] must be an object with \"role\" and "
                                 f"\"content\"", field="messages", index=bad)
    integer(body, "n", 1, 1)  # one choice per call here
    tools = optional(body, "tools", list, [])
    limit = integer(body, "max_completion_tokens", 1, MAX_TOKENS_LIMIT)
    if limit is None:
        limit = integer(body, "max_tokens", 1, MAX_TOKENS_LIMIT)
    options = optional(body, "stream_options", dict, {})
    stream = bool(optional(body, "stream", bool, False))
    specs = _tool_specs(tools)
    return finish_request(
        model, body, messages, tools, tool_specs=specs,
        tool_choice=_openai_choice(body.get("tool_choice"), bool(tools)),
        max_tokens=limit, stream=stream,
        include_usage=stream and options.get("include_usage") is True,
        reasoning_effort=optional(body, "reasoning_effort", str), cache_breakpoint=None,
        seed=optional(body, "seed", int))
