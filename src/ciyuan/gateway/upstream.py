"""Upstream providers: where a model is served, and calling it with retries and fallbacks.

An upstream is any OpenAI-compatible base URL (OpenAI, DeepSeek, DashScope, Moonshot, Zhipu,
vLLM, Ollama, the simulated provider) or Anthropic's. The HTTP transport is injectable
(``httpx.MockTransport`` in tests, ``ASGITransport`` for in-process upstreams); by default it is
``UpstreamTransport`` (ciyuan.gateway.transport: a lean HTTP/1.1 pool for the calls, aiohttp's
pool for the rest; a fraction of httpx's CPU).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import httpx

from ciyuan import __version__
from ciyuan.core.clock import SIMULATED_TIME_HEADER, simulated_now
from ciyuan.core.errors import ConfigError
from ciyuan.gateway.errors import UpstreamFailedError, UpstreamTimeoutError
from ciyuan.gateway.limits import (
    MAX_UPSTREAM_ATTEMPTS,
    RETRY_BACKOFF_BASE_S,
    RETRY_BACKOFF_CAP_S,
    UPSTREAM_CONNECT_TIMEOUT_S,
    UPSTREAM_MAX_CONNECTIONS,
    UPSTREAM_READ_TIMEOUT_S,
)
from ciyuan.gateway.transport import UpstreamResponse, UpstreamTransport

__all__ = ["Route", "Upstream", "UpstreamConfig", "open_upstream", "parse_upstream_flag"]

ApiStyle = Literal["openai", "anthropic"]
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = f"ciyuan-gateway/{__version__}"


@dataclass(frozen=True)
class UpstreamConfig:
    name: str
    base_url: str  # ends before the endpoint path, e.g. http://127.0.0.1:8001/v1
    api_style: ApiStyle = "openai"
    api_key: str = ""
    #: models served (public name → upstream's name); empty: ask GET /models at start
    models: Mapping[str, str] = field(default_factory=dict)
    #: served model → catalog model whose tokenizer and prices apply (e.g. sim-gpt → gpt-4o)
    price_as: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """One way to serve a public model name: an upstream and the name it knows it by."""

    upstream: Upstream
    upstream_model: str
    catalog_model: str


def parse_upstream_flag(value: str) -> UpstreamConfig:
    """``NAME=URL`` from ``ciyuan serve --upstream`` (an OpenAI-compatible base URL)."""
    name, sep, url = value.partition("=")
    if not sep or not name or not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"--upstream {value!r} must look like NAME=http://host:port (an OpenAI-compatible "
            f"base URL, e.g. sim=http://127.0.0.1:8001)",
            field="upstream",
        )
    base = url.rstrip("/")
    if not base.endswith("/v1"):
        base += "/v1"
    return UpstreamConfig(name=name, base_url=base)


class Upstream:
    """An HTTP client for one upstream, with retry on 429/5xx before the first byte."""

    def __init__(self, config: UpstreamConfig, transport: httpx.AsyncBaseTransport | None = None):
        self.config = config
        self.name = config.name
        #: requests go straight to the transport: httpx's client adds URL merging, cookies,
        #: auth and redirect hooks that a fixed base URL and one POST per call never use
        self.transport = transport or UpstreamTransport(UPSTREAM_MAX_CONNECTIONS)
        self.timeout = httpx.Timeout(UPSTREAM_READ_TIMEOUT_S, connect=UPSTREAM_CONNECT_TIMEOUT_S)
        self._base = config.base_url.rstrip("/")

    async def _post(self, path: str, body: bytes, headers: dict[str, str]) -> UpstreamResponse:
        """A call's POST: straight to the lean pool by default (no httpx or aiohttp objects),
        through httpx's request and response with any other transport."""
        if isinstance(self.transport, UpstreamTransport):
            return await self.transport.post(self._base + path, headers, body, self.timeout)
        return await self._send("POST", path, body, headers)

    async def _send(self, method: str, path: str, body: bytes | None,
                    headers: dict[str, str]) -> httpx.Response:
        request = httpx.Request(method, self._base + path, content=body, headers=headers,
                                extensions={"timeout": self.timeout.as_dict()})
        response = await self.transport.handle_async_request(request)
        response.request = request
        return response

    def _headers(self) -> dict[str, str]:
        # identity: the relay passes the upstream's bytes on as they come (never compressed)
        headers = {"content-type": "application/json", "accept": "*/*",
                   "accept-encoding": "identity", "user-agent": USER_AGENT}
        if self.config.api_style == "anthropic":
            headers["anthropic-version"] = "2023-06-01"
            if self.config.api_key:
                headers["x-api-key"] = self.config.api_key
        elif self.config.api_key:
            headers["authorization"] = f"Bearer {self.config.api_key}"
        return headers

    async def list_models(self) -> list[dict[str, object]]:
        response = await self._send("GET", "/models", None, self._headers())
        try:
            await response.aread()
        finally:
            await response.aclose()
        response.raise_for_status()
        data = response.json().get("data", [])
        return [m for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]

    async def open(self, path: str, body: bytes, client_request_id: str = ""
                   ) -> UpstreamResponse:
        """Send and return the response with its body unread (the caller reads or streams).

        Retries with backoff on 429/5xx/connect errors; raises UpstreamFailedError or
        UpstreamTimeoutError when every attempt failed.
        """
        last: str = ""
        for attempt in range(MAX_UPSTREAM_ATTEMPTS):
            if attempt:
                await asyncio.sleep(min(RETRY_BACKOFF_CAP_S, RETRY_BACKOFF_BASE_S * 2**attempt))
            headers = self._headers()
            if client_request_id:  # lets the provider's usage export name our usage record
                headers["x-client-request-id"] = client_request_id
            simulated = simulated_now.get()
            if simulated is not None:  # --simulated-time: the sim-provider logs this instant
                headers[SIMULATED_TIME_HEADER] = simulated.isoformat()
            try:
                response = await self._post(path, body, headers)
            except httpx.TimeoutException as exc:
                last = f"timeout ({type(exc).__name__})"
                continue
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in RETRY_STATUSES:
                last = f"HTTP {response.status_code}"
                await response.aclose()
                continue
            return response
        error = UpstreamTimeoutError if last.startswith("timeout") else UpstreamFailedError
        raise error(
            f"upstream {self.name!r} failed after {MAX_UPSTREAM_ATTEMPTS} attempts ({last}); "
            f"nothing was billed beyond what was delivered — retry later or configure a "
            f"fallback model",
            upstream=self.name,
        )

    async def aclose(self) -> None:
        await self.transport.aclose()


async def open_routes(routes: Sequence[Route], path: str, bodies: Sequence[bytes],
                      client_request_id: str = "") -> tuple[Route, UpstreamResponse]:
    """Try each route in order (fallbacks); the first that answers wins."""
    failure: Exception | None = None
    for route, body in zip(routes, bodies, strict=True):
        try:
            return route, await route.upstream.open(path, body, client_request_id)
        except (UpstreamFailedError, UpstreamTimeoutError) as exc:
            failure = exc
    assert failure is not None
    raise failure


def open_upstream(config: UpstreamConfig,
                  transport: httpx.AsyncBaseTransport | None = None) -> Upstream:
    return Upstream(config, transport)
