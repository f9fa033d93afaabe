"""The metered calls' upstream client: HTTP/1.1 keep-alive connections parsed by httptools.

A metered call sends one POST with its body in memory and reads one response, whole or as
it streams. aiohttp's client did that for 260-280 µs of CPU a call here (its request and
response objects, URL and header classes, timers, trace hooks); this pool does it for about
133 (8 calls at a time against the sim-provider, one core; docs/performance.md). It is an
``asyncio.Protocol`` per connection with httptools' llhttp parser (the C parser aiohttp and
uvicorn use too), the request written in one piece, and the body handed over in the pieces
it arrives in (the relay forwards them as they come).

What it does not do, because the gateway never asks: redirects, cookies, decompression (the
gateway sends ``accept-encoding: identity``), proxies, HTTP/2, request bodies that stream.
TLS is the standard library's default context (system CA store, host name checked).

Bounds: at most ``limit`` connections to one upstream (further calls wait for one); idle
connections are kept ``keepalive_s``; a response's head is at most ``MAX_HEAD_BYTES``; a
streamed body is read ahead at most ``READ_AHEAD_BYTES`` before the socket is paused until
the reader catches up. Failures are the httpx errors ``Upstream`` retries on: connect,
connect timeout, read timeout (no byte for the read timeout), protocol (a bad or cut-off
response).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import cast
from urllib.parse import urlsplit

import httptools
import httpx

__all__ = ["MAX_HEAD_BYTES", "READ_AHEAD_BYTES", "Http1Pool", "Http1Response", "ResponseHeaders"]

#: Largest response head (status line and headers) accepted.
MAX_HEAD_BYTES = 64 * 1024
#: Body bytes read ahead of the reader before the connection stops reading.
READ_AHEAD_BYTES = 256 * 1024


class ResponseHeaders(Mapping[str, str]):
    """A response's headers, looked up case-insensitively (repeated ones joined by ``, ``)."""

    __slots__ = ("_items",)

    def __init__(self, items: dict[str, str]) -> None:
        self._items = items  # lower-case names

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return self._items.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request and its response at a time."""

    def __init__(self, pool: Http1Pool, origin: tuple[str, str, int]) -> None:
        self.loop = pool.loop
        self.origin = origin
        self.counted = True  # one of the pool's open connections (until dropped)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._reset()

    def _reset(self) -> None:
        self._names: list[bytes] = []
        self._values: list[bytes] = []
        self._head_bytes = 0
        self._head: asyncio.Future[tuple[int, ResponseHeaders]] | None = None
        self._pieces: deque[bytes] = deque()
        self._buffered = 0
        self._more: asyncio.Future[None] | None = None
        self._error: Exception | None = None
        self._framed = False  # the body has a length or is chunked (else: until close)
        self.complete = False
        self.keep_alive = False
        self._paused = False
        self._timer: asyncio.TimerHandle | None = None
        self._last_data = 0.0

    def idle(self) -> None:
        """Between requests: anything the upstream sends now is an error (a response whose
        read-ahead paused the socket and was complete unread reads again)."""
        if self._paused and self.transport is not None:
            self.transport.resume_reading()
        self._reset()

    # -- the request ----------------------------------------------------------------------
    def send(self, request: bytes, read_timeout: float | None
             ) -> asyncio.Future[tuple[int, ResponseHeaders]]:
        self._reset()
        self._head = self.loop.create_future()
        self._read_timeout = read_timeout
        if read_timeout is not None:
            self._last_data = self.loop.time()
            self._timer = self.loop.call_at(self._last_data + read_timeout, self._check_timer)
        assert self.transport is not None
        self.transport.write(request)
        return self._head

    def _check_timer(self) -> None:
        """Fires at the read deadline; re-armed for the rest when data came meanwhile (one
        timer a response, not one per piece)."""
        assert self._read_timeout is not None
        due = self._last_data + self._read_timeout
        if self.loop.time() < due:
            self._timer = self.loop.call_at(due, self._check_timer)
            return
        self._timer = None
        self._fail(httpx.ReadTimeout(f"no data from the upstream for {self._read_timeout} s"))

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- asyncio.Protocol -----------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self._last_data = self.loop.time() if self._timer is not None else 0.0
        if self._head is None:  # nothing asked: a server must not send now
            self._fail(httpx.RemoteProtocolError("the upstream sent data no request asked for"))
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(httpx.RemoteProtocolError("the upstream switched protocols"))
        except httptools.HttpParserError as error:
            self._fail(httpx.RemoteProtocolError(f"malformed upstream response: {error}"))

    def eof_received(self) -> bool | None:
        self._closed_by_peer(None)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed_by_peer(exc)

    def _closed_by_peer(self, exc: Exception | None) -> None:
        self.closed = True
        if self._head is None or self.complete or self._error is not None:
            return
        if self._head.done() and not self._framed:  # a body that ends with the connection
            self._message_complete(keep_alive=False)
            return
        if exc is not None:
            self._fail(httpx.ReadError(f"upstream connection lost: {exc}"))
        else:
            self._fail(httpx.RemoteProtocolError(
                "the upstream closed the connection before the response was complete"))

    # -- httptools callbacks --------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value)
        if self._head_bytes > MAX_HEAD_BYTES:
            raise httptools.HttpParserError(f"response head over {MAX_HEAD_BYTES} bytes")
        self._names.append(name)
        self._values.append(value)

    def on_headers_complete(self) -> None:
        items: dict[str, str] = {}
        for raw_name, raw_value in zip(self._names, self._values, strict=True):
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            items[name] = f"{items[name]}, {value}" if name in items else value
        self._framed = "content-length" in items or "transfer-encoding" in items
        head = self._head
        if head is not None and not head.done():
            head.set_result((self._parser.get_status_code(), ResponseHeaders(items)))

    def on_body(self, body: bytes) -> None:
        self._pieces.append(body)
        self._buffered += len(body)
        if self._buffered > READ_AHEAD_BYTES and not self._paused and self.transport:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        self._message_complete(keep_alive=self._parser.should_keep_alive())

    def _message_complete(self, *, keep_alive: bool) -> None:
        self.complete = True
        self.keep_alive = keep_alive and not self.closed
        self._stop_timer()
        self._wake()

    def _fail(self, error: Exception) -> None:
        self._stop_timer()
        if self._error is None:
            self._error = error
        self.closed = True
        if self.transport is not None:
            self.transport.close()
        head = self._head
        if head is not None and not head.done():
            head.set_exception(error)
        self._wake()

    def _wake(self) -> None:
        more = self._more
        if more is not None and not more.done():
            more.set_result(None)

    # -- the body, for Http1Response ------------------------------------------------------
    async def pieces(self) -> AsyncIterator[bytes]:
        while True:
            while self._pieces:
                piece = self._pieces.popleft()
                self._buffered -= len(piece)
                if self._paused and self._buffered <= READ_AHEAD_BYTES // 2 and self.transport:
                    self._paused = False
                    self.transport.resume_reading()
                yield piece
            if self._error is not None:
                raise self._error
            if self.complete:
                return
            self._more = self.loop.create_future()
            try:
                await self._more
            finally:
                self._more = None


class Http1Response:
    """An upstream's answer (``ciyuan.gateway.transport.UpstreamResponse``): the body is
    read with :meth:`aiter_raw` or :meth:`aread`; :meth:`aclose` gives the connection back
    to the pool when the response was read to its end, else closes it."""

    def __init__(self, pool: Http1Pool, connection: _Connection, status: int,
                 headers: ResponseHeaders) -> None:
        self._pool = pool
        self._connection: _Connection | None = connection
        self.status_code = status
        self.headers: Mapping[str, str] = headers

    def aiter_raw(self) -> AsyncIterator[bytes]:
        if self._connection is None:
            raise httpx.StreamClosed()
        return self._connection.pieces()

    async def aread(self) -> bytes:
        return b"".join([piece async for piece in self.aiter_raw()])

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            self._pool.release(connection)


class Http1Pool:
    """Keep-alive HTTP/1.1 connections to the origins of the URLs posted to (one pool per
    upstream: ``limit`` connections in all, idle ones kept ``keepalive_s``)."""

    def __init__(self, limit: int, keepalive_s: float) -> None:
        assert limit > 0
        self._limit = limit
        self._keepalive_s = keepalive_s
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._opened = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._targets: dict[str, tuple[tuple[str, str, int], bytes]] = {}
        self._tls: ssl.SSLContext | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None
        return self._loop

    def _target(self, url: str) -> tuple[tuple[str, str, int], bytes]:
        """(scheme, host, port) and the request's first lines up to its headers."""
        found = self._targets.get(url)
        if found is None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise httpx.UnsupportedProtocol(f"not an http(s) URL: {url!r}")
            default_port = 443 if parts.scheme == "https" else 80
            port = parts.port or default_port
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            host = parts.hostname if port == default_port else f"{parts.hostname}:{port}"
            found = ((parts.scheme, parts.hostname, port),
                     f"POST {path} HTTP/1.1\r\nhost: {host}\r\n".encode("ascii"))
            if len(self._targets) < 1024:
                self._targets[url] = found
        return found

    async def post(self, url: str, headers: Mapping[str, str], body: bytes,
                   timeout: httpx.Timeout) -> Http1Response:
        origin, start = self._target(url)
        fields = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
        if fields.count("\n") != len(headers) or fields.count("\r") != len(headers):
            raise httpx.LocalProtocolError("a request header's name or value holds a line "
                                           "break")
        request = b"".join((start, fields.encode(), b"content-length: %d\r\n\r\n" % len(body),
                            body))
        connection = await self._acquire(origin, timeout.connect)
        try:
            status, response_headers = await connection.send(request, timeout.read)
        except BaseException:
            connection.closed = True
            self.release(connection)
            raise
        return Http1Response(self, connection, status, response_headers)

    async def _acquire(self, origin: tuple[str, str, int], connect_s: float | None
                       ) -> _Connection:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a pool is used from one loop; a new one starts afresh
            self._loop, self._idle, self._opened = loop, {}, 0
            self._waiters.clear()
        connection = self._take_idle(origin)
        while connection is None and self._opened >= self._limit:
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if not waiter.cancelled() and waiter.done():
                    self._wake_one()  # pass on the turn this cancelled waiter was given
                raise
            connection = self._take_idle(origin)
        if connection is not None:
            return connection
        self._opened += 1
        try:
            return await self._connect(origin, connect_s)
        except BaseException:
            self._opened -= 1
            self._wake_one()
            raise

    def _take_idle(self, origin: tuple[str, str, int]) -> _Connection | None:
        """The most recently used idle connection to ``origin`` still open and within its
        keep-alive; the others met on the way are dropped."""
        idle = self._idle.get(origin)
        now = self.loop.time()
        while idle:
            connection = idle.pop()
            if not connection.closed and now - connection.idle_since < self._keepalive_s:
                return connection
            self._drop(connection)
        return None

    async def _connect(self, origin: tuple[str, str, int], connect_s: float | None
                       ) -> _Connection:
        scheme, host, port = origin
        tls = None
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        try:
            async with asyncio.timeout(connect_s):
                _, connection = await self.loop.create_connection(
                    lambda: _Connection(self, origin), host, port, ssl=tls,
                    server_hostname=host if tls else None)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out") from None
        except OSError as error:
            raise httpx.ConnectError(f"cannot connect to {host}:{port}: {error}") from None
        return connection

    def release(self, connection: _Connection) -> None:
        """A response is done with: its connection is kept if it can serve another."""
        if connection.complete and connection.keep_alive and not connection.closed:
            connection.idle_since = self.loop.time()
            connection.idle()
            self._idle.setdefault(connection.origin, []).append(connection)
        else:
            self._drop(connection)
        self._wake_one()

    def _drop(self, connection: _Connection) -> None:
        connection.closed = True
        if connection.transport is not None:
            connection.transport.close()
        if connection.counted:
            connection.counted = False
            if connection.loop is self._loop:  # (one of an earlier loop's was not counted)
                self._opened -= 1

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                self._drop(connection)
        self._idle = {}
