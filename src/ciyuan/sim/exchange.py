"""One HTTP exchange on the raw ASGI interface: bounded body, JSON replies, SSE streams.

The sim-provider is a raw ASGI app (no framework): it is the floor the gateway's benchmarks
are measured against, so it does as little per request as it can. ``Exchange`` reads the
body (refusing more than ``MAX_BODY_BYTES``), answers JSON or a server-sent-event stream
(paced by time-to-first-token and tokens/s, else coalesced into few writes), notices a client
that goes away mid-stream, and drops the connection on purpose for injected disconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

from ciyuan.core.clock import SIMULATED_TIME_HEADER, parse_simulated_time
from ciyuan.sim.config import MAX_BODY_BYTES
from ciyuan.sim.errors import SimBadRequestError, SimBodyTooLargeError

__all__ = [
    "PIECE", "ClientGone", "Exchange", "SimulatedDisconnect", "SseWriter", "sse", "sse_template",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ApiStyle = Literal["openai", "anthropic"]

#: Unpaced stream events are coalesced into writes of about this many bytes (fewer syscalls;
#: clients parse events, not writes).
COALESCE_BYTES = 16 * 1024


class SimulatedDisconnect(Exception):  # noqa: N818 - it is an event, not an error of ours
    """Raised to make the server drop the connection (an injected ``disconnect`` fault)."""


class ClientGone(Exception):  # noqa: N818
    """The client closed the connection before the stream ended."""


def _json(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _header(scope: Any, name: bytes) -> str:
    """A request header of the ASGI scope, decoded ('' when absent or not ASCII)."""
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            try:
                return bytes(value).decode("ascii")
            except UnicodeDecodeError:
                return ""
    return ""


class Exchange:
    """The request and response of one call."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, api: ApiStyle) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.api = api
        self.request_id = "req_" + secrets.token_hex(12)
        #: the caller's own id for the request (OpenAI's X-Client-Request-Id), if it sent one
        self.client_request_id = _header(scope, b"x-client-request-id")[:512]
        self.started = time.time()
        #: the instant a gateway running ``--simulated-time`` says the call happens at
        self.simulated_at = parse_simulated_time(
            _header(scope, SIMULATED_TIME_HEADER.encode()))
        self.body = b""
        self.body_sha256 = hashlib.sha256(b"").hexdigest()
        self.client_gone = False
        self.responded = False  # the response has started: no error response any more
        self._watcher: asyncio.Task[None] | None = None

    @property
    def path(self) -> str:
        return str(self.scope.get("path", ""))

    async def read_body(self) -> bytes:
        for name, value in self.scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > MAX_BODY_BYTES:
                raise SimBodyTooLargeError(f"request body of {int(value)} bytes is over the "
                                           f"{MAX_BODY_BYTES}-byte limit; send a shorter prompt")
        chunks, size, more = [], 0, True
        while more:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientGone("the client left before sending the body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise SimBodyTooLargeError(f"request body is over the {MAX_BODY_BYTES}-byte "
                                           f"limit; send a shorter prompt")
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        self.body = b"".join(chunks)
        self.body_sha256 = hashlib.sha256(self.body).hexdigest()
        return self.body

    def json_body(self) -> dict[str, Any]:
        try:
            value = json.loads(self.body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise SimBadRequestError(f"the body is not valid UTF-8 (byte {exc.start}); send "
                                     f"UTF-8 JSON", field="body") from exc
        except ValueError as exc:
            raise SimBadRequestError(f"the body is not valid JSON ({exc}); send a JSON object",
                                     field="body") from exc
        if not isinstance(value, dict):
            raise SimBadRequestError("the body must be a JSON object", field="body")
        return value

    def _headers(self, content_type: bytes, extra: dict[str, str]) -> list[tuple[bytes, bytes]]:
        name = b"request-id" if self.api == "anthropic" else b"x-request-id"
        headers = [(b"content-type", content_type), (name, self.request_id.encode())]
        return headers + [(k.encode(), v.encode()) for k, v in extra.items()]

    async def send_json(self, status: int, payload: object,
                        headers: dict[str, str] | None = None) -> None:
        body = _json(payload)
        start = self._headers(b"application/json", headers or {})
        start.append((b"content-length", str(len(body)).encode()))
        self.responded = True
        await self._send({"type": "http.response.start", "status": status, "headers": start})
        await self._send({"type": "http.response.body", "body": body})

    async def send_partial_json(self, payload: object) -> None:
        """Send the headers and half the body of a 200 answer, then drop the connection."""
        body = _json(payload)
        start = self._headers(b"application/json", {})
        start.append((b"content-length", str(len(body)).encode()))
        self.responded = True
        await self._send({"type": "http.response.start", "status": 200, "headers": start})
        await self._send({"type": "http.response.body", "body": body[: len(body) // 2],
                          "more_body": True})
        raise SimulatedDisconnect(self.request_id)

    async def send_error(self, status: int, message: str, kind: str, code: str | None = None,
                         headers: dict[str, str] | None = None) -> None:
        """An error in the vendor's envelope (OpenAI's, or Anthropic's on /v1/messages)."""
        if self.api == "anthropic":
            payload: dict[str, Any] = {"type": "error", "error": {"type": kind,
                                                                  "message": message}}
        else:
            payload = {"error": {"message": message, "type": kind, "param": None,
                                 "code": code}}
        await self.send_json(status, payload, headers)

    # -- streams ---------------------------------------------------------------------------
    async def start_stream(self) -> None:
        headers = self._headers(b"text/event-stream; charset=utf-8",
                                {"cache-control": "no-cache"})
        self.responded = True
        await self._send({"type": "http.response.start", "status": 200, "headers": headers})
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        message = await self._receive()
        if message["type"] == "http.disconnect":
            self.client_gone = True

    async def write(self, data: bytes, more: bool = True) -> None:
        if self.client_gone:
            raise ClientGone(self.request_id)
        await self._send({"type": "http.response.body", "body": data, "more_body": more})

    async def close_stream(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None


class SseWriter:
    """Writes events of one stream, paced or coalesced.

    Paced (``tokens_per_s > 0`` or a time to first token): the event that completes token
    ``n`` of the output leaves at ``start + ttft + (reasoning + n) / rate``. Unpaced: events
    are gathered into writes of ``COALESCE_BYTES``.
    """

    def __init__(self, exchange: Exchange, ttft_ms: float, tokens_per_s: float,
                 hidden_tokens: int) -> None:
        self.exchange = exchange
        self.rate = tokens_per_s
        self.paced = tokens_per_s > 0 or ttft_ms > 0
        self.start = time.monotonic() + ttft_ms / 1000
        if tokens_per_s > 0:
            self.start += hidden_tokens / tokens_per_s
        self._buffer: list[bytes] = []
        self._size = 0

    async def event(self, data: bytes, tokens_done: float = 0.0) -> None:
        if self.paced:
            due = self.start + (tokens_done / self.rate if self.rate > 0 else 0.0)
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.exchange.write(data)
            return
        self._buffer.append(data)
        self._size += len(data)
        if self._size >= COALESCE_BYTES:
            await self.flush()

    async def flush(self) -> None:
        if self._buffer:
            data = b"".join(self._buffer)
            self._buffer, self._size = [], 0
            await self.exchange.write(data)

    async def finish(self, last: bytes) -> None:
        """Write ``last`` with anything buffered and end the response."""
        self._buffer.append(last)
        data = b"".join(self._buffer)
        self._buffer, self._size = [], 0
        await self.exchange.write(data, more=False)
        await self.exchange.close_stream()


def sse(payload: object, event: str | None = None) -> bytes:
    """One server-sent event (``event:`` line for Anthropic's named events)."""
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + _json(payload) + b"\n\n"


#: Stands for the text of a piece in a template payload.
PIECE = "\u0000piece\u0000"
_PIECE_JSON = json.dumps(PIECE).encode()


def sse_template(payload: object, event: str | None = None) -> Callable[[str], bytes]:
    """A maker of events that differ only in one string: ``payload`` holds ``PIECE`` where
    the piece goes. The rest is serialized once (a stream has hundreds of such events)."""
    before, after = sse(payload, event).split(_PIECE_JSON)

    def make(piece: str) -> bytes:
        return before + json.dumps(piece, ensure_ascii=False).encode("utf-8") + after

    return make
