"""``ciyuan count`` and ``ciyuan tokenizers`` through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ciyuan.cli.main import cli
from ciyuan.measure.calibration import corpus_text

REQUIRED = {"model", "tokenizer", "native_tokens", "standard_tokens", "method", "language_class"}


def _run(*args: str, stdin: bytes | None = None) -> Any:
    result = CliRunner().invoke(cli, list(args), input=stdin)
    return result


def test_gpt4o_json_equals_raw_tiktoken_on_the_corpus(tmp_path: Path, raw_tiktoken: Any) -> None:
    text = "".join(corpus_text(lang) for lang in ("zh", "en", "code", "mixed"))
    path = tmp_path / "corpus.txt"
    path.write_text(text, "utf-8")
    result = _run("count", "--model", "gpt-4o", "--model", "gpt-4", "--json", str(path))
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert set(rows[0]) >= REQUIRED
    assert rows[0]["native_tokens"] == len(raw_tiktoken("o200k_base").encode(text))
    assert rows[1]["native_tokens"] == len(raw_tiktoken("cl100k_base").encode(text))
    assert rows[0]["method"] == "counted"


def test_estimated_models_say_so() -> None:
    result = _run("count", "-m", "claude-sonnet-4-5", "-m", "gemini-2.5-pro", "--json",
                  "--text", "hello")
    assert {r["method"] for r in json.loads(result.output)} == {"estimated"}


def test_stdin_and_empty_input() -> None:
    result = _run("count", "-m", "qwen-plus", "--json", "-", stdin=b"")
    assert result.exit_code == 0
    row = json.loads(result.output)[0]
    assert row["native_tokens"] == 0 and row["standard_tokens"] == 0


def test_unknown_model_lists_closest_names() -> None:
    result = _run("count", "-m", "gpt4o", "--text", "x")
    assert result.exit_code == 2
    assert "unknown-model" in result.output and "gpt-4o" in result.output


def test_invalid_utf8_gives_offset_and_replace_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"abc \xff def")
    result = _run("count", "-m", "gpt-4o", str(path))
    assert result.exit_code == 2
    assert "invalid-utf8" in result.output and "byte offset 4" in result.output
    result = _run("count", "-m", "gpt-4o", "--errors", "replace", "--json", str(path))
    assert result.exit_code == 0 and json.loads(result.output)[0]["native_tokens"] > 0


def test_table_output_and_help() -> None:
    assert "Examples" in _run("count", "--help").output
    result = _run("count", "--text", "你好，世界！")
    assert result.exit_code == 0 and "deepseek-chat" in result.output


def test_tokenizers_json_lists_vocabularies_and_estimates() -> None:
    result = _run("tokenizers", "--json")
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert {"o200k_base", "cl100k_base", "qwen", "qwen3.5", "deepseek-v3", "deepseek-v4",
            "llama3", "glm-4"} <= set(rows)
    assert rows["o200k_base"]["sha256"].startswith("446a9538")
    assert rows["claude"]["exact"] is False and rows["o200k_base"]["exact"] is True


@pytest.mark.slow
def test_real_process_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "zh.txt"
    path.write_text(corpus_text("zh"), "utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "ciyuan", "count", "-m", "gpt-4o", "-m", "qwen-plus", "-m",
         "deepseek-chat", "--json", str(path)],
        check=True, capture_output=True, timeout=120,
    )
    rows = json.loads(out.stdout)
    assert len({r["standard_tokens"] for r in rows}) == 1
    assert len({r["native_tokens"] for r in rows}) == 3
