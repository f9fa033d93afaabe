"""The gateway in-process, with the simulated provider as its upstream (ASGI transports)."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from gateway_env import KEY, Env

pytestmark = pytest.mark.anyio
AUTH = {"authorization": f"Bearer {KEY}"}


def _chat(content: str = "Explain token pricing in two sentences.", **extra: object) -> dict:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": content}], **extra}


async def test_non_stream_is_metered_and_recorded(env: Env) -> None:
    response = await env.client.post("/v1/chat/completions", json=_chat(), headers=AUTH)
    assert response.status_code == 200, response.text
    usage = response.json()["usage"]
    record_id = response.headers["x-ciyuan-usage-record"]
    record = env.usage.records[record_id]
    assert record.status == "completed" and record.usage_method == "reported"
    assert record.usage is not None
    assert record.usage.input_tokens == usage["prompt_tokens"]
    assert record.usage.output_tokens == usage["completion_tokens"]
    assert record.charge_nano > 0 and env.budgets.posted_nano == record.charge_nano
    assert not env.budgets.held  # the rest of the reservation was released
    assert record.standard_input_tokens > 0 and record.standard_output_tokens > 0


async def test_stream_without_include_usage_is_billed_from_upstream_usage(env: Env) -> None:
    body = _chat(stream=True)
    async with env.client.stream("POST", "/v1/chat/completions", json=body,
                                 headers=AUTH) as response:
        assert response.status_code == 200
        events = [line async for line in response.aiter_lines() if line.startswith("data:")]
    chunks = [json.loads(e[5:]) for e in events if e.strip() != "data: [DONE]"]
    assert all(c.get("usage") is None for c in chunks)  # client did not ask: none forwarded
    record = next(iter(env.usage.records.values()))
    assert record.status == "completed" and record.usage_method == "reported"
    assert record.usage is not None and record.usage.output_tokens > 0


async def test_openai_sdk_stream_with_usage(env: Env) -> None:
    client = openai.AsyncOpenAI(base_url="http://gw/v1", api_key=KEY, http_client=env.client)
    stream = await client.chat.completions.create(
        model="qwen-plus", messages=[{"role": "user", "content": "你好，介绍一下词元计费。"}],
        stream=True, stream_options={"include_usage": True})
    text, usage = "", None
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage:
            usage = chunk.usage
    assert text and usage is not None
    record = next(iter(env.usage.records.values()))
    assert record.usage is not None
    assert record.usage.output_tokens == usage.completion_tokens
    assert record.usage.input_tokens == usage.prompt_tokens


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({}, _chat(), 401, "invalid_api_key"),
        ({"authorization": "Bearer cy-nope"}, _chat(), 401, "invalid_api_key"),
        (AUTH, {"model": "gpt-40", "messages": [{"role": "user", "content": "x"}]}, 404,
         "unknown_model"),
        (AUTH, {"messages": []}, 422, "invalid_input"),
        (AUTH, {"model": "gpt-4o", "messages": [], "stream": "yes"}, 422, "invalid_input"),
    ],
)
async def test_errors_use_the_openai_envelope(env: Env, headers: dict[str, str], body: dict,
                                              status: int, code: str) -> None:
    response = await env.client.post("/v1/chat/completions", json=body, headers=headers)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert not env.usage.records


async def test_malformed_json_and_oversized_body(env: Env) -> None:
    bad = await env.client.post("/v1/chat/completions", content=b"{nope", headers=AUTH)
    assert bad.status_code == 422 and "not valid JSON" in bad.json()["error"]["message"]
    utf = await env.client.post("/v1/chat/completions", content=b'{"model": "\xff"}',
                                headers=AUTH)
    assert utf.status_code == 422
    huge = await env.client.post("/v1/chat/completions", content=b" " * (9 * 1024 * 1024),
                                 headers=AUTH)
    assert huge.status_code == 413
    assert not env.usage.records


async def test_budget_exceeded_is_402_and_stores_nothing() -> None:
    env = Env(limit_nano=1)
    try:
        response = await env.client.post("/v1/chat/completions", json=_chat(), headers=AUTH)
        assert response.status_code == 402
        assert response.json()["error"]["code"] == "budget_exceeded"
        assert not env.usage.records
    finally:
        await env.aclose()


async def test_idempotency_key_is_never_billed_twice(env: Env) -> None:
    headers = {**AUTH, "idempotency-key": "order-42"}
    first = await env.client.post("/v1/chat/completions", json=_chat(), headers=headers)
    second = await env.client.post("/v1/chat/completions", json=_chat(), headers=headers)
    assert first.status_code == 200 and second.status_code == 409
    assert len(env.usage.records) == 1
    posted = env.budgets.posted_nano
    assert posted == next(iter(env.usage.records.values())).charge_nano


async def test_models_and_health(env: Env) -> None:
    models = await env.client.get("/v1/models")
    assert {m["id"] for m in models.json()["data"]} == {"gpt-4o", "qwen-plus", "deepseek-chat"}
    assert (await env.client.get("/healthz")).json() == {"status": "ok"}
    await env.client.post("/v1/chat/completions", json=_chat(), headers=AUTH)
    metrics = (await env.client.get("/metrics")).text
    assert "ciyuan_tokens_total" in metrics


async def test_upstream_failure_bills_nothing() -> None:
    env = Env(fault_rate=1.0)
    try:
        response = await env.client.post("/v1/chat/completions", json=_chat(), headers=AUTH)
        assert response.status_code == 502  # 429/500 on every attempt
        assert response.json()["error"]["code"] == "upstream_failed"
        assert env.budgets.posted_nano == 0 and not env.budgets.held
        assert [r.status for r in env.usage.records.values()] == ["failed"]
    finally:
        await env.aclose()


async def test_an_answer_over_the_limit_bills_nothing_and_leaves_nothing_pending(
        env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    from ciyuan.gateway import app as gateway_app

    monkeypatch.setattr(gateway_app, "MAX_RESPONSE_BYTES", 200)  # the sim answers more
    response = await env.client.post("/v1/chat/completions", json=_chat(), headers=AUTH)
    assert response.status_code == 502 and "over the gateway's limit" in response.text
    assert env.budgets.posted_nano == 0 and not env.budgets.held  # released, not left held
    assert [r.status for r in env.usage.records.values()] == ["failed"]  # not pending


def test_anthropic_errors_use_anthropic_envelope() -> None:
    from ciyuan.gateway.errors import AuthenticationError, error_body

    body = json.loads(error_body(AuthenticationError("no key"), "anthropic"))
    assert body["type"] == "error" and body["error"]["type"] == "authentication_error"


_ = httpx


@pytest.mark.parametrize("stream", [False, True])
async def test_durability_waits_come_before_the_upstream_call_and_before_the_answer(
        env: Env, stream: bool) -> None:
    """The gateway awaits ``durable`` once with the write-ahead record pending and nothing
    sent upstream, and once with the call settled (and receipted, where receipts are on)."""
    seen: list[tuple[str, ...]] = []
    sent_upstream: list[bool] = []
    upstream = next(iter(env.gateway.router.upstreams()))
    real_open = upstream.open

    async def counting_open(*args: object, **kwargs: object) -> object:
        sent_upstream.append(True)
        return await real_open(*args, **kwargs)  # type: ignore[arg-type]

    async def durable() -> None:
        seen.append(tuple(r.status for r in env.usage.records.values())
                    + (f"upstream={len(sent_upstream)}",))

    env.gateway.durable = durable
    upstream.open = counting_open  # type: ignore[method-assign]
    async with env.client.stream("POST", "/v1/chat/completions", json=_chat(stream=stream),
                                 headers=AUTH) as response:
        assert response.status_code == 200
        await response.aread()
    assert seen == [("pending", "upstream=0"), ("completed", "upstream=1")]
