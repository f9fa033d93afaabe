"""HTTP routes of the gateway (Starlette): ``/v1`` proxy surfaces, ``/healthz``, ``/metrics``,
and the admin API mounted under ``/api``."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount
from starlette.routing import Route as HttpRoute
from starlette.types import ASGIApp

from ciyuan.core.clock import SIMULATED_TIME_HEADER, parse_simulated_time, simulated_now
from ciyuan.core.errors import CiyuanError
from ciyuan.core.records import RECORD_HEADER
from ciyuan.gateway.errors import (
    GatewayError,
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

__all__ = ["SimulatedTime", "build_app"]

_log = logging.getLogger("ciyuan.gateway")
RECEIPT_HEADER = "x-ciyuan-receipt"


async def _read_body(request: Request) -> bytes:
    return await read_bounded(request.stream(), MAX_BODY_BYTES,
                              f"request body is over the limit of {MAX_BODY_BYTES:,} bytes: "
                              "send images by URL or split the request")


def _error(error: CiyuanError, endpoint: Endpoint) -> Response:
    headers = {}
    retry = error.details.get("retry_after_s")
    if retry is not None:
        headers["retry-after"] = str(max(1, round(float(str(retry)))))
    return Response(error_body(error, endpoint.dialect), status_code=status_of(error),
                    media_type="application/json", headers=headers)


async def _proxy(gateway: Gateway, endpoint: Endpoint, request: Request) -> Response:
    started = time.perf_counter()
    raw = await _read_body(request)
    body = parse_body(raw)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["x-ciyuan-body-sha256"] = hashlib.sha256(raw).hexdigest()
    call = gateway.prepare(endpoint, headers, body, started)
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
        return Response(content, status_code=upstream.status_code, headers=out_headers,
                        media_type=upstream.headers.get("content-type", "application/json"))
    if call.stream:
        return StreamingResponse(relay(gateway, call, route, upstream), headers=out_headers,
                                 media_type="text/event-stream")
    return await _complete(gateway, call, route, upstream, out_headers)


async def _complete(gateway: Gateway, call: MeteredCall, route: Any, upstream: Any,
                    headers: dict[str, str]) -> Response:
    content = b""
    try:
        async for piece in upstream.aiter_raw():
            content += piece
            if len(content) > MAX_RESPONSE_BYTES:
                raise UpstreamFailedError("upstream response is over the gateway's limit")
    finally:
        await upstream.aclose()
    try:
        data = json.loads(content)
    except ValueError:
        gateway.abandon(call, "upstream answered with invalid JSON")
        raise UpstreamFailedError("the upstream answered with invalid JSON; not billed") from None
    usage, method, standard_out = response_usage(gateway.measurer, call, route.catalog_model,
                                                 data)
    digest = hashlib.sha256(content).hexdigest()
    record, receipt = gateway.finish(call, route, usage, method, standard_out, digest,
                                     upstream.headers.get("x-request-id", ""))
    if receipt:
        headers[RECEIPT_HEADER] = receipt
    await gateway.durable()  # settled, receipted and completed on disk before the answer
    if gateway.completed is not None and isinstance(data, dict):
        gateway.completed.offer(record, call.body, data)
    gateway.metrics.latency.labels(call.endpoint.name, "false").observe(
        time.perf_counter() - call.started)
    return Response(content, status_code=upstream.status_code, headers=headers,
                    media_type="application/json")


def _endpoint(gateway: Gateway, endpoint: Endpoint
              ) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        model = "?"
        try:
            response = await _proxy(gateway, endpoint, request)
        except CiyuanError as exc:
            response = _error(exc, endpoint)
        except Exception:  # a bug: log it, answer in the envelope, never a stack trace
            _log.exception("gateway failed on %s", endpoint.name)
            response = _error(GatewayError("the gateway failed on this request; it was not "
                                           "billed beyond what was delivered — please report "
                                           "it with the time of the call"), endpoint)
        gateway.metrics.requests.labels(endpoint.name, model, str(response.status_code)).inc()
        return response

    return handler


def build_app(gateway: Gateway, admin: ASGIApp | None = None,
              extra: Sequence[BaseRoute] = ()) -> Starlette:
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
        HttpRoute(f"/v1{e.path}", _endpoint(gateway, e), methods=["POST"])
        for e in ENDPOINTS.values()
    ]
    routes += [
        HttpRoute("/v1/models", models, methods=["GET"]),
        HttpRoute("/healthz", healthz, methods=["GET"]),
        HttpRoute("/metrics", metrics, methods=["GET"]),
    ]
    routes += extra
    if admin is not None:
        routes.append(Mount("/api", app=admin))
    return Starlette(routes=routes)


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
