"""The bodies we meter: parse once, validate what we rely on, count the input.

Unknown fields pass through untouched (we forward the client's bytes, only rewriting
``model`` when the upstream knows the model by another name, and asking for stream usage).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ciyuan.core import jsonfast
from ciyuan.core.errors import InputError
from ciyuan.gateway.errors import BodyTooLargeError
from ciyuan.gateway.limits import MAX_BODY_BYTES
from ciyuan.measure.chat import count_chat
from ciyuan.measure.measurer import Measurer

__all__ = ["Endpoint", "ENDPOINTS", "InputCount", "parse_body", "count_input", "forward_body",
           "read_bounded"]

Dialect = Literal["openai", "anthropic"]


@dataclass(frozen=True)
class Endpoint:
    name: str  # usage-record endpoint name
    path: str  # upstream path after the base URL
    dialect: Dialect
    streams: bool = True
    embeds: bool = False


ENDPOINTS = {
    "chat.completions": Endpoint("chat.completions", "/chat/completions", "openai"),
    "completions": Endpoint("completions", "/completions", "openai"),
    "embeddings": Endpoint("embeddings", "/embeddings", "openai", streams=False, embeds=True),
    "messages": Endpoint("messages", "/messages", "anthropic"),
}


@dataclass(frozen=True)
class InputCount:
    native_tokens: int
    standard_tokens: int
    method: str  # counted | estimated


async def read_bounded(chunks: AsyncIterable[bytes], max_bytes: int, too_large: str,
                       **details: Any) -> bytes:
    """The whole body, refused with ``too_large`` as soon as it passes ``max_bytes`` (so an
    oversized upload is never held in memory)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLargeError(too_large, **details)
        parts.append(chunk)
    return b"".join(parts)


def parse_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body, or a typed error that says what is wrong."""
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLargeError(
            f"request body is {len(raw):,} bytes, over the limit of {MAX_BODY_BYTES:,}: send "
            f"images by URL or split the request", limit=MAX_BODY_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"request body is not valid UTF-8 at byte {exc.start}: send JSON "
                         f"encoded as UTF-8", field="body") from None
    try:
        body = jsonfast.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"request body is not valid JSON ({exc.msg} at line {exc.lineno} "
                         f"column {exc.colno})", field="body") from None
    if not isinstance(body, dict):
        raise InputError("request body must be a JSON object", field="body")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InputError("`model` is required and must be a string, e.g. \"gpt-4o\"",
                         field="model")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise InputError("`stream` must be true or false", field="stream")
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):
            raise InputError(f"`{name}` must be a positive integer", field=name)
    return body


def max_output_tokens(body: Mapping[str, Any], model_max: int, default: int) -> int:
    """The most output tokens the call can produce (for the budget reservation)."""
    asked = body.get("max_completion_tokens") or body.get("max_tokens")
    cap = model_max or default
    return min(int(asked), cap) if isinstance(asked, int) and asked > 0 else cap


def _anthropic_as_openai(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    system = body.get("system")
    if isinstance(system, str):
        messages.append({"role": "system", "content": system})
    elif isinstance(system, list):
        messages.append({"role": "system", "content": _blocks_text(system)})
    elif system is not None:
        raise InputError("`system` must be a string or a list of content blocks",
                         field="system")
    listed = body.get("messages")
    if not isinstance(listed, list) or not listed:
        raise InputError("`messages` must be a non-empty list", field="messages")
    for message in listed:
        if not isinstance(message, dict):
            raise InputError("`messages` must be a list of objects", field="messages")
        content = message.get("content")
        text = content if isinstance(content, str) else _blocks_text(content or [])
        role = message.get("role", "user")
        if role not in ("user", "assistant"):
            raise InputError("each message's `role` must be \"user\" or \"assistant\"",
                             field="messages.role")
        messages.append({"role": role, "content": text})
    return messages


def _blocks_text(blocks: Any) -> str:
    if not isinstance(blocks, list):
        raise InputError("content must be a string or a list of blocks", field="content")
    parts = []
    for block in blocks:
        if isinstance(block, dict):
            if isinstance(block.get("text"), str):
                parts.append(block["text"])
            elif block.get("type") == "tool_result":
                inner = block.get("content")
                parts.append(inner if isinstance(inner, str) else json.dumps(inner))
            elif block.get("type") == "tool_use":
                parts.append(json.dumps(block.get("input", {}), ensure_ascii=False))
    return "\n".join(parts)


def _texts(value: Any, field: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, list):  # token arrays are already counted
        return []
    raise InputError(f"`{field}` must be a string or a list of strings", field=field)


def count_input(measurer: Measurer, endpoint: Endpoint, body: Mapping[str, Any],
                model: str) -> InputCount:
    """Native and standard input tokens of the request, as the model will count them."""
    if endpoint.name == "chat.completions" or endpoint.name == "messages":
        messages = (body.get("messages") if endpoint.name == "chat.completions"
                    else _anthropic_as_openai(body))
        if not isinstance(messages, list) or not messages:
            raise InputError("`messages` must be a non-empty list", field="messages")
        tools = body.get("tools") if endpoint.name == "chat.completions" else None
        chat = count_chat(measurer, messages, model, tools=tools)
        return InputCount(chat.native_tokens, chat.standard_tokens, chat.method)
    field = "input" if endpoint.embeds else "prompt"
    texts = _texts(body.get(field, ""), field)
    results = [measurer.count(t, model) for t in texts]
    return InputCount(sum(r.native_tokens for r in results),
                      sum(r.standard_tokens for r in results),
                      results[0].method if results else "counted")


def forward_body(body: dict[str, Any], raw: bytes, upstream_model: str,
                 stream: bool, dialect: Dialect) -> bytes:
    """The bytes to send upstream: the client's own unless we must change something."""
    changed = False
    if body.get("model") != upstream_model:
        body = {**body, "model": upstream_model}
        changed = True
    if stream and dialect == "openai":
        options = body.get("stream_options")
        if not (isinstance(options, dict) and options.get("include_usage")):
            merged = dict(options) if isinstance(options, dict) else {}
            merged["include_usage"] = True
            body = {**body, "stream_options": merged}
            changed = True
    return json.dumps(body, ensure_ascii=False).encode("utf-8") if changed else raw
