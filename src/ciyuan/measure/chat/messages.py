"""Chat requests in the OpenAI messages format, checked and turned into immutable values.

``parse_chat`` accepts what ``POST /v1/chat/completions`` accepts for text chats: roles
system / developer / user / assistant / tool, content as a string or a list of ``text`` and
``image_url`` parts, an optional ``name``, assistant ``tool_calls`` and tool ``tool_call_id``,
plus ``tools`` (function definitions with JSON-schema parameters). Anything else raises
``InvalidChatError`` naming the message index and field, and saying what to send instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, cast

from ciyuan.core.errors import InvalidChatError

__all__ = ["ROLES", "Chat", "Message", "Role", "ToolCall", "ToolDef", "parse_chat"]

Role = Literal["system", "developer", "user", "assistant", "tool"]
ROLES: tuple[Role, ...] = ("system", "developer", "user", "assistant", "tool")
PART_TYPES = ("text", "image_url")

#: Text parts of one message are joined with this (vLLM and SGLang do the same).
PART_SEPARATOR = "\n"
#: Nesting bound for tool schemas: deeper JSON is refused rather than risking recursion limits.
MAX_JSON_DEPTH = 64


@dataclass(frozen=True)
class ToolCall:
    """One function call made by the assistant; ``arguments`` is the JSON string as sent."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Message:
    """One message, content flattened to text (image parts are only counted)."""

    role: Role
    text: str
    name: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    images: int = 0
    text_parts: int = 1

    @property
    def is_system(self) -> bool:
        """System and developer messages play the same part in every template."""
        return self.role in ("system", "developer")


@dataclass(frozen=True, eq=False)
class ToolDef:
    """One function tool; ``spec`` is the whole definition as sent (templates print it)."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    spec: Mapping[str, Any]

    @property
    def function(self) -> Mapping[str, Any]:
        return cast(Mapping[str, Any], self.spec["function"])


@dataclass(frozen=True)
class Chat:
    messages: tuple[Message, ...]
    tools: tuple[ToolDef, ...] = ()

    @property
    def images(self) -> int:
        return sum(m.images for m in self.messages)

    @property
    def uses_tools(self) -> bool:
        """True when tool definitions, tool calls or tool results take part."""
        return bool(self.tools) or any(m.tool_calls or m.role == "tool" for m in self.messages)

    @property
    def multi_part(self) -> bool:
        return any(m.text_parts > 1 for m in self.messages)


def _fail(where: str, problem: str, fix: str, index: int | None = None) -> NoReturn:
    details: dict[str, object] = {"field": where}
    if index is not None:
        details["index"] = index
    raise InvalidChatError(f"{where}: {problem}; {fix}", **details)


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _string(value: object, where: str, fix: str, index: int | None = None) -> str:
    if not isinstance(value, str):
        _fail(where, f"expected a string, got {_kind(value)}", fix, index)
    return value


def _content(raw: Mapping[str, Any], where: str, index: int) -> tuple[str, int, int]:
    """(text, image parts, text parts) of a message's ``content``."""
    content = raw.get("content")
    if content is None:
        return "", 0, 0
    if isinstance(content, str):
        return content, 0, 1
    if not isinstance(content, Sequence) or isinstance(content, bytes | bytearray):
        _fail(f"{where}.content", f"expected a string or a list of parts, got {_kind(content)}",
              'send "content": "text" or [{"type": "text", "text": "..."}]', index)
    texts: list[str] = []
    images = 0
    for j, part in enumerate(content):
        at = f"{where}.content[{j}]"
        if not isinstance(part, Mapping):
            _fail(at, f"expected a part object, got {_kind(part)}",
                  'send {"type": "text", "text": "..."}', index)
        kind = part.get("type")
        if kind == "text":
            texts.append(_string(part.get("text"), f"{at}.text",
                                 'a text part needs "text": "..."', index))
        elif kind == "image_url":
            _image(part.get("image_url"), f"{at}.image_url", index)
            images += 1
        else:
            _fail(f"{at}.type", f"unsupported part type {kind!r}",
                  f"chat counting takes {' or '.join(PART_TYPES)} parts; count audio and files "
                  "with ciyuan's multimodal counters", index)
    return PART_SEPARATOR.join(texts), images, len(texts)


def _image(value: object, where: str, index: int) -> None:
    url = value.get("url") if isinstance(value, Mapping) else value
    if not isinstance(url, str) or not url:
        _fail(where, "an image_url part needs a URL",
              'send "image_url": {"url": "https://... or data:image/png;base64,..."}', index)


def _tool_calls(raw: Mapping[str, Any], role: str, where: str, index: int) -> tuple[ToolCall, ...]:
    calls = raw.get("tool_calls")
    if calls is None:
        return ()
    if role != "assistant":
        _fail(f"{where}.tool_calls", f"a {role} message cannot carry tool_calls",
              "move the calls to an assistant message", index)
    if not isinstance(calls, Sequence) or isinstance(calls, str | bytes | bytearray):
        _fail(f"{where}.tool_calls", f"expected a list, got {_kind(calls)}",
              'send [{"id": "...", "type": "function", "function": {...}}]', index)
    return tuple(_tool_call(call, f"{where}.tool_calls[{j}]", index)
                 for j, call in enumerate(calls))


def _tool_call(call: object, where: str, index: int) -> ToolCall:
    if not isinstance(call, Mapping):
        _fail(where, f"expected a tool call object, got {_kind(call)}",
              'send {"id": "...", "type": "function", "function": {"name": ..., "arguments": ...}}',
              index)
    if call.get("type", "function") != "function":
        _fail(f"{where}.type", f"unsupported tool call type {call.get('type')!r}",
              'only "function" tool calls are counted', index)
    function = call.get("function")
    if not isinstance(function, Mapping):
        _fail(f"{where}.function", f"expected an object, got {_kind(function)}",
              'send "function": {"name": "...", "arguments": "{...}"}', index)
    name = _string(function.get("name"), f"{where}.function.name",
                   "give the called function's name", index)
    arguments = function.get("arguments", "")
    if not isinstance(arguments, str):
        _fail(f"{where}.function.arguments", f"expected a JSON string, got {_kind(arguments)}",
              "send the arguments encoded as a string: json.dumps(arguments)", index)
    call_id = call.get("id", "")
    return ToolCall(id=_string(call_id, f"{where}.id", "give the call id as a string", index),
                    name=name, arguments=arguments)


def _message(raw: object, index: int) -> Message:
    where = f"messages[{index}]"
    if not isinstance(raw, Mapping):
        _fail(where, f"expected a message object, got {_kind(raw)}",
              'send {"role": "user", "content": "..."}', index)
    role = raw.get("role")
    if role not in ROLES:
        _fail(f"{where}.role", f"unknown role {role!r}" if role is not None else "missing",
              f"use one of {', '.join(ROLES)}", index)
    text, images, parts = _content(raw, where, index)
    calls = _tool_calls(raw, role, where, index)
    if raw.get("content") is None and not (role == "assistant" and calls):
        _fail(f"{where}.content", "missing", "only an assistant message with tool_calls may "
              'omit its content; send "content": "..."', index)
    name = raw.get("name")
    if name is not None:
        _string(name, f"{where}.name", "send the participant name as a string", index)
    call_id = raw.get("tool_call_id")
    if role == "tool":
        call_id = _string(call_id, f"{where}.tool_call_id",
                          "a tool message needs the id of the call it answers", index)
    return Message(role=role, text=text, name=name or None, tool_calls=calls,
                   tool_call_id=call_id if isinstance(call_id, str) else None,
                   images=images, text_parts=parts)


def _depth(value: object, limit: int) -> bool:
    """True when ``value`` nests no deeper than ``limit`` levels."""
    if limit < 0:
        return False
    if isinstance(value, Mapping):
        return all(_depth(v, limit - 1) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_depth(v, limit - 1) for v in value)
    return True


def _tool(raw: object, index: int) -> ToolDef:
    where = f"tools[{index}]"
    if not isinstance(raw, Mapping) or raw.get("type", "function") != "function":
        _fail(where, "expected a function tool",
              'send {"type": "function", "function": {"name": ..., "parameters": {...}}}')
    function = raw.get("function")
    if not isinstance(function, Mapping):
        _fail(f"{where}.function", f"expected an object, got {_kind(function)}",
              'send "function": {"name": "...", "description": "...", "parameters": {...}}')
    name = _string(function.get("name"), f"{where}.function.name", "give the function a name")
    description = function.get("description", "")
    _string(description, f"{where}.function.description", "describe the function in a string")
    parameters = function.get("parameters", {})
    if not isinstance(parameters, Mapping):
        _fail(f"{where}.function.parameters", f"expected a JSON schema object, got "
              f"{_kind(parameters)}", 'send {"type": "object", "properties": {...}}')
    if not _depth(raw, MAX_JSON_DEPTH):
        _fail(where, f"nested deeper than {MAX_JSON_DEPTH} levels", "flatten the schema")
    try:
        json.dumps(raw)
    except (TypeError, ValueError) as exc:
        _fail(where, f"not JSON-serialisable ({exc})", "send plain JSON values")
    return ToolDef(name=name, description=description or "", parameters=parameters, spec=raw)


def parse_chat(messages: object, tools: object = None) -> Chat:
    """Check ``messages`` (and ``tools``) and return them as a ``Chat``."""
    if not isinstance(messages, Sequence) or isinstance(messages, str | bytes | bytearray):
        _fail("messages", f"expected a list of messages, got {_kind(messages)}",
              'send [{"role": "user", "content": "..."}]')
    if not messages:
        _fail("messages", "empty", "send at least one message")
    parsed = tuple(_message(raw, i) for i, raw in enumerate(messages))
    if tools is None:
        return Chat(parsed)
    if not isinstance(tools, Sequence) or isinstance(tools, str | bytes | bytearray):
        _fail("tools", f"expected a list of tool definitions, got {_kind(tools)}",
              'send [{"type": "function", "function": {...}}] or leave tools out')
    return Chat(parsed, tuple(_tool(raw, i) for i, raw in enumerate(tools)))
