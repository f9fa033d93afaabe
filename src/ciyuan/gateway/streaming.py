"""Relay a server-sent-event stream to the client while counting what it delivers.

Whatever ends the stream — the upstream's last event, the client going away, the upstream
failing mid-stream — the call is finished exactly once: with the provider's reported usage
when the stream completed and carried it, otherwise with input plus the output that was
actually delivered, counted with the model's tokenizer (``counted``).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator
from typing import Any

import httpx

from ciyuan.core import jsonfast
from ciyuan.core.usage import InvalidUsageError, Usage
from ciyuan.gateway.metering import Gateway, MeteredCall
from ciyuan.gateway.transport import UpstreamResponse
from ciyuan.gateway.upstream import Route
from ciyuan.measure.stream import StreamCounter
from ciyuan.quality.rubrics import MAX_FIELD_CHARS
from ciyuan.receipt.token import STREAM_LINE

__all__ = ["relay"]

#: One SSE event larger than this is passed through without being parsed for counting.
MAX_EVENT_BYTES = 4 * 1024 * 1024
#: Characters of a sampled stream's answer kept for live judging: what a judge rubric shows.
MAX_KEPT_ANSWER_CHARS = MAX_FIELD_CHARS


class _Tally:
    """Text delivered so far (native and standard counters) and any reported usage."""

    def __init__(self, gateway: Gateway, catalog_model: str, *, keep: bool = False) -> None:
        measurer = gateway.measurer
        self.native = StreamCounter(measurer.tokenizer_for(measurer.model(catalog_model)))
        self.standard = StreamCounter(measurer.standard)
        self.reported: dict[str, Any] = {}
        self.anthropic_usage: dict[str, Any] = {}
        self.digest = hashlib.sha256()
        self.completed = False
        self.answer: list[str] | None = [] if keep else None  # kept for live judging
        self._kept = 0

    def text(self, piece: str) -> None:
        if piece:
            self.native.feed(piece)
            self.standard.feed(piece)

    def answer_text(self, piece: str) -> None:
        """Visible answer text (not reasoning or tool calls), kept up to the bound if asked."""
        self.text(piece)
        if self.answer is not None and self._kept < MAX_KEPT_ANSWER_CHARS:
            kept = piece[:MAX_KEPT_ANSWER_CHARS - self._kept]
            self.answer.append(kept)
            self._kept += len(kept)


def _openai_event(tally: _Tally, data: dict[str, Any], wants_usage: bool) -> bool:
    """Count one chunk; False when the chunk must not reach the client."""
    for choice in data.get("choices") or []:
        delta = choice.get("delta") or {} if isinstance(choice, dict) else {}
        if isinstance(choice, dict) and isinstance(choice.get("text"), str):
            tally.answer_text(choice["text"])
        if isinstance(delta.get("reasoning_content"), str):
            tally.text(delta["reasoning_content"])
        if isinstance(delta.get("content"), str):
            tally.answer_text(delta["content"])
        for tool in delta.get("tool_calls") or []:
            function = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(function, dict):
                tally.text(str(function.get("name") or "") + str(function.get("arguments") or ""))
    usage = data.get("usage")
    if isinstance(usage, dict):
        tally.reported = usage
        if not wants_usage and not data.get("choices"):
            return False  # we asked for it; the client did not
    return True


def _anthropic_event(tally: _Tally, data: dict[str, Any]) -> None:
    kind = data.get("type")
    if kind == "message_start":
        tally.anthropic_usage.update((data.get("message") or {}).get("usage") or {})
    elif kind == "content_block_delta":
        delta = data.get("delta") or {}
        if isinstance(delta.get("text"), str):
            tally.answer_text(delta["text"])
        for key in ("partial_json", "thinking"):
            if isinstance(delta.get(key), str):
                tally.text(delta[key])
    elif kind == "message_delta":
        tally.anthropic_usage.update(data.get("usage") or {})
    elif kind == "message_stop":
        tally.completed = True


def _parse(event: bytes) -> dict[str, Any] | None:
    """An event's data: its ``data:`` lines joined with newlines (an event may spread its
    JSON over several, as SSE allows), parsed; None for no data, or data that is not a JSON
    object."""
    if len(event) > MAX_EVENT_BYTES:
        return None
    lines = [line[5:] for line in event.split(b"\n") if line.startswith(b"data:")]
    if not lines:
        return None
    payload = (lines[0] if len(lines) == 1 else b"\n".join(
        line[1:] if line.startswith(b" ") else line for line in lines)).strip()
    if payload == b"[DONE]":
        return {"__done__": True}
    try:
        parsed = jsonfast.loads(payload)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _take(tally: _Tally, dialect: str, wants_usage: bool, event: bytes) -> bool:
    """Count one event; whether it goes on to the client."""
    data = _parse(event)
    if data is None:
        return True
    if data.get("__done__"):
        tally.completed = True
        return True
    if dialect == "anthropic":
        _anthropic_event(tally, data)
        return True
    return _openai_event(tally, data, wants_usage)


async def relay(gateway: Gateway, call: MeteredCall, route: Route,
                response: UpstreamResponse) -> AsyncGenerator[bytes, None]:
    completed = gateway.completed
    tally = _Tally(gateway, route.catalog_model,
                   keep=completed is not None and completed.keeps_text(call.record))
    dialect = call.endpoint.dialect
    buffer = b""
    error = ""
    finished = False
    delivered_all = False  # the client has taken every piece up to the stream's end event
    wants_usage = call.client_wants_usage
    outcome: tuple[Usage, str, int, str, str, str] | None = None  # once the stream is whole
    try:
        async for chunk in response.aiter_raw():
            buffer += chunk
            if b"\r" in chunk:  # CRLF line ends (SSE allows them): framed as LF from here
                buffer = buffer.replace(b"\r\n", b"\n")
            events = buffer.split(b"\n\n")
            buffer = events.pop()  # after the last complete event (often empty)
            # the events of one read go out in one write, as they came in
            out = [event + b"\n\n" for event in events
                   if _take(tally, dialect, wants_usage, event)]
            if out:
                piece = b"".join(out)
                tally.digest.update(piece)
                yield piece
                delivered_all = tally.completed
        last = buffer.strip(b"\n")
        if last.strip():  # a last event with no blank line after it: an event all the same
            if _take(tally, dialect, wants_usage, last):
                piece = last + b"\n\n"
                tally.digest.update(piece)
                yield piece
            delivered_all = tally.completed
        outcome = _outcome(call, tally, response, "")
        try:
            record, receipt = await gateway.finish(call, route, *outcome)
        except asyncio.CancelledError:
            raise  # cut short in the settlement's wait: the finally ends the call (once)
        except BaseException:
            finished = True  # failed by itself: not a second time in the finally
            raise
        finished = True
        await gateway.durable()  # settled and receipted on disk before the receipt goes out
        if receipt:
            yield STREAM_LINE.format(token=receipt).encode("ascii")
        if completed is not None and tally.answer is not None and tally.completed:
            completed.offer(record, call.body, _as_response(dialect, "".join(tally.answer)))
    except httpx.HTTPError as exc:
        error = f"upstream stream failed: {type(exc).__name__}"
    finally:
        # synchronous first: a cancelled task cannot await, and the call must be finished
        if not finished:  # client went away, or the upstream failed mid-stream
            if outcome is None:
                outcome = _outcome(call, tally, response, error or "client disconnected",
                                   delivered_all=delivered_all)
            gateway.finish_now(call, route, *outcome)  # a settlement already made: a no-op
        await response.aclose()


def _as_response(dialect: str, answer: str) -> dict[str, Any]:
    """A streamed answer in the shape of the dialect's plain response (for live judging)."""
    if dialect == "anthropic":
        return {"content": [{"type": "text", "text": answer}]}
    return {"choices": [{"message": {"role": "assistant", "content": answer}}]}


def _outcome(call: MeteredCall, tally: _Tally, response: UpstreamResponse, error: str, *,
             delivered_all: bool = False) -> tuple[Usage, str, int, str, str, str]:
    """What the stream delivered, as ``Gateway.finish`` takes it after the call and route.
    The provider's usage counts when the stream ended whole, or when the client had taken
    everything up to its end event before it went (or the upstream failed after it)."""
    native_out = tally.native.finish()
    standard_out = tally.standard.finish()
    usage: Usage | None = None
    method = "counted"
    if tally.completed and (not error or delivered_all):
        try:
            if call.endpoint.dialect == "anthropic" and tally.anthropic_usage:
                usage, method = Usage.from_anthropic(tally.anthropic_usage), "reported"
            elif tally.reported:
                usage, method = Usage.from_openai(tally.reported), "reported"
        except InvalidUsageError as exc:  # the answer was delivered: bill it as counted
            error = error or f"provider usage not usable, counted instead: {exc.message}"[:500]
    if usage is None:
        usage = Usage(input_tokens=call.input.native_tokens, output_tokens=native_out)
    return (usage, method, standard_out, tally.digest.hexdigest(),
            response.headers.get("x-request-id", ""), error)
