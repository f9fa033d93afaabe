"""The gateway's default upstream transport: a lean HTTP/1.1 pool for the metered calls
(``ciyuan.gateway.http1``) and aiohttp's pool, behind httpx's interface, for setup calls.

Why: under load httpx's own pool (httpcore) rescans every pooled connection for every other
one on each request event (quadratic in the pool size: ~1,000 ``is_idle`` checks per call at
concurrency 16) and parses HTTP/1.1 in pure Python (h11). aiohttp keeps idle connections in a
per-host deque and parses with llhttp (C), and ``Upstream`` still speaks httpx to it
(requests, responses, errors, ``MockTransport`` / ``ASGITransport`` in tests) for the calls
made once (``GET /models``). A metered call skips even aiohttp's request and response objects:
``UpstreamTransport.post`` goes to an ``Http1Pool`` (llhttp through httptools, an
``asyncio.Protocol`` per connection) and returns its ``Http1Response`` with the few members the
relay uses (``UpstreamResponse``): about half of aiohttp's CPU a call.

The bytes relayed are the upstream's raw bytes (no decompression here: httpx decodes
``content-encoding`` as it did with its own transport), and every failure is raised as the
httpx error ``Upstream`` retries on (connect, timeout, protocol).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Protocol

import aiohttp
import httpx

from ciyuan.gateway.http1 import Http1Pool, Http1Response

__all__ = ["POOL_KEEPALIVE_S", "UpstreamResponse", "UpstreamTransport"]

#: Idle upstream connections are kept this long (aiohttp's default is 15 s); long enough to
#: carry bursts, short enough not to hold sockets a provider's load balancer already dropped.
POOL_KEEPALIVE_S = 30.0
#: Bytes read from the upstream per chunk on the setup calls' aiohttp path (metered calls: http1).
READ_CHUNK_BYTES = 64 * 1024


class UpstreamResponse(Protocol):
    """What a metered call reads of an upstream's answer: ``httpx.Response`` (tests' mock and
    ASGI transports) or ``AiohttpResponse``. Read errors are httpx's."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def aiter_raw(self) -> AsyncIterator[bytes]: ...

    async def aread(self) -> bytes: ...

    async def aclose(self) -> None: ...


def _as_httpx(exc: TimeoutError | aiohttp.ClientError) -> httpx.TransportError:
    """aiohttp's error as the httpx error ``Upstream`` retries on and the relay handles."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(str(exc) or "upstream connect timed out")
    if isinstance(exc, TimeoutError):
        return httpx.ReadTimeout(str(exc) or "upstream timed out")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc))
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(str(exc))
    return httpx.ReadError(str(exc))


async def _chunks(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """The body as it arrives, aiohttp's read errors raised as httpx's."""
    try:
        async for chunk in response.content.iter_chunked(READ_CHUNK_BYTES):
            yield chunk
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise _as_httpx(exc) from exc


class _Body(httpx.AsyncByteStream):
    """An aiohttp response body as httpx's stream; closing it returns the connection."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _chunks(self._response)

    async def aclose(self) -> None:
        self._response.release()


class UpstreamTransport(httpx.AsyncBaseTransport):
    """One upstream's connections: the metered calls' ``Http1Pool`` and, for setup calls,
    one aiohttp session, each created in the running loop on first use; ``limit`` bounds
    the concurrent connections of each, as httpx's ``max_connections`` did."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._calls = Http1Pool(limit, POOL_KEEPALIVE_S)

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=self._limit,
                                             keepalive_timeout=POOL_KEEPALIVE_S,
                                             enable_cleanup_closed=False)
            # no cookies, no decompression, no headers of aiohttp's own: httpx set them all
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False, skip_auto_headers=("User-Agent", "Accept-Encoding",
                                                          "Accept", "Content-Type"))
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeouts.get("connect"),
                                        sock_read=timeouts.get("read"))
        body = request.content  # httpx built it from bytes: already in memory
        response = await self._request(request.method, str(request.url),
                                       list(request.headers.multi_items()), body, timeout)
        return httpx.Response(response.status, headers=list(response.raw_headers),
                              stream=_Body(response), extensions={"http_version": b"HTTP/1.1"})

    async def post(self, url: str, headers: Mapping[str, str], body: bytes,
                   timeout: httpx.Timeout) -> Http1Response:
        """A metered call's POST, its body unread (see ``Http1Response``)."""
        return await self._calls.post(url, headers, body, timeout)

    async def _request(self, method: str, url: str,
                       headers: Mapping[str, str] | list[tuple[str, str]], body: bytes,
                       timeout: aiohttp.ClientTimeout) -> aiohttp.ClientResponse:
        try:
            return await self._open().request(
                method, url, headers=headers, data=body, timeout=timeout,
                allow_redirects=False, compress=None)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _as_httpx(exc) from exc

    async def aclose(self) -> None:
        await self._calls.aclose()
        if self._session is not None:
            await self._session.close()
            self._session = None
