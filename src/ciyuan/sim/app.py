"""The sim-provider as one raw ASGI application: routes, error envelopes and lifespan.

``build_app(config)`` assembles it: served models from the catalog, the simulator, the usage
log. Errors come back in the vendor's envelope (OpenAI's ``{"error": {...}}``, Anthropic's
``{"type": "error", ...}`` on ``/v1/messages``) with the ciyuan error code; never a trace.
"""

from __future__ import annotations

import logging
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType

from ciyuan.core.errors import CiyuanError, UnknownModelError
from ciyuan.measure import default_measurer
from ciyuan.measure.measurer import Measurer
from ciyuan.sim.anthropic_api import messages
from ciyuan.sim.config import SimConfig
from ciyuan.sim.engine import Simulator
from ciyuan.sim.errors import SimNoLogError, http_status
from ciyuan.sim.exchange import (
    ApiStyle,
    ClientGone,
    Exchange,
    Receive,
    Scope,
    Send,
    SimulatedDisconnect,
)
from ciyuan.sim.export import bucket_page
from ciyuan.sim.log import UsageLog
from ciyuan.sim.models import lookup, resolve_models
from ciyuan.sim.openai_api import chat_completions, completions, embeddings, list_models
from ciyuan.sim.service import Service

__all__ = ["ROUTES", "SimApp", "build_app"]

logger = logging.getLogger("ciyuan.sim")
Handler = Callable[[Service, Exchange], Awaitable[None]]


async def _usage_export(service: Service, ex: Exchange) -> None:
    if service.log.path is None:
        raise SimNoLogError("this sim-provider keeps no usage log: restart it with --log FILE "
                            "to serve the usage export")
    query = {k: v[-1] for k, v in urllib.parse.parse_qs(
        ex.scope.get("query_string", b"").decode("latin-1")).items()}
    await ex.send_json(200, bucket_page(service.log.path, query, int(time.time())))


async def _health(service: Service, ex: Exchange) -> None:
    await ex.send_json(200, {"status": "ok", "models": len(service.models)})


async def _model(service: Service, ex: Exchange) -> None:
    name = ex.path.removeprefix("/v1/models/")
    model = service.models.get(name)
    if model is None:
        model = lookup(service.models, name, "chat")  # raises the 404
    await ex.send_json(200, model.card(service.started))


#: (method, path) → handler. ``GET /v1/models/{id}`` is matched by prefix.
ROUTES: Mapping[tuple[str, str], Handler] = MappingProxyType({
    ("POST", "/v1/chat/completions"): chat_completions,
    ("POST", "/v1/completions"): completions,
    ("POST", "/v1/embeddings"): embeddings,
    ("GET", "/v1/models"): list_models,
    ("POST", "/v1/messages"): messages,
    ("GET", "/v1/organization/usage/completions"): _usage_export,
    ("GET", "/healthz"): _health,
})

_OPENAI_KINDS = {400: "invalid_request_error", 404: "invalid_request_error",
                 413: "invalid_request_error", 405: "invalid_request_error"}
_ANTHROPIC_KINDS = {400: "invalid_request_error", 404: "not_found_error",
                    413: "request_too_large", 405: "invalid_request_error"}


class SimApp:
    """The ASGI callable: ``uvicorn`` serves it, ``httpx.ASGITransport`` tests it."""

    def __init__(self, service: Service) -> None:
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = str(scope.get("path", "")).rstrip("/") or "/"
        method = str(scope.get("method", "GET"))
        api: ApiStyle = "anthropic" if path == "/v1/messages" else "openai"
        ex = Exchange(scope, receive, send, api)
        handler = ROUTES.get((method, path))
        if handler is None and method == "GET" and path.startswith("/v1/models/"):
            handler = _model
        if handler is None:
            known = any(p == path for _, p in ROUTES)
            status = 405 if known else 404
            await ex.send_error(status, f"{method} {path} is not served here; see "
                                "docs/how-to/sim-provider.md", _OPENAI_KINDS[status])
            return
        try:
            if method == "POST":
                await ex.read_body()
            await handler(self.service, ex)
        except ClientGone:
            return  # nobody left to answer
        except SimulatedDisconnect:
            raise  # an injected disconnect: the server drops the connection
        except CiyuanError as error:
            await self._error(ex, error)
        except Exception:
            logger.exception("sim-provider failed on %s %s", method, path)
            if ex.responded:
                raise  # too late for an error response: the connection is dropped
            await ex.send_error(500, "the simulated provider failed; see its log",
                                "api_error" if api == "anthropic" else "server_error")

    async def _error(self, ex: Exchange, error: CiyuanError) -> None:
        status = http_status(error)
        kinds = _ANTHROPIC_KINDS if ex.api == "anthropic" else _OPENAI_KINDS
        default = "api_error" if ex.api == "anthropic" else "server_error"
        unknown_model = isinstance(error, UnknownModelError)
        code = "model_not_found" if unknown_model and ex.api == "openai" else error.code
        await ex.send_error(status, error.message, kinds.get(status, default), code)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.service.log.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.service.log.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def aclose(self) -> None:
        """Flush and close the usage log (what lifespan shutdown does)."""
        await self.service.log.aclose()


def build_app(config: SimConfig, measurer: Measurer | None = None, warm: bool = True) -> SimApp:
    """The sim-provider app for ``config`` (the shipped catalog and vocabularies by default);
    ``warm`` loads every served model's vocabulary now rather than on its first request."""
    measurer = measurer or default_measurer()
    models = resolve_models(config.models, measurer.catalog)
    engine = Simulator(config, models, measurer)
    if warm:
        engine.warm()
    return SimApp(Service(config, models, engine, UsageLog(config.log_path)))
