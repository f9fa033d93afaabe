"""Anthropic ``POST /v1/messages`` bodies turned into a ``ChatRequest``.

Messages and tools are converted to OpenAI's format (so the Claude chat format of
``ciyuan.measure.chat`` counts them): ``system`` becomes a system message, ``tool_use`` blocks
assistant ``tool_calls``, ``tool_result`` blocks ``tool`` messages. Each tool, system block and
content block is one prompt segment; the last block marked ``cache_control`` ends the prefix
that Anthropic's prompt caching writes and reads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ciyuan.sim.config import MAX_TOKENS_LIMIT
from ciyuan.sim.errors import SimBadRequestError
from ciyuan.sim.request import ChatRequest, finish_request, integer, optional
from ciyuan.sim.tools import ToolSpec

__all__ = ["anthropic_request"]


def _blocks(content: object, where: str) -> list[Mapping[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list) and all(isinstance(b, Mapping) for b in content):
        return list(content)
    raise SimBadRequestError(f"{where} must be a string or a list of content blocks",
                             field=where)


def _block_text(block: Mapping[str, Any]) -> str:
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "tool_use":
        return json.dumps(block.get("input", {}), ensure_ascii=False, sort_keys=True)
    if kind == "tool_result":
        inner = block.get("content", "")
        if isinstance(inner, list):
            return "\n".join(str(b.get("text", "")) for b in inner if isinstance(b, Mapping))
        return str(inner)
    return f"[{kind}]"


def _convert(role: str, blocks: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One Anthropic message as OpenAI messages (tool results become ``tool`` messages)."""
    out: list[dict[str, Any]] = []
    texts = [_block_text(b) for b in blocks if b.get("type") == "text"]
    if role == "assistant":
        calls = [{"id": str(b.get("id", "")), "type": "function",
                  "function": {"name": str(b.get("name", "")), "arguments": _block_text(b)}}
                 for b in blocks if b.get("type") == "tool_use"]
        message: dict[str, Any] = {"role": "assistant", "content": "\n".join(texts)}
        if calls:
            message["tool_calls"] = calls
        return [message]
    for block in blocks:
        if block.get("type") == "tool_result":
            out.append({"role": "tool", "tool_call_id": str(block.get("tool_use_id", "")),
                        "content": _block_text(block)})
    if texts or not out:
        out.append({"role": "user", "content": "\n".join(texts)})
    return out


def _tools(raw: Sequence[object]) -> tuple[list[dict[str, Any]], list[bool]]:
    tools, marks = [], []
    for index, tool in enumerate(raw):
        if not isinstance(tool, Mapping) or not isinstance(tool.get("name"), str):
            raise SimBadRequestError(f"tools[{index}] needs a \"name\" and an \"input_schema\"",
                                     field="tools")
        schema = tool.get("input_schema")
        tools.append({"type": "function", "function": {
            "name": tool["name"], "description": str(tool.get("description", "")),
            "parameters": schema if isinstance(schema, Mapping) else {}}})
        marks.append("cache_control" in tool)
    return tools, marks


def _choice(raw: object) -> str:
    if raw is None:
        return "auto"
    kind = raw.get("type") if isinstance(raw, Mapping) else None
    if kind in ("auto", "none"):
        return str(kind)
    if kind == "any":
        return "required"
    if kind == "tool" and isinstance(raw, Mapping):
        return str(raw.get("name"))
    raise SimBadRequestError("tool_choice must be {\"type\": \"auto\" | \"any\" | \"tool\" | "
                             "\"none\"}", field="tool_choice")


def anthropic_request(body: Mapping[str, Any]) -> ChatRequest:
    """Validate a ``POST /v1/messages`` body (``max_tokens`` is required, as Anthropic's)."""
    model = optional(body, "model", str)
    messages = optional(body, "messages", list)
    max_tokens = integer(body, "max_tokens", 1, MAX_TOKENS_LIMIT)
    if model is None or not messages or max_tokens is None:
        missing = "model" if model is None else "messages" if not messages else "max_tokens"
        raise SimBadRequestError(f"{missing}: Field required (a messages request needs model, "
                                 f"max_tokens and a non-empty messages list)", field=missing)
    tools, marks = _tools(optional(body, "tools", list, []))
    converted: list[dict[str, Any]] = []
    segments: list[str] = []
    system = body.get("system")
    if system:
        blocks = _blocks(system, "system")
        converted.append({"role": "system", "content": "\n".join(map(_block_text, blocks))})
        segments += [f"<|system|>{_block_text(b)}" for b in blocks]
        marks += ["cache_control" in b for b in blocks]
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, Mapping) else None
        if role not in ("user", "assistant"):
            raise SimBadRequestError(f"messages[{index}].role must be \"user\" or \"assistant\"",
                                     field="messages", index=index)
        blocks = _blocks(message.get("content"), f"messages[{index}].content")
        converted += _convert(role, blocks)
        segments += [f"<|{role}|>{_block_text(b)}\n" for b in blocks]
        marks += ["cache_control" in b for b in blocks]
    breakpoint_ = max((i + 1 for i, marked in enumerate(marks) if marked), default=None)
    stream = bool(optional(body, "stream", bool, False))
    specs = tuple(ToolSpec(t["function"]["name"], t["function"]["parameters"]) for t in tools)
    return finish_request(
        model, body, converted, tools, segments=segments, tool_specs=specs,
        tool_choice=_choice(body.get("tool_choice")) if tools else "none",
        max_tokens=max_tokens, stream=stream, include_usage=stream, reasoning_effort=None,
        cache_breakpoint=breakpoint_)
