"""Injected faults at rate 1.0, one real process per kind, as the SDKs see them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest

from ciyuan.measure.measurer import Measurer
from ciyuan.sim.process import SimProcess

KINDS = ("429", "500", "disconnect")
ASK = [{"role": "user", "content": "Write a few sentences about budgets."}]


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, Path]]]:
    """One sim-provider per fault kind (started together, they load in parallel)."""
    folder = tmp_path_factory.mktemp("faults")
    processes = {kind: SimProcess(["--models", "sim-gpt,sim-claude", "--fault-rate", "1",
                                   "--faults", kind, "--log", str(folder / f"{kind}.jsonl")])
                 for kind in KINDS}
    try:
        for process in processes.values():
            process.launch()
        for process in processes.values():
            process.wait_ready()
        yield {k: (p.url, folder / f"{k}.jsonl") for k, p in processes.items()}
    finally:
        for process in processes.values():
            process.stop()


def _records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def _client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="sk-sim", max_retries=0)


def test_429_has_retry_after_and_bills_nothing(faulty: dict[str, tuple[str, Path]]) -> None:
    url, log = faulty["429"]
    with _client(url) as client, pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="sim-gpt", messages=ASK)  # type: ignore[arg-type]
    assert caught.value.response.headers["retry-after"] == "1"
    with anthropic.Anthropic(base_url=url, api_key="x", max_retries=0) as claude, \
            pytest.raises(anthropic.RateLimitError):
        claude.messages.create(model="sim-claude", max_tokens=10, messages=ASK)  # type: ignore[arg-type]
    records = _records(log)
    assert [r["status"] for r in records] == [429, 429]
    assert all(r["fault"] == "429" and set(r["usage"].values()) == {0}  # type: ignore[union-attr]
               for r in records)


def test_500_is_a_server_error(faulty: dict[str, tuple[str, Path]]) -> None:
    url, log = faulty["500"]
    with _client(url) as client, pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="sim-gpt", messages=ASK, stream=True)  # type: ignore[arg-type]
    assert _records(log)[-1]["status"] == 500


def test_disconnect_drops_plain_calls(faulty: dict[str, tuple[str, Path]]) -> None:
    url, log = faulty["disconnect"]
    with _client(url) as client, pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="sim-gpt", messages=ASK)  # type: ignore[arg-type]
    record = _records(log)[-1]
    assert record["fault"] == "disconnect" and record["complete"] is False
    assert record["usage"]["output_tokens"] > 0  # type: ignore[index]


def test_disconnect_mid_stream_logs_what_was_delivered(faulty: dict[str, tuple[str, Path]],
                                                       measurer: Measurer) -> None:
    url, log = faulty["disconnect"]
    received: list[str] = []
    with _client(url) as client, pytest.raises((openai.APIError, httpx.HTTPError)):
        stream = client.chat.completions.create(model="sim-gpt", messages=ASK, stream=True,  # type: ignore[arg-type]
                                                stream_options={"include_usage": True})
        for chunk in stream:
            received += [c.delta.content or "" for c in chunk.choices]
    text = "".join(received)
    record = _records(log)[-1]
    assert text and record["fault"] == "disconnect" and record["stream"] is True
    assert record["usage"]["output_tokens"] == measurer.registry.get(  # type: ignore[index]
        "o200k_base").count(text)


def test_a_client_leaving_mid_stream_is_logged_with_what_it_got(tmp_path: Path) -> None:
    log = tmp_path / "paced.jsonl"
    body = {"model": "sim-gpt", "stream": True, "messages": ASK}
    with SimProcess(["--models", "sim-gpt", "--tokens-per-s", "50", "--log", str(log)]) as sim, \
            httpx.Client() as client, \
            client.stream("POST", sim.url + "/v1/chat/completions", json=body) as response:
        for index, _ in enumerate(response.iter_lines()):
            if index > 6:
                break
    record = _records(log)[-1]  # written before the process stopped
    assert record["fault"] == "client-disconnect" and record["complete"] is False
    assert 0 < record["usage"]["output_tokens"] < 16  # type: ignore[index]
