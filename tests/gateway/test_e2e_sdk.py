"""Acceptance: real sim-provider and gateway processes, the official SDKs, the CLI."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
from gateway_procs import GatewayProcess, run_cli, tenant_and_key

from ciyuan.sim.process import SimProcess

MODELS = "gpt-4o,qwen-plus,deepseek-chat,claude-haiku-4-5"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    home = tmp_path_factory.mktemp("e2e")
    db_url = f"sqlite:///{home}/ciyuan.db"
    key = tenant_and_key(db_url, "acme")
    sim = SimProcess(["--models", MODELS, "--seed", "3", "--log", str(home / "sim.jsonl")])
    sim_url = sim.start()
    gateway = GatewayProcess(db_url, ["--upstream", f"sim={sim_url}"])
    try:
        url = gateway.start()
        yield url, key, home
    finally:
        gateway.stop()
        sim.stop()


def test_forty_calls_are_all_metered(stack: tuple[str, str, Path]) -> None:
    url, key, home = stack
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)
    try:
        prompt_total, completion_total = _forty_calls(client)
    finally:
        client.close()
    report = run_cli(f"sqlite:///{home}/ciyuan.db", "usage", "--tenant", "acme")
    assert report["requests"] == 40
    tokens = report["tokens"]
    assert isinstance(tokens, dict)
    assert tokens["input"] == prompt_total and tokens["output"] == completion_total


def _forty_calls(client: openai.OpenAI) -> tuple[int, int]:
    """20 plain and 20 streamed calls; the usage totals the client saw."""
    prompt_total = completion_total = 0
    for i in range(20):
        r = client.chat.completions.create(
            model=["gpt-4o", "qwen-plus", "deepseek-chat"][i % 3],
            messages=[{"role": "user", "content": f"Question {i}: how are tokens priced?"}])
        assert r.usage is not None
        prompt_total += r.usage.prompt_tokens
        completion_total += r.usage.completion_tokens
    for i in range(20):
        stream = client.chat.completions.create(
            model=["gpt-4o", "qwen-plus", "deepseek-chat"][i % 3],
            messages=[{"role": "user", "content": f"问题 {i}：词元如何计价？"}],
            stream=True, stream_options={"include_usage": True})
        usage = None
        for chunk in stream:
            usage = chunk.usage or usage
        assert usage is not None
        prompt_total += usage.prompt_tokens
        completion_total += usage.completion_tokens
    return prompt_total, completion_total


def test_receipt_verifies_and_rejects_a_changed_byte(stack: tuple[str, str, Path]) -> None:
    url, key, home = stack
    response = httpx.post(f"{url}/v1/chat/completions", headers={"authorization": f"Bearer {key}"},
                          json={"model": "gpt-4o",
                                "messages": [{"role": "user", "content": "receipt please"}]})
    assert response.status_code == 200
    receipt = response.headers["x-ciyuan-receipt"]
    pem = httpx.get(f"{url}/api/receipts/public-key").json()["public_key_pem"]
    (home / "pub.pem").write_text(pem)
    (home / "body.json").write_bytes(response.content)
    changed = bytearray(response.content)
    changed[5] ^= 0x01
    (home / "bad.json").write_bytes(bytes(changed))

    def verify(body: str) -> int:
        return subprocess.run(
            [sys.executable, "-m", "ciyuan", "receipt", "verify", "--public-key",
             str(home / "pub.pem"), "--body", str(home / body), receipt],
            capture_output=True, timeout=60).returncode

    assert verify("body.json") == 0
    assert verify("bad.json") != 0


def test_async_client_and_tools(stack: tuple[str, str, Path]) -> None:
    url, key, _ = stack

    async def run() -> None:
        async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=key,
                                      max_retries=0) as client:
            await _priced_with_tools(client)

    asyncio.run(run())


async def _priced_with_tools(client: openai.AsyncOpenAI) -> None:
    tools = [{"type": "function", "function": {
        "name": "get_price", "description": "Price of a model",
        "parameters": {"type": "object", "properties": {"model": {"type": "string"}},
                       "required": ["model"]}}}]
    r = await client.chat.completions.create(
        model="gpt-4o", tools=tools,  # type: ignore[arg-type]
        messages=[{"role": "user", "content": "Use get_price for gpt-4o"}])
    assert r.usage is not None and r.usage.prompt_tokens > 0


def test_anthropic_sdk_through_the_gateway(stack: tuple[str, str, Path]) -> None:
    url, key, _ = stack
    with anthropic.Anthropic(base_url=url, api_key=key, max_retries=0) as client:
        message = client.messages.create(model="claude-haiku-4-5", max_tokens=200,
                                         messages=[{"role": "user", "content": "Hello, Claude"}])
        assert message.usage.output_tokens > 0
        with client.messages.stream(model="claude-haiku-4-5", max_tokens=200,
                                    messages=[{"role": "user", "content": "流式回答"}]) as stream:
            text = "".join(stream.text_stream)
    assert text


def test_bad_key_and_unknown_model_over_http(stack: tuple[str, str, Path]) -> None:
    url, key, _ = stack
    with openai.OpenAI(base_url=f"{url}/v1", api_key="cy-nope-nope", max_retries=0) as client, \
            pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    with openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0) as client, \
            pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-5x", messages=[{"role": "user", "content": "x"}])


def test_serve_also_serves_the_dashboard(stack: tuple[str, str, Path]) -> None:
    url, _, _ = stack
    assert "ciyuan" in httpx.get(f"{url}/dashboard").text
    # no admin token configured: the data is disabled, as the admin API is
    # (tests/web/test_dashboard_wiring.py reads it with a token)
    live = httpx.get(f"{url}/dashboard/api/live")
    assert live.status_code == 403 and live.json()["error"]["code"] == "admin-disabled"
