"""The served-usage log and the usage export agree with what the clients received."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import anthropic
import httpx
import openai
from click.testing import CliRunner
from simhelpers import log_records

from ciyuan.cli.main import cli
from ciyuan.sim.export import EXPORT_COLUMNS
from ciyuan.sim.process import SimProcess


def _calls(oai: openai.OpenAI, claude: anthropic.Anthropic) -> dict[str, dict[str, int]]:
    """A few calls; request id → the usage the client received (export vocabulary)."""
    seen: dict[str, dict[str, int]] = {}
    for index in range(3):
        raw = oai.chat.completions.with_raw_response.create(
            model="sim-reasoner", messages=[{"role": "user", "content": f"log test {index}"}])
        usage = raw.parse().usage
        assert usage is not None
        seen[raw.headers["x-request-id"]] = {
            "input_tokens": usage.prompt_tokens,
            "input_cached_tokens": usage.prompt_tokens_details.cached_tokens or 0,  # type: ignore[union-attr]
            "output_tokens": usage.completion_tokens,
            "output_reasoning_tokens": usage.completion_tokens_details.reasoning_tokens or 0,  # type: ignore[union-attr]
        }
    stream = oai.chat.completions.with_raw_response.create(
        model="sim-qwen", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "流式日志测试"}])
    last = list(stream.parse())[-1].usage
    assert last is not None
    seen[stream.headers["x-request-id"]] = {"input_tokens": last.prompt_tokens,
                                            "output_tokens": last.completion_tokens}
    message = claude.messages.with_raw_response.create(
        model="sim-claude", max_tokens=30, messages=[{"role": "user", "content": "log me"}])
    usage_a = message.parse().usage
    seen[message.headers["request-id"]] = {
        "input_tokens": usage_a.input_tokens + (usage_a.cache_read_input_tokens or 0)
        + (usage_a.cache_creation_input_tokens or 0),
        "output_tokens": usage_a.output_tokens}
    return seen


def test_log_and_export_agree_with_the_clients(oai: openai.OpenAI, claude: anthropic.Anthropic,
                                               sim: SimProcess, sim_log: Path) -> None:
    seen = _calls(oai, claude)
    records = log_records(sim_log)  # written before each response completed
    for request_id, usage in seen.items():
        record = records[request_id]
        assert record["status"] == 200 and record["complete"] is True
        assert len(record["body_sha256"]) == 64
        for name, value in usage.items():
            assert record["usage"][name] == value, (request_id, name)

    result = CliRunner().invoke(cli, ["sim-provider", "export", "--log", str(sim_log),
                                      "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = {r["request_id"]: r for r in csv.DictReader(io.StringIO(result.output))}
    assert tuple(next(csv.reader(io.StringIO(result.output)))) == EXPORT_COLUMNS
    result = CliRunner().invoke(cli, ["sim-provider", "export", "--log", str(sim_log),
                                      "--format", "json"])
    listed = {r["request_id"]: r for r in json.loads(result.output)["data"]}
    for request_id, usage in seen.items():
        for name, value in usage.items():
            assert int(rows[request_id][name]) == value == listed[request_id][name]

    with httpx.Client() as client:
        page = client.get(sim.url + "/v1/organization/usage/completions",
                          params={"group_by": "request_id", "bucket_width": "1d"}).json()
    results = {r["request_id"]: r for b in page["data"] for r in b["results"]}
    assert page["object"] == "page" and page["data"][0]["object"] == "bucket"
    for request_id, usage in seen.items():
        assert results[request_id]["num_model_requests"] == 1
        for name, value in usage.items():
            assert results[request_id][name] == value


def test_a_simulated_instant_is_what_the_log_records(oai: openai.OpenAI,
                                                     sim_log: Path) -> None:
    """A gateway running --simulated-time forwards each call's instant; the usage export then
    dates the call when it (simulated) happened, so reconciliation prices it the same."""
    response = oai.chat.completions.with_raw_response.create(
        model="sim-gpt", messages=[{"role": "user", "content": "when?"}],
        extra_headers={"x-ciyuan-simulated-time": "2026-09-17T02:30:00+00:00"})
    request_id = response.headers["x-request-id"]
    record = log_records(sim_log)[request_id]
    assert record["time"] == "2026-09-17T02:30:00.000Z"
    assert record["unix_ms"] == 1789612200000
    assert record["latency_ms"] < 60_000  # measured in real time
