"""The metered calls' HTTP/1.1 pool against real sockets on 127.0.0.1 (asyncio's loop and
uvloop's, which the gateway runs on): framing, keep-alive, the pool's bound, read-ahead and
failures as httpx errors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest
import uvloop
from loopback_http import Handler, read_request, serve, write_chunked_events

from ciyuan.gateway.http1 import READ_AHEAD_BYTES, Http1Pool, Http1Response

TIMEOUT = httpx.Timeout(5.0)


def _run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Each test on both event loops."""
    asyncio.run(main())
    uvloop.run(main())


async def _serve(handler: Handler) -> tuple[asyncio.Server, str, list[int]]:
    server, origin, connections = await serve(handler)
    return server, origin + "/v1/chat/completions", connections


def _ok(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)


def test_keep_alive_reuses_one_connection_and_the_request_is_well_formed() -> None:
    async def main() -> None:
        seen: list[bytes] = []

        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            for _ in range(5):  # bounded
                head, body = await read_request(reader)
                seen.append(head)
                writer.write(_ok(body))
                await writer.drain()

        server, url, connections = await _serve(echo)
        pool = Http1Pool(4, 30.0)
        for i in range(3):
            response = await pool.post(url, {"x-n": str(i)}, b'{"n":%d}' % i, TIMEOUT)
            assert response.status_code == 200
            assert response.headers["Content-Length"] == "7"  # any case
            assert await response.aread() == b'{"n":%d}' % i
            await response.aclose()
        await pool.aclose()
        server.close()
        assert len(connections) == 1
        port = url.split(":")[2].split("/")[0]
        assert seen[2] == (b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:%s\r\n"
                           b"x-n: 2\r\ncontent-length: 7\r\n\r\n" % port.encode())

    _run(main)


def test_chunked_and_close_delimited_bodies() -> None:
    async def main() -> None:
        async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n"
                         b"x-a: 1\r\nx-a: 2\r\n\r\n")
            await write_chunked_events(writer)
            await read_request(reader)  # the connection is reused for the next call
            writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nto the end")
            await writer.drain()

        server, url, connections = await _serve(chunked)
        pool = Http1Pool(4, 30.0)
        response = await pool.post(url, {}, b"{}", TIMEOUT)
        assert response.headers["x-a"] == "1, 2"
        pieces = [piece async for piece in response.aiter_raw()]
        assert b"".join(pieces) == b"data: 0\n\ndata: 1\n\ndata: 2\n\n" and len(pieces) >= 3
        await response.aclose()
        response = await pool.post(url, {}, b"{}", TIMEOUT)
        assert await response.aread() == b"to the end"  # ends with the connection
        await response.aclose()
        await pool.aclose()
        server.close()
        assert len(connections) == 1

    _run(main)


def test_a_connection_the_upstream_closed_while_idle_is_not_reused() -> None:
    async def main() -> None:
        async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            _, body = await read_request(reader)
            writer.write(_ok(body))
            await writer.drain()  # then closes: its keep-alive ended

        server, url, connections = await _serve(once)
        pool = Http1Pool(4, 30.0)
        for _ in range(2):
            response = await pool.post(url, {}, b"{}", TIMEOUT)
            assert await response.aread() == b"{}"
            await response.aclose()
            await asyncio.sleep(0.05)  # the close arrives while the connection is idle
        await pool.aclose()
        server.close()
        assert len(connections) == 2

    _run(main)


def test_the_pool_bound_makes_calls_wait_for_a_connection() -> None:
    async def main() -> None:
        open_now, most = [0], [0]

        async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            open_now[0] += 1
            most[0] = max(most[0], open_now[0])
            try:
                for _ in range(10):  # bounded
                    _, body = await read_request(reader)
                    await asyncio.sleep(0.02)
                    writer.write(_ok(body))
                    await writer.drain()
            finally:
                open_now[0] -= 1

        server, url, _ = await _serve(slow)
        pool = Http1Pool(2, 30.0)

        async def call(i: int) -> bytes:
            response = await pool.post(url, {}, b"%d" % i, TIMEOUT)
            try:
                return await response.aread()
            finally:
                await response.aclose()

        assert await asyncio.gather(*(call(i) for i in range(8))) == [b"%d" % i
                                                                      for i in range(8)]
        await pool.aclose()
        server.close()
        assert most[0] == 2

    _run(main)


def test_a_slow_reader_pauses_the_upstream_and_gets_every_byte() -> None:
    async def main() -> None:
        total = 4 * READ_AHEAD_BYTES

        async def big(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % total)
            for _ in range(total // 65536):
                writer.write(b"x" * 65536)
                await writer.drain()

        server, url, _ = await _serve(big)
        pool = Http1Pool(1, 30.0)
        response = await pool.post(url, {}, b"{}", TIMEOUT)
        got = 0
        async for piece in response.aiter_raw():
            got += len(piece)
            await asyncio.sleep(0.001)
        await response.aclose()
        await pool.aclose()
        server.close()
        assert got == total

    _run(main)


def test_failures_are_the_httpx_errors_upstream_retries_on() -> None:
    async def main() -> None:
        async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_request(reader)
            writer.write(b"NOT HTTP\r\n\r\n")
            await writer.drain()

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_request(reader)
            await asyncio.sleep(1)  # bounded: past the read timeout below

        async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
            await writer.drain()

        pool = Http1Pool(4, 30.0)
        server, url, _ = await _serve(garbage)
        with pytest.raises(httpx.RemoteProtocolError):
            await pool.post(url, {}, b"{}", TIMEOUT)
        server.close()
        server, url, _ = await _serve(silent)
        with pytest.raises(httpx.ReadTimeout):
            await pool.post(url, {}, b"{}", httpx.Timeout(0.1))
        server.close()
        server, url, _ = await _serve(cut)
        response: Http1Response = await pool.post(url, {}, b"{}", TIMEOUT)
        with pytest.raises(httpx.RemoteProtocolError):
            await response.aread()
        await response.aclose()
        server.close()
        await server.wait_closed()
        with pytest.raises(httpx.ConnectError):  # nothing listens there any more
            await pool.post(url, {}, b"{}", TIMEOUT)
        with pytest.raises(httpx.LocalProtocolError):
            await pool.post(url, {"x-a": "1\r\nx-b: 2"}, b"{}", TIMEOUT)
        with pytest.raises(httpx.UnsupportedProtocol):
            await pool.post("ftp://127.0.0.1/x", {}, b"{}", TIMEOUT)
        await pool.aclose()
        assert pool._opened == 0  # every failed connection was given back

    _run(main)


def test_a_response_complete_but_unread_past_the_read_ahead_reads_again_when_reused() -> None:
    """A whole response can arrive in one read and pause the socket (read-ahead); returned
    to the pool unread, its connection must read again, or its next call would hang."""
    from ciyuan.gateway.http1 import _Connection

    class Transport:
        paused = False

        def write(self, data: bytes) -> None:
            pass

        def pause_reading(self) -> None:
            self.paused = True

        def resume_reading(self) -> None:
            self.paused = False

        def close(self) -> None:
            pass

    async def main() -> None:
        pool = Http1Pool(1, 30.0)
        pool._loop = asyncio.get_running_loop()
        connection = _Connection(pool, ("http", "127.0.0.1", 80))
        transport = Transport()
        connection.connection_made(transport)  # type: ignore[arg-type]
        pool._opened = 1
        head = connection.send(b"POST / HTTP/1.1\r\n\r\n", None)
        body = b"x" * (READ_AHEAD_BYTES + 1)
        connection.data_received(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s"
                                 % (len(body), body))
        assert (await head)[0] == 200 and connection.complete and transport.paused
        pool.release(connection)  # kept alive, unread
        assert not transport.paused
        assert pool._idle[connection.origin] == [connection]

    _run(main)
