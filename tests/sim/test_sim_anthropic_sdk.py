"""The official ``anthropic`` SDK (and raw SSE) against a real sim-provider process."""

from __future__ import annotations

import json

import anthropic
import httpx
import pytest

from ciyuan.measure.chat import count_chat
from ciyuan.measure.measurer import Measurer
from ciyuan.sim.process import SimProcess


def test_messages_usage_and_text(claude: anthropic.Anthropic, measurer: Measurer) -> None:
    message = claude.messages.create(model="sim-claude", max_tokens=60, system="Be brief.",
                                     messages=[{"role": "user", "content": "What is a token?"}])
    text = message.content[0].text  # type: ignore[union-attr]
    expected = count_chat(measurer, [{"role": "system", "content": "Be brief."},
                                     {"role": "user", "content": "What is a token?"}],
                          "claude-sonnet-4-5").native_tokens
    assert message.usage.input_tokens == expected
    assert message.usage.cache_read_input_tokens == 0
    assert message.usage.output_tokens == measurer.registry.get("claude").count(text) <= 60
    assert message.stop_reason in ("end_turn", "max_tokens") and message.type == "message"


def test_stream_matches_plain_and_follows_anthropic_event_order(
        claude: anthropic.Anthropic, sim: SimProcess) -> None:
    body = {"model": "sim-claude", "max_tokens": 80,
            "messages": [{"role": "user", "content": "请简单介绍一下你自己。"}]}
    plain = claude.messages.create(**body)  # type: ignore[arg-type]
    with claude.messages.stream(**body) as stream:  # type: ignore[arg-type]
        final = stream.get_final_message()
    assert final.content[0].text == plain.content[0].text  # type: ignore[union-attr]
    assert final.usage.output_tokens == plain.usage.output_tokens
    assert final.usage.input_tokens == plain.usage.input_tokens
    with httpx.Client() as client:
        raw = client.post(sim.url + "/v1/messages", json={**body, "stream": True}).text
    names = [line.removeprefix("event: ") for line in raw.splitlines()
             if line.startswith("event: ")]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert set(names[3:-3]) == {"content_block_delta"}
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]


def test_tool_use(claude: anthropic.Anthropic) -> None:
    tool = {"name": "lookup_order", "description": "Find an order",
            "input_schema": {"type": "object", "properties": {"order_id": {"type": "integer"}},
                             "required": ["order_id"]}}
    message = claude.messages.create(model="sim-claude", max_tokens=100, tools=[tool],  # type: ignore[list-item]
                                     messages=[{"role": "user", "content": "Lookup order 42"}])
    assert message.stop_reason == "tool_use"
    block = message.content[0]
    assert block.type == "tool_use" and isinstance(block.input["order_id"], int)  # type: ignore[union-attr,index]


def test_cache_control_writes_then_reads(claude: anthropic.Anthropic) -> None:
    system = [{"type": "text", "cache_control": {"type": "ephemeral"},
               "text": " ".join(f"Policy clause {i} applies to every order." for i in range(250))}]
    first = claude.messages.create(model="sim-claude", max_tokens=20, system=system,  # type: ignore[arg-type]
                                   messages=[{"role": "user", "content": "Question one"}])
    second = claude.messages.create(model="sim-claude", max_tokens=20, system=system,  # type: ignore[arg-type]
                                    messages=[{"role": "user", "content": "Question two"}])
    written = first.usage.cache_creation_input_tokens
    assert written is not None and written >= 1024
    assert first.usage.cache_read_input_tokens == 0
    assert second.usage.cache_read_input_tokens == written
    assert second.usage.cache_creation_input_tokens == 0
    # input_tokens excludes cache reads and writes: the totals agree, the input figures not
    assert second.usage.input_tokens + written == first.usage.input_tokens + written
    assert second.usage.input_tokens < 100


def test_errors_use_anthropic_envelope(claude: anthropic.Anthropic, sim: SimProcess) -> None:
    with pytest.raises(anthropic.NotFoundError):
        claude.messages.create(model="nope", max_tokens=5,
                               messages=[{"role": "user", "content": "x"}])
    with httpx.Client() as client:
        response = client.post(sim.url + "/v1/messages", json={
            "model": "sim-claude", "messages": [{"role": "user", "content": "x"}]})
    body = json.loads(response.text)
    assert response.status_code == 400 and body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in body["error"]["message"]
