"""Usage of a finished response: the provider's report when it has one, else our count."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ciyuan.core.usage import Usage
from ciyuan.gateway.metering import MeteredCall
from ciyuan.measure.measurer import Measurer

__all__ = ["output_text", "response_usage"]


def output_text(endpoint: str, data: Mapping[str, Any]) -> str:
    """The generated text of a non-stream response (content, reasoning, tool arguments)."""
    parts: list[str] = []
    if endpoint == "messages":
        for block in data.get("content") or []:
            if isinstance(block, dict):
                for key in ("text", "thinking"):
                    if isinstance(block.get(key), str):
                        parts.append(block[key])
                if block.get("type") == "tool_use":
                    parts.append(str(block.get("input", "")))
        return "".join(parts)
    for choice in data.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        if isinstance(choice.get("text"), str):
            parts.append(choice["text"])
        message = choice.get("message") or {}
        for key in ("reasoning_content", "content"):
            if isinstance(message.get(key), str):
                parts.append(message[key])
        for tool in message.get("tool_calls") or []:
            function = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(function, dict):
                parts.append(str(function.get("name", "")))
                parts.append(str(function.get("arguments", "")))
    return "".join(parts)


def reported_usage(endpoint: str, data: Mapping[str, Any]) -> Usage | None:
    usage = data.get("usage")
    if not isinstance(usage, dict):
        return None
    if endpoint == "messages":
        return Usage.from_anthropic(usage)
    return Usage.from_openai(usage)


def response_usage(measurer: Measurer, call: MeteredCall, catalog_model: str,
                   data: Mapping[str, Any]) -> tuple[Usage, str, int]:
    """(usage, method, standard output tokens) of a non-stream response."""
    text = output_text(call.endpoint.name, data)
    standard_out = measurer.standard.count(text) if text else 0
    reported = reported_usage(call.endpoint.name, data)
    if reported is not None:
        return reported, "reported", standard_out
    native_out = measurer.count(text, catalog_model).native_tokens if text else 0
    return (Usage(input_tokens=call.input.native_tokens, output_tokens=native_out),
            "counted", standard_out)
