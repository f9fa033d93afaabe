"""A bare HTTP/1.1 server on 127.0.0.1 for the upstream client tests: each test hands it a
handler that reads requests and writes whatever bytes the case needs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One request: its head and its body (by ``Content-Length``)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head, await reader.readexactly(length)


async def serve(handler: Handler) -> tuple[asyncio.Server, str, list[int]]:
    """The server, its ``http://127.0.0.1:PORT`` and a list that gets one entry a
    connection accepted."""
    connections: list[int] = []

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            await handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(counted, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}", connections


async def write_chunked_events(writer: asyncio.StreamWriter, count: int = 3) -> None:
    """``count`` SSE events ``data: N``, a chunk each, a little apart, then the last chunk."""
    for i in range(count):
        piece = b"data: %d\n\n" % i
        writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        await writer.drain()
        await asyncio.sleep(0.01)
    writer.write(b"0\r\n\r\n")
    await writer.drain()
