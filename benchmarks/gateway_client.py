"""A lean asyncio HTTP/1.1 client for the gateway benchmark's load.

httpx measured ~1,000 calls/s at concurrency 1 and ~230/s at 64 against the sim-provider
alone on one core (its pool bookkeeping dominates), while wrk got 5,500-11,000/s from the same
sim: the client, not the contenders, would have been the bottleneck. This client keeps up to
``size`` keep-alive connections, sends one prebuilt request, and reads the whole response
(``Content-Length`` or chunked, so streams are read to their last chunk). It speaks only what
the benchmark needs: one method, one path, no redirects, no TLS.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from urllib.parse import urlsplit

__all__ = ["HttpError", "Pool"]

#: Largest response head or chunk-size line read in one piece.
LINE_LIMIT = 1 << 16


class HttpError(Exception):
    """A call that did not end in a complete 200 response."""


Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Pool:
    """At most ``size`` keep-alive connections to ``url``; ``post`` waits for a free one."""

    def __init__(self, url: str, size: int, path: str, body: object,
                 headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.size = size
        self.opened = 0
        self.idle: list[Conn] = []
        self.waiters: deque[asyncio.Future[Conn | None]] = deque()
        payload = json.dumps(body).encode()
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                "Content-Type: application/json", f"Content-Length: {len(payload)}",
                *(f"{k}: {v}" for k, v in headers.items())]
        self.request = ("\r\n".join(head) + "\r\n\r\n").encode() + payload

    async def _acquire(self) -> Conn:
        if self.idle:
            return self.idle.pop()
        if self.opened < self.size:
            self.opened += 1
            try:
                return await asyncio.open_connection(self.host, self.port, limit=LINE_LIMIT)
            except OSError as error:
                self.opened -= 1
                raise HttpError(str(error)) from error
        waiter: asyncio.Future[Conn | None] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        conn = await waiter
        return conn if conn is not None else await self._acquire()

    def _release(self, conn: Conn | None) -> None:
        """Hand ``conn`` to the next waiter (or keep it); ``None``: it was closed."""
        if conn is None:
            self.opened -= 1
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)  # None tells the waiter to open its own
                return
        if conn is not None:
            self.idle.append(conn)

    async def post(self) -> None:
        """Send the request and read the whole response; raise ``HttpError`` unless 200."""
        conn = await self._acquire()
        reader, writer = conn
        try:
            writer.write(self.request)
            status, keep = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError, asyncio.CancelledError) as error:
            writer.close()
            self._release(None)
            if isinstance(error, asyncio.CancelledError):
                raise
            raise HttpError(repr(error)) from error
        if keep:
            self._release(conn)
        else:
            writer.close()
            self._release(None)
        if status != 200:
            raise HttpError(f"HTTP {status}")

    async def close(self) -> None:
        while self.idle:
            _, writer = self.idle.pop()
            writer.close()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = (await reader.readuntil(b"\r\n\r\n")).lower()
    status = int(head[9:12])
    if b"transfer-encoding: chunked" in head:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF (none after 0: no trailers)
            if size == 0:
                break
    else:
        start = head.find(b"content-length:")
        if start < 0:
            raise ValueError("response without length")
        length = int(head[start + 15:head.find(b"\r\n", start)])
        await reader.readexactly(length)
    return status, b"connection: close" not in head
