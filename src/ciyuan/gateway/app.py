"""HTTP routes of the gateway: the ``/v1`` call routes as a lean ASGI handler, and
``/v1/models``, ``/healthz``, ``/metrics``, the dashboard and the admin API (``/api``) on
Starlette.

Why the call routes skip Starlette: they are the hot path, and Starlette's routing,
middleware stack, ``Request`` and ``StreamingResponse`` (a task group with a second task per
stream to watch for the client leaving) cost about a tenth of a call's CPU (measured, see
docs/performance.md). A call route needs none of it: one path lookup, the body read under
its limit, one response. A stream still stops when the client goes away: one waiter on
``receive`` cancels the relay, whose ``finally`` bills what was delivered.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.routing import Route as HttpRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ciyuan.core import jsonfast
from ciyuan.core.clock import SIMULATED_TIME_HEADER, parse_simulated_time, simulated_now
from ciyuan.core.errors import CiyuanError
from ciyuan.core.records import RECORD_HEADER
from ciyuan.gateway.errors import (
    GatewayError,
    MethodNotAllowedError,
    UpstreamFailedError,
    error_body,
    status_of,
)
from ciyuan.gateway.limits import MAX_BODY_BYTES, MAX_RESPONSE_BYTES
from ciyuan.gateway.measuring import response_usage
from ciyuan.gateway.metering import Gateway, MeteredCall
from ciyuan.gateway.requests import (
    ENDPOINTS,
    Endpoint,
    forward_body,
    parse_body,
    read_bounded,
)
from ciyuan.gateway.streaming import relay
from ciyuan.gateway.upstream import open_routes

__all__ = ["GatewayApp", "SimulatedTime", "build_app"]

_log = logging.getLogger("ciyuan.gateway")
RECEIPT_HEADER = "x-ciyuan-receipt"
_JSON = "application/json"
_EVENT_STREAM = "text/event-stream; charset=utf-8"


@dataclass
class _Reply:
    """One answer of a call route: a whole body, or a stream of pieces."""

    status: int
    media_type: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream: AsyncGenerator[bytes, None] | None = None

    def start(self) -> Message:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        headers.append((b"content-type", self.media_type.encode("latin-1")))
        if self.stream is None:
            headers.append((b"content-length", str(len(self.body)).encode()))
        return {"type": "http.response.start", "status": self.status, "headers": headers}


class _ClientGone(Exception):
    """The client left before its request body was read: nothing to answer, nothing billed."""


async def _chunks(receive: Receive) -> AsyncIterator[bytes]:
    """The request body as it arrives (an ASGI ``receive`` loop)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


async def _read_body(receive: Receive) -> bytes:
    return await read_bounded(_chunks(receive), MAX_BODY_BYTES,
                              f"request body is over the limit of {MAX_BODY_BYTES:,} bytes: "
                              "send images by URL or split the request")


def _error(error: CiyuanError, endpoint: Endpoint) -> _Reply:
    headers = {}
    retry = error.details.get("retry_after_s")
    if retry is not None:
        headers["retry-after"] = str(max(1, round(float(str(retry)))))
    return _Reply(status_of(error), _JSON, error_body(error, endpoint.dialect), headers)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def _proxy(gateway: Gateway, endpoint: Endpoint, scope: Scope, receive: Receive
                 ) -> _Reply:
    started = time.perf_counter()
    raw = await _read_body(receive)
    body = parse_body(raw)
    headers = _headers(scope)
    headers["x-ciyuan-body-sha256"] = hashlib.sha256(raw).hexdigest()
    call = await gateway.prepare(endpoint, headers, body, started)
    bodies = [forward_body(body, raw, r.upstream_model, call.stream, endpoint.dialect)
              for r in call.routes]
    try:
        await gateway.durable()  # the hold and the write-ahead record first, then the call
        route, upstream = await open_routes(call.routes, endpoint.path, bodies, call.record.id)
    except CiyuanError as exc:
        gateway.abandon(call, exc.message)
        gateway.metrics.upstream_errors.labels(call.routes[0].upstream.name, exc.code).inc()
        raise
    out_headers = {RECORD_HEADER: call.record.id}
    if upstream.status_code >= 400:  # the provider refused: pass its answer on, bill nothing
        content = await upstream.aread()
        await upstream.aclose()
        gateway.abandon(call, f"upstream HTTP {upstream.status_code}")
        return _Reply(upstream.status_code, upstream.headers.get("content-type", _JSON),
                      content, out_headers)
    if call.stream:
        return _Reply(200, _EVENT_STREAM, headers=out_headers,
                      stream=relay(gateway, call, route, upstream))
    return await _complete(gateway, call, route, upstream, out_headers)


async def _complete(gateway: Gateway, call: MeteredCall, route: Any, upstream: Any,
                    headers: dict[str, str]) -> _Reply:
    content = b""
    try:  # up to the usage it reports: a failure here answers nothing, so it bills nothing
        try:
            async for piece in upstream.aiter_raw():
                content += piece
                if len(content) > MAX_RESPONSE_BYTES:
                    raise UpstreamFailedError("upstream response is over the gateway's limit; "
                                              "not billed")
        finally:
            await upstream.aclose()
        try:
            data = jsonfast.loads(content)
        except ValueError:
            raise UpstreamFailedError("the upstream answered with invalid JSON; not billed"
                                      ) from None
        usage, method, standard_out = response_usage(gateway.measurer, call,
                                                     route.catalog_model, data)
    except CiyuanError as exc:
        gateway.abandon(call, exc.message)
        raise
    digest = hashlib.sha256(content).hexdigest()
    record, receipt = await gateway.finish(call, route, usage, method, standard_out, digest,
                                           upstream.headers.get("x-request-id", ""))
    if receipt:
        headers[RECEIPT_HEADER] = receipt
    await gateway.durable()  # settled, receipted and completed on disk before the answer
    if gateway.completed is not None and isinstance(data, dict):
        gateway.completed.offer(record, call.body, data)
    gateway.metrics.latency.labels(call.endpoint.name, "false").observe(
        time.perf_counter() - call.started)
    return _Reply(upstream.status_code, _JSON, content, headers)


async def _stream(reply: _Reply, receive: Receive, send: Send) -> None:
    """Send a stream's pieces; if the client goes away first, stop the relay (cancelled,
    its ``finally`` bills what was delivered) and return quietly."""
    pieces, task = reply.stream, asyncio.current_task()
    assert pieces is not None and task is not None
    ended = False

    def gone(waiter: asyncio.Future[Message]) -> None:
        if not ended and not waiter.cancelled():
            task.cancel()

    waiter = asyncio.ensure_future(receive())  # http.disconnect, once the client leaves
    waiter.add_done_callback(gone)
    try:
        await send(reply.start())
        async for piece in pieces:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        ended = True
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    except asyncio.CancelledError:
        if ended or not waiter.done() or task.uncancel() > 0:
            raise  # not the client leaving: a real cancellation
    finally:
        ended = True
        waiter.cancel()
        await pieces.aclose()  # a relay stopped between pieces finishes its call now


class GatewayApp:
    """The gateway's ASGI app: POST on the ``/v1`` call routes answered here, everything
    else by ``rest`` (Starlette)."""

    def __init__(self, gateway: Gateway, rest: ASGIApp) -> None:
        self.gateway = gateway
        self.rest = rest
        self._routes = {f"/v1{e.path}": e for e in ENDPOINTS.values()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self._routes.get(scope["path"]) if scope["type"] == "http" else None
        if endpoint is None:
            await self.rest(scope, receive, send)
            return
        try:
            reply = await self._reply(endpoint, scope, receive)
        except _ClientGone:
            return
        self.gateway.metrics.requests.labels(endpoint.name, "?", str(reply.status)).inc()
        if reply.stream is not None:
            await _stream(reply, receive, send)
            return
        await send(reply.start())
        await send({"type": "http.response.body", "body": reply.body, "more_body": False})

    async def _reply(self, endpoint: Endpoint, scope: Scope, receive: Receive) -> _Reply:
        try:
            if scope["method"] != "POST":
                raise MethodNotAllowedError(f"{scope['method']} {scope['path']} is not served: "
                                            "send the call with POST")
            return await _proxy(self.gateway, endpoint, scope, receive)
        except CiyuanError as exc:
            return _error(exc, endpoint)
        except _ClientGone:
            raise
        except Exception:  # a bug: log it, answer in the envelope, never a stack trace
            _log.exception("gateway failed on %s", endpoint.name)
            return _error(GatewayError("the gateway failed on this request; it was not billed "
                                       "beyond what was delivered — please report it with the "
                                       "time of the call"), endpoint)


def build_app(gateway: Gateway, admin: ASGIApp | None = None,
              extra: Sequence[BaseRoute] = ()) -> GatewayApp:
    """The gateway's ASGI app, assembled in one place."""

    async def models(request: Request) -> Response:
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "ciyuan"}
                for m in gateway.router.models()]
        return JSONResponse({"object": "list", "data": data})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        return Response(gateway.metrics.render(), media_type="text/plain; version=0.0.4")

    routes: list[BaseRoute] = [
        HttpRoute("/v1/models", models, methods=["GET"]),
        HttpRoute("/healthz", healthz, methods=["GET"]),
        HttpRoute("/metrics", metrics, methods=["GET"]),
    ]
    routes += extra
    if admin is not None:
        routes.append(Mount("/api", app=admin))
    return GatewayApp(gateway, Starlette(routes=routes))


class SimulatedTime:
    """ASGI middleware of ``--simulated-time``: each request runs at the instant its
    ``X-Ciyuan-Simulated-Time`` header names (see ``ciyuan.core.clock``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        instant = None
        if scope["type"] == "http":
            for name, value in scope.get("headers", ()):
                if name == SIMULATED_TIME_HEADER.encode():
                    instant = parse_simulated_time(value.decode("latin-1"))
        token = simulated_now.set(instant)
        try:
            await self.app(scope, receive, send)
        finally:
            simulated_now.reset(token)
