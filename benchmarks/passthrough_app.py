"""The least a Python gateway on ciyuan's stack can do: an ASGI app that forwards each POST
to ``PASSTHROUGH_UPSTREAM`` over one aiohttp pool and returns the answer, with nothing read,
counted, stored or signed. ``bench_gateway_floor.py`` serves it on uvicorn (uvloop,
httptools: ciyuan's own settings) to measure what that stack alone adds to a call.

    PASSTHROUGH_UPSTREAM=http://127.0.0.1:8790 python benchmarks/passthrough_app.py PORT
"""

from __future__ import annotations

import os
import sys
from typing import Any

import aiohttp
import uvicorn

UPSTREAM = os.environ.get("PASSTHROUGH_UPSTREAM", "http://127.0.0.1:8790")
_session: aiohttp.ClientSession | None = None


async def _lifespan(receive: Any, send: Any) -> None:
    global _session
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if _session is not None:
                await _session.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _session
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    if _session is None:
        _session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["method"] != "POST":  # readiness probe
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    async with _session.post(UPSTREAM + scope["path"], data=body,
                             headers={"content-type": "application/json"}) as upstream:
        await send({"type": "http.response.start", "status": upstream.status,
                    "headers": [(b"content-type",
                                 upstream.headers.get("content-type", "").encode())]})
        async for piece in upstream.content.iter_any():  # streams relayed as they come
            await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools",
                log_level="warning")
