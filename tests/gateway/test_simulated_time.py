"""--simulated-time: a call runs at the instant its X-Ciyuan-Simulated-Time header names; a
gateway without the flag ignores the header."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from gateway_env import KEY, Env

from ciyuan.core.clock import SIMULATED_TIME_HEADER, parse_simulated_time, request_clock
from ciyuan.gateway.app import SimulatedTime

pytestmark = pytest.mark.anyio
BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "when is it?"}]}
INSTANT = "2026-09-17T10:30:00+08:00"


async def _call(app: object) -> None:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        response = await client.post("/v1/chat/completions", json=BODY, headers={
            "authorization": f"Bearer {KEY}", SIMULATED_TIME_HEADER: INSTANT})
        assert response.status_code == 200, response.text


async def test_the_header_sets_the_instant(env: Env) -> None:
    env.gateway.now = request_clock
    await _call(SimulatedTime(env.app))
    (record,) = env.usage.records.values()
    assert record.started_at == dt.datetime(2026, 9, 17, 2, 30, tzinfo=dt.UTC)


async def test_without_the_flag_the_header_is_ignored(env: Env) -> None:
    before = dt.datetime.now(dt.UTC)
    await _call(env.app)
    (record,) = env.usage.records.values()
    assert record.started_at >= before


def test_only_aware_instants_are_taken() -> None:
    assert parse_simulated_time("2026-09-17T10:30:00") is None  # no zone: refused
    assert parse_simulated_time("yesterday") is None
    assert parse_simulated_time("2026-09-17T10:30:00Z") == dt.datetime(2026, 9, 17, 10, 30,
                                                                       tzinfo=dt.UTC)
