"""Unit checks: answer text, prompt cache, fault draws, tools, settings, log reading, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ciyuan.cli.main import cli
from ciyuan.measure.measurer import Measurer
from ciyuan.sim.cache import PrefixCache, rounded
from ciyuan.sim.config import SimConfig
from ciyuan.sim.errors import SimConfigError, SimLogFormatError
from ciyuan.sim.faults import FaultPlan
from ciyuan.sim.generate import compose_answer, draw, stream_pieces
from ciyuan.sim.log import read_log
from ciyuan.sim.models import resolve_models
from ciyuan.sim.tools import ToolSpec, choose_tool, sample_arguments


@pytest.mark.parametrize("language", ["en", "zh"])
def test_answers_never_exceed_the_limit_and_report_exact_counts(measurer: Measurer,
                                                                language: str) -> None:
    for name in ("o200k_base", "qwen", "deepseek-v3"):
        count = measurer.registry.get(name).count
        for limit in (1, 2, 3, 7, 30, 101):
            answer = compose_answer(draw(1, name, str(limit)), language, count, 60, limit)
            assert answer.tokens == count(answer.text) <= limit
            assert answer.truncated == (limit < 60 and answer.tokens <= limit)
            assert "".join(stream_pieces(answer.text)) == answer.text


def test_prefix_cache_reports_like_openai() -> None:
    cache = PrefixCache(entries=64)
    count = len  # one token per character keeps the arithmetic visible
    long = ["x" * 3000, "question one"]
    assert cache.automatic("m", ["short"], count) == 0
    assert cache.automatic("m", long, count) == 0
    hit = cache.automatic("m", ["x" * 3000, "question two"], count)
    assert hit == 2560 and hit % 128 == 0  # 3000 chars remembered at 512-char checkpoints
    assert cache.automatic("other-model", long, count) == 0
    assert cache.automatic("m", long, count) == rounded(3012) == 2944
    assert rounded(1023) == 0 and rounded(1024) == 1024 and rounded(1300) == 1280
    assert len(cache) <= 64


def test_explicit_cache_writes_then_reads_with_lookback() -> None:
    cache = PrefixCache()
    blocks = ["a" * 1500, "b" * 100]
    assert cache.explicit("m", blocks, 1, len) == (0, 1500)
    assert cache.explicit("m", blocks, 1, len) == (1500, 0)
    assert cache.explicit("m", blocks, 2, len) == (1500, 100)  # earlier prefix read, rest written
    assert cache.explicit("m", ["tiny"], 1, len) == (0, 0)


def test_fault_draws_are_deterministic_and_retries_draw_anew() -> None:
    config = SimConfig(seed=5, fault_rate=0.5)
    bodies = [f"body-{i % 4}" for i in range(40)]
    first = [FaultPlan(config).draw(b) for b in bodies[:1]]
    plan_a, plan_b = FaultPlan(config), FaultPlan(config)
    draws_a = [plan_a.draw(b) for b in bodies]
    assert draws_a == [plan_b.draw(b) for b in bodies] and first[0] == draws_a[0]
    same_body = [d for b, d in zip(bodies, draws_a, strict=True) if b == "body-0"]
    assert None in same_body and len(set(same_body)) > 1
    assert set(draws_a) <= {None, "429", "500", "disconnect"}
    assert FaultPlan(SimConfig(fault_rate=1, faults=("500",))).draw("x") == "500"
    assert FaultPlan(SimConfig()).draw("x") is None


def test_tool_choice_rules() -> None:
    tools = [ToolSpec("get_weather", {}), ToolSpec("search_docs", {})]
    assert choose_tool(tools, "auto", "user", "weather in Oslo?") == tools[0]
    assert choose_tool(tools, "auto", "user", "please search the docs") == tools[1]
    assert choose_tool(tools, "auto", "user", "hello there") is None
    assert choose_tool(tools, "auto", "tool", "weather") is None
    assert choose_tool(tools, "required", "user", "hello") == tools[0]
    assert choose_tool(tools, "search_docs", "user", "hello") == tools[1]
    assert choose_tool(tools, "none", "user", "weather") is None
    schema = {"type": "object", "required": ["q", "n"], "properties": {
        "q": {"type": "string"}, "n": {"type": "integer"}, "tags": {"type": "array"}}}
    call = sample_arguments(ToolSpec("search_docs", schema), draw(0), "find Kubernetes notes")
    assert set(json.loads(call.arguments)) == {"q", "n"}
    assert json.loads(call.arguments)["q"] == "Kubernetes"


def test_settings_and_models_are_checked(measurer: Measurer) -> None:
    for bad in ({"fault_rate": 1.5}, {"ttft_ms": -1}, {"faults": ()},
                {"answer_tokens": (10, 5)}, {"tokens_per_s": float("nan")}):
        with pytest.raises(SimConfigError):
            SimConfig(**bad)  # type: ignore[arg-type]
    with pytest.raises(SimConfigError, match="sim-gpt"):
        resolve_models(["sim-gtp"], measurer.catalog)
    served = resolve_models(["gpt-4o", "claude-sonnet-4-5"], measurer.catalog)
    assert served["gpt-4o"].tokenizer == "o200k_base" and served["gpt-4o"].owned_by == "openai"
    assert served["claude-sonnet-4-5"].api_style == "anthropic"


def test_log_reader_skips_a_torn_last_line_and_refuses_garbage(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text('{"request_id": "a"}\n{"request_id": "b"}\n{"request_')
    assert [r["request_id"] for r in read_log(log)] == ["a", "b"]
    log.write_text('{"request_id": "a"}\nnot json\n{"request_id": "b"}\n')
    with pytest.raises(SimLogFormatError, match=":2:"):
        list(read_log(log))


def test_cli_help_and_bad_options() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["sim-provider", "--help"])
    assert result.exit_code == 0 and "--fault-rate" in result.output
    result = runner.invoke(cli, ["sim-provider", "--fault-rate", "2"])
    assert result.exit_code == 1 and "sim-config-invalid" in result.output
    result = runner.invoke(cli, ["sim-provider", "--faults", "timeout"])
    assert result.exit_code == 1 and "--faults" in result.output
