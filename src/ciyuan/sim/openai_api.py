"""OpenAI-compatible endpoints: chat completions, completions, embeddings and models.

Usage is reported as OpenAI does: ``prompt_tokens`` with ``prompt_tokens_details.
cached_tokens``, ``completion_tokens`` including ``completion_tokens_details.
reasoning_tokens``. A stream carries usage only when ``stream_options.include_usage`` is
true, and then only in one last chunk with an empty ``choices`` list; every earlier chunk has
``"usage": null``.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Callable
from typing import Any

from ciyuan.sim.config import (
    LEGACY_COMPLETION_MAX_TOKENS,
    MAX_EMBEDDING_DIMS,
    MAX_EMBEDDING_INPUTS,
    MAX_TOKENS_LIMIT,
)
from ciyuan.sim.engine import Reply, Usage
from ciyuan.sim.errors import SimBadRequestError
from ciyuan.sim.exchange import PIECE, Exchange, sse, sse_template
from ciyuan.sim.generate import stream_pieces
from ciyuan.sim.models import SimModel, lookup
from ciyuan.sim.request import ChatRequest, integer, openai_chat_request, optional
from ciyuan.sim.service import Service, StreamPlan, refuse, respond, run_stream

__all__ = ["chat_completions", "completions", "embeddings", "list_models", "openai_usage"]

#: ``system_fingerprint`` of every answer (the simulator's "backend configuration").
FINGERPRINT = "fp_ciyuan_sim"
DONE = b"data: [DONE]\n\n"


def openai_usage(usage: Usage) -> dict[str, Any]:
    """``usage`` as OpenAI's chat and completions APIs report it."""
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.input_cached_tokens,
                                  "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": usage.output_reasoning_tokens,
                                      "audio_tokens": 0, "accepted_prediction_tokens": 0,
                                      "rejected_prediction_tokens": 0},
    }


def _call_id(response_id: str) -> str:
    return "call_" + response_id.rsplit("-", 1)[-1][:24]


def _message(reply: Reply, response_id: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text, "refusal": None,
                               "annotations": []}
    if reply.tool_call is not None:
        message["content"] = None
        message["tool_calls"] = [{"id": _call_id(response_id), "type": "function", "function": {
            "name": reply.tool_call.name, "arguments": reply.tool_call.arguments}}]
    return message


def _chat_plan(model: SimModel, request: ChatRequest, reply: Reply, response_id: str,
               created: int) -> StreamPlan:
    base = {"id": response_id, "object": "chat.completion.chunk", "created": created,
            "model": model.name, "service_tier": "default", "system_fingerprint": FINGERPRINT}
    usage_field = {"usage": None} if request.include_usage else {}

    def payload(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                     "finish_reason": finish}], **usage_field}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return sse(payload(delta, finish))

    def template(delta: dict[str, Any]) -> Callable[[str], bytes]:
        return sse_template(payload(delta))

    def tail() -> bytes:
        last = chunk({}, reply.finish)
        if request.include_usage:
            last += sse({**base, "choices": [], "usage": openai_usage(reply.usage)})
        return last + DONE

    call = reply.tool_call
    if call is None:
        head = [chunk({"role": "assistant", "content": "", "refusal": None})]
        return StreamPlan(model, response_id, reply, head, stream_pieces(reply.text),
                          template({"content": PIECE}), tail, request.include_usage)
    head = [chunk({"role": "assistant", "content": None, "tool_calls": [{
        "index": 0, "id": _call_id(response_id), "type": "function",
        "function": {"name": call.name, "arguments": ""}}]})]
    piece_event = template({"tool_calls": [{"index": 0, "function": {"arguments": PIECE}}]})
    return StreamPlan(model, response_id, reply, head, stream_pieces(call.arguments),
                      piece_event, tail, request.include_usage, prefix=call.name)


async def chat_completions(service: Service, ex: Exchange) -> None:
    request = openai_chat_request(ex.json_body())
    model = lookup(service.models, request.model, "chat")
    fault = service.engine.faults.draw(ex.body_sha256)
    if await refuse(service, ex, model.name, fault, request.stream):
        return
    reply = service.engine.chat(model, request, explicit_cache=False)
    response_id = "chatcmpl-" + ex.request_id[4:]
    created = int(ex.started)
    if request.stream:
        plan = _chat_plan(model, request, reply, response_id, created)
        await run_stream(service, ex, plan, fault)
        return
    payload = {"id": response_id, "object": "chat.completion", "created": created,
               "model": model.name, "choices": [{"index": 0, "message": _message(
                   reply, response_id), "logprobs": None, "finish_reason": reply.finish}],
               "usage": openai_usage(reply.usage), "service_tier": "default",
               "system_fingerprint": FINGERPRINT}
    await respond(service, ex, model, reply, payload, fault, response_id)


async def completions(service: Service, ex: Exchange) -> None:
    body = ex.json_body()
    model = lookup(service.models, optional(body, "model", str), "chat")
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1:
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise SimBadRequestError("prompt must be a string (one prompt per call here)",
                                 field="prompt")
    limit = integer(body, "max_tokens", 1, MAX_TOKENS_LIMIT) or LEGACY_COMPLETION_MAX_TOKENS
    stream = bool(optional(body, "stream", bool, False))
    include_usage = stream and optional(body, "stream_options", dict, {}).get(
        "include_usage") is True
    fault = service.engine.faults.draw(ex.body_sha256)
    if await refuse(service, ex, model.name, fault, stream):
        return
    key = json.dumps([prompt, body.get("seed"), body.get("suffix")], ensure_ascii=False)
    reply = service.engine.complete(model, prompt, limit, key)
    response_id = "cmpl-" + ex.request_id[4:]
    base = {"id": response_id, "object": "text_completion", "created": int(ex.started),
            "model": model.name, "system_fingerprint": FINGERPRINT}

    def choice(text: str, finish: str | None) -> dict[str, Any]:
        return {**base, "choices": [{"text": text, "index": 0, "logprobs": None,
                                     "finish_reason": finish}]}

    if not stream:
        payload = {**choice(reply.text, reply.finish), "usage": openai_usage(reply.usage)}
        await respond(service, ex, model, reply, payload, fault, response_id)
        return

    def tail() -> bytes:
        last = sse({**choice("", reply.finish), **({"usage": None} if include_usage else {})})
        if include_usage:
            last += sse({**base, "choices": [], "usage": openai_usage(reply.usage)})
        return last + DONE

    extra = {"usage": None} if include_usage else {}
    plan = StreamPlan(model, response_id, reply, [], stream_pieces(reply.text),
                      sse_template({**choice(PIECE, None), **extra}), tail, include_usage)
    await run_stream(service, ex, plan, fault)


def _embedding_inputs(raw: object) -> list[str | list[int]]:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw):
        return [list(raw)]
    if (isinstance(raw, list) and 0 < len(raw) <= MAX_EMBEDDING_INPUTS and all(
            isinstance(x, str) or (isinstance(x, list) and all(isinstance(i, int) for i in x))
            for x in raw)):
        return list(raw)
    raise SimBadRequestError(f"input must be a string, a list of up to {MAX_EMBEDDING_INPUTS} "
                             f"strings, or token arrays", field="input")


async def embeddings(service: Service, ex: Exchange) -> None:
    body = ex.json_body()
    model = lookup(service.models, optional(body, "model", str), "embedding")
    inputs = _embedding_inputs(body.get("input"))
    dimensions = integer(body, "dimensions", 1, MAX_EMBEDDING_DIMS) or model.dimensions
    encoding = optional(body, "encoding_format", str, "float")
    if encoding not in ("float", "base64"):
        raise SimBadRequestError("encoding_format must be \"float\" or \"base64\"",
                                 field="encoding_format")
    fault = service.engine.faults.draw(ex.body_sha256)
    if await refuse(service, ex, model.name, fault, False):
        return
    vectors, tokens = service.engine.embed(model, inputs, dimensions)
    data = [{"object": "embedding", "index": i, "embedding": (
        base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode() if encoding == "base64"
        else v)} for i, v in enumerate(vectors)]
    payload = {"object": "list", "data": data, "model": model.name,
               "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
    reply = Reply("", None, "stop", Usage(input_tokens=tokens))
    await respond(service, ex, model, reply, payload, fault, "emb-" + ex.request_id[4:])


async def list_models(service: Service, ex: Exchange) -> None:
    cards = [m.card(service.started) for m in service.models.values()]
    await ex.send_json(200, {"object": "list", "data": cards})
