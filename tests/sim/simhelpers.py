"""Helpers of the sim-provider tests (a module name of its own: test folders share sys.path)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from ciyuan.sim import SimApp

#: Seed of the session's sim-provider process.
SEED = 7


def log_records(path: Path) -> dict[str, dict[str, Any]]:
    """The log's records by request id."""
    lines = path.read_text("utf-8").splitlines()
    return {r["request_id"]: r for r in map(json.loads, lines)}


def call(app: SimApp, method: str, path: str, body: Any = None,
         content: bytes | None = None) -> httpx.Response:
    """One request to an in-process app (no server, no lifespan)."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
            response = await client.request(method, path, json=body, content=content)
            await response.aread()
            return response

    return asyncio.run(go())
