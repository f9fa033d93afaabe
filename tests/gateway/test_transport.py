"""The aiohttp-backed upstream transport against a real socket on 127.0.0.1: bytes pass raw,
connections are reused, and every failure surfaces as the httpx error ``Upstream`` retries on."""

from __future__ import annotations

import asyncio
import gzip

import httpx
import pytest
from loopback_http import Handler, read_request, serve, write_chunked_events

from ciyuan.gateway.errors import UpstreamFailedError, UpstreamTimeoutError
from ciyuan.gateway.transport import UpstreamTransport
from ciyuan.gateway.upstream import Upstream, UpstreamConfig

pytestmark = pytest.mark.anyio



async def _serve(handler: Handler) -> tuple[asyncio.Server, str, list[int]]:
    server, origin, connections = await serve(handler)
    return server, origin + "/v1", connections


def _response(body: bytes, extra: bytes = b"") -> bytes:
    return (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" + extra +
            b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


async def test_round_trips_reuse_one_connection_and_pass_headers() -> None:
    seen: list[tuple[bytes, bytes]] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(10):  # bounded: a keep-alive connection serves at most 10 calls
            head, body = await read_request(reader)
            seen.append((head, body))
            writer.write(_response(body, b"x-request-id: up-1\r\n"))
            await writer.drain()

    server, url, connections = await _serve(echo)
    upstream = Upstream(UpstreamConfig(name="t", base_url=url, api_key="sk-1"))
    try:
        for i in range(3):
            response = await upstream.open("/chat/completions", b'{"n":%d}' % i, "ur-1")
            assert response.status_code == 200
            assert response.headers["x-request-id"] == "up-1"
            assert await response.aread() == b'{"n":%d}' % i
            await response.aclose()
    finally:
        await upstream.aclose()
        server.close()
    assert len(connections) == 1  # kept alive and reused
    head = seen[0][0].lower()
    assert head.startswith(b"post /v1/chat/completions http/1.1")
    assert b"authorization: bearer sk-1" in head and b"x-client-request-id: ur-1" in head
    assert head.count(b"user-agent:") == 1 and head.count(b"content-type:") == 1
    assert b"accept-encoding: identity" in head  # the relay forwards the bytes as they come


async def test_encoded_body_passes_raw_and_httpx_decodes() -> None:
    payload = b'{"ok":true}'

    async def gz(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(_response(gzip.compress(payload), b"content-encoding: gzip\r\n"))
        await writer.drain()

    server, url, _ = await _serve(gz)
    async with httpx.AsyncClient(transport=UpstreamTransport(4)) as client:
        raw = await client.post(url + "/x", content=b"{}")
        assert raw.content == payload  # decoded once, by httpx
    server.close()


async def test_streamed_body_arrives_in_pieces() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        await write_chunked_events(writer)

    server, url, _ = await _serve(chunked)
    async with (httpx.AsyncClient(transport=UpstreamTransport(4)) as client,
                client.stream("POST", url + "/x", content=b"{}") as response):
        got = b"".join([piece async for piece in response.aiter_raw()])
    server.close()
    assert got == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"


async def test_refused_connection_is_retried_then_fails() -> None:
    server, url, _ = await _serve(lambda r, w: asyncio.sleep(0))
    server.close()
    await server.wait_closed()  # nothing listens on the port any more
    upstream = Upstream(UpstreamConfig(name="gone", base_url=url))
    try:
        with pytest.raises(UpstreamFailedError, match="ConnectError"):
            await upstream.open("/chat/completions", b"{}")
    finally:
        await upstream.aclose()


async def test_silent_upstream_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(2)  # bounded: longer than the client's read timeout below

    server, url, _ = await _serve(silent)
    async with httpx.AsyncClient(transport=UpstreamTransport(4), timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post(url + "/x", content=b"{}")
    upstream = Upstream(UpstreamConfig(name="slow", base_url=url))
    upstream.timeout = httpx.Timeout(0.2)
    try:
        with pytest.raises(UpstreamTimeoutError):
            await upstream.open("/chat/completions", b"{}")
    finally:
        await upstream.aclose()
        server.close()


async def test_upstream_dropping_mid_body_is_an_httpx_error() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
        await writer.drain()

    server, url, _ = await _serve(cut)
    async with (httpx.AsyncClient(transport=UpstreamTransport(4)) as client,
                client.stream("POST", url + "/x", content=b"{}") as response):
        with pytest.raises(httpx.TransportError):
            async for _ in response.aiter_raw():
                pass
    server.close()


async def test_upstream_dropping_mid_body_of_a_call_is_an_httpx_error() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
        await writer.drain()

    server, url, _ = await _serve(cut)
    upstream = Upstream(UpstreamConfig(name="cut", base_url=url))
    try:
        response = await upstream.open("/chat/completions", b"{}")  # aiohttp, no httpx objects
        assert response.status_code == 200 and response.headers["Content-Length"] == "100"
        with pytest.raises(httpx.TransportError):
            async for _ in response.aiter_raw():
                pass
        await response.aclose()
    finally:
        await upstream.aclose()
        server.close()
