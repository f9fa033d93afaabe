"""Anthropic-compatible ``POST /v1/messages``, plain and streamed.

Usage as Anthropic reports it: ``input_tokens`` are the prompt tokens *not* read from or
written to the cache; ``cache_read_input_tokens`` and ``cache_creation_input_tokens`` are
the rest (caching is explicit, by ``cache_control`` blocks). A stream sends
``message_start`` (input usage, ``output_tokens`` 1), ``content_block_start``, ``ping``,
``content_block_delta``s, ``content_block_stop``, ``message_delta`` (stop reason and the
cumulative usage) and ``message_stop``.
"""

from __future__ import annotations

import json
from typing import Any

from ciyuan.sim.engine import Reply, Usage
from ciyuan.sim.exchange import PIECE, Exchange, sse, sse_template
from ciyuan.sim.generate import stream_pieces
from ciyuan.sim.models import SimModel, lookup
from ciyuan.sim.request_anthropic import anthropic_request
from ciyuan.sim.service import Service, StreamPlan, refuse, respond, run_stream

__all__ = ["anthropic_usage", "messages"]

_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def anthropic_usage(usage: Usage) -> dict[str, Any]:
    """``usage`` as Anthropic's Messages API reports it."""
    return {
        "input_tokens": usage.input_tokens - usage.input_cached_tokens
        - usage.input_cache_write_tokens,
        "cache_creation_input_tokens": usage.input_cache_write_tokens,
        "cache_read_input_tokens": usage.input_cached_tokens,
        "output_tokens": usage.output_tokens,
        "service_tier": "standard",
    }


def _tool_id(response_id: str) -> str:
    return "toolu_" + response_id.removeprefix("msg_")[:24]


def _content(reply: Reply, response_id: str) -> list[dict[str, Any]]:
    if reply.tool_call is not None:
        return [{"type": "tool_use", "id": _tool_id(response_id), "name": reply.tool_call.name,
                 "input": json.loads(reply.tool_call.arguments)}]
    return [{"type": "text", "text": reply.text}]


def _plan(model: SimModel, reply: Reply, response_id: str) -> StreamPlan:
    usage = anthropic_usage(reply.usage)
    start_usage = {**usage, "output_tokens": min(1, usage["output_tokens"])}
    message: dict[str, Any] = {
        "id": response_id, "type": "message", "role": "assistant", "model": model.name,
        "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage}
    call = reply.tool_call
    block: dict[str, Any] = {"type": "text", "text": ""} if call is None else {
        "type": "tool_use", "id": _tool_id(response_id), "name": call.name, "input": {}}
    head = [sse({"type": "message_start", "message": message}, "message_start"),
            sse({"type": "content_block_start", "index": 0, "content_block": block},
                "content_block_start"),
            sse({"type": "ping"}, "ping")]

    delta = ({"type": "text_delta", "text": PIECE} if call is None
             else {"type": "input_json_delta", "partial_json": PIECE})
    piece_event = sse_template({"type": "content_block_delta", "index": 0, "delta": delta},
                               "content_block_delta")

    def tail() -> bytes:
        return (sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
                + sse({"type": "message_delta", "delta": {"stop_reason": _STOP[reply.finish],
                                                          "stop_sequence": None},
                       "usage": usage}, "message_delta")
                + sse({"type": "message_stop"}, "message_stop"))

    pieces = stream_pieces(reply.text if call is None else call.arguments)
    return StreamPlan(model, response_id, reply, head, pieces, piece_event, tail, True,
                      prefix="" if call is None else call.name)


async def messages(service: Service, ex: Exchange) -> None:
    request = anthropic_request(ex.json_body())
    model = lookup(service.models, request.model, "chat")
    fault = service.engine.faults.draw(ex.body_sha256)
    if await refuse(service, ex, model.name, fault, request.stream):
        return
    reply = service.engine.chat(model, request, explicit_cache=True)
    response_id = "msg_" + ex.request_id[4:]
    if request.stream:
        await run_stream(service, ex, _plan(model, reply, response_id), fault)
        return
    payload = {"id": response_id, "type": "message", "role": "assistant", "model": model.name,
               "content": _content(reply, response_id), "stop_reason": _STOP[reply.finish],
               "stop_sequence": None, "usage": anthropic_usage(reply.usage)}
    await respond(service, ex, model, reply, payload, fault, response_id)
