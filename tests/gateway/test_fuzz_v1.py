"""Hypothesis-generated bodies on every /v1 route: never a 5xx, always the route's error
envelope for 4xx, and nothing billed for a rejected request (SPEC invariant 7)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from gateway_env import KEY, Env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROUTES = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/messages"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                    st.floats(allow_nan=False), st.text(max_size=20))
junk = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
messages = st.lists(st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "system", "assistant", "tool", "bogus", 3]),
     "content": st.one_of(st.text(max_size=40), junk)}), max_size=3) | junk
bodies = st.one_of(
    st.fixed_dictionaries({"model": st.sampled_from(["gpt-4o", "qwen-plus", "nope", 7, None]),
                           "messages": messages},
                          optional={"stream": st.one_of(st.booleans(), junk),
                                    "max_tokens": st.one_of(st.integers(-5, 2**40), junk),
                                    "prompt": junk, "input": junk, "tools": junk,
                                    "stream_options": junk}),
    junk,
)
raw_bodies = st.one_of(bodies.map(lambda b: json.dumps(b).encode()),
                       st.binary(max_size=64), st.just(b"\xff\xfe{"), st.just(b""))


def _check(env: Env, route: str, status: int, payload: Any, before: int) -> None:
    assert status < 500, (route, status, payload)
    if status >= 400:
        if route == "/v1/messages":
            assert payload["type"] == "error" and payload["error"]["message"]
        else:
            assert payload["error"]["message"] and payload["error"]["code"]
        # nothing billed: the gateway refused before the write-ahead record, or the upstream
        # refused and the record was closed as failed with no charge
        new = list(env.usage.records.values())[before:]
        assert all(r.status == "failed" and r.charge_nano == 0 for r in new), new
        assert not env.budgets.held and env.budgets.posted_nano == 0


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(route=st.sampled_from(ROUTES), raw=raw_bodies, authed=st.booleans())
def test_no_5xx_and_the_right_envelope(route: str, raw: bytes, authed: bool) -> None:
    async def run() -> None:
        env = Env()
        try:
            headers = {"authorization": f"Bearer {KEY}"} if authed else {}
            headers["content-type"] = "application/json"
            response = await env.client.post(route, content=raw, headers=headers)
            payload = response.json() if response.status_code >= 400 else None
            _check(env, route, response.status_code, payload, 0)
        finally:
            await env.aclose()

    asyncio.run(run())
