"""The gateway's default upstream transport: httpx's interface over aiohttp's connection pool.

Why: under load httpx's own pool (httpcore) rescans every pooled connection for every other
one on each request event (quadratic in the pool size: ~1,000 ``is_idle`` checks per call at
concurrency 16) and parses HTTP/1.1 in pure Python (h11). aiohttp keeps idle connections in a
per-host deque and parses with llhttp (C). ``Upstream`` still speaks httpx (requests,
responses, errors, ``MockTransport`` / ``ASGITransport`` in tests); only this seam changes.

The bytes relayed are the upstream's raw bytes (no decompression here: httpx decodes
``content-encoding`` as it did with its own transport), and aiohttp's errors are raised as the
httpx errors ``Upstream`` retries on (connect, timeout, protocol).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import httpx

__all__ = ["AiohttpTransport", "POOL_KEEPALIVE_S"]

#: Idle upstream connections are kept this long (aiohttp's default is 15 s); long enough to
#: carry bursts, short enough not to hold sockets a provider's load balancer already dropped.
POOL_KEEPALIVE_S = 30.0
#: Bytes read from the upstream per chunk: the size of the reads the relay forwards.
READ_CHUNK_BYTES = 64 * 1024


class _Body(httpx.AsyncByteStream):
    """An aiohttp response body as httpx's stream; closing it returns the connection."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(READ_CHUNK_BYTES):
                yield chunk
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "upstream read timed out") from exc
        except aiohttp.ClientPayloadError as exc:
            raise httpx.RemoteProtocolError(str(exc)) from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(str(exc)) from exc

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session (its pool) per upstream, created in the running loop on first
    use; ``limit`` bounds concurrent connections as httpx's ``max_connections`` did."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None

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
        try:
            response = await self._open().request(
                request.method, str(request.url), headers=list(request.headers.multi_items()),
                data=body, timeout=timeout, allow_redirects=False, compress=None)
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "upstream connect timed out") from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "upstream timed out") from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise httpx.RemoteProtocolError(str(exc)) from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(str(exc)) from exc
        return httpx.Response(response.status, headers=list(response.raw_headers),
                              stream=_Body(response), extensions={"http_version": b"HTTP/1.1"})

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
