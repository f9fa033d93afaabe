"""``ciyuan price`` and ``ciyuan models`` through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ciyuan.cli.main import cli

REQUIRED = {"model", "currency", "price_book_version", "lines", "total"}
LINE_FIELDS = {"category", "quantity", "unit_price", "amount"}


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def _json(*args: str) -> Any:
    result = _run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_acceptance_gpt4o_alias_one_million_each_way() -> None:
    data = _json("price", "--model", "gpt-4o-2024-08-06", "--input", "1000000",
                 "--output", "1000000")
    assert set(data) >= REQUIRED and data["currency"] == "USD" and data["model"] == "gpt-4o"
    assert Decimal(data["total"]) == Decimal("12.50")
    assert all(set(line) >= LINE_FIELDS for line in data["lines"])
    assert all(isinstance(line[k], str) for line in data["lines"] for k in LINE_FIELDS)
    assert data["price_book_version"].startswith("ciyuan-")


def test_acceptance_cached_input() -> None:
    data = _json("price", "--model", "gpt-4o-2024-08-06", "--input", "1000000",
                 "--cached-input", "400000", "--output", "0")
    assert Decimal(data["total"]) == Decimal("2.00")
    assert [(ln["category"], ln["quantity"], ln["amount"]) for ln in data["lines"]] == [
        ("input", "600000", "1.5"), ("cached_input", "400000", "0.5")]


def test_acceptance_exact_total_without_rounding() -> None:
    data = _json("price", "--model", "gpt-4o-mini", "--input", "1234567", "--output", "0")
    assert data["total"] == "0.18518505"


def test_acceptance_as_a_real_subprocess() -> None:
    env = {**os.environ, "COLUMNS": "120"}
    script = Path(sys.executable).parent / "ciyuan"  # the installed console script
    command = [str(script)] if script.exists() else [sys.executable, "-m", "ciyuan"]
    out = subprocess.run([*command, "price", "--model", "gpt-4o-mini", "--input", "1234567",
                          "--output", "0", "--json"],
                         capture_output=True, text=True, check=True, env=env, timeout=120)
    assert json.loads(out.stdout)["total"] == "0.18518505"


def test_table_explain_and_date() -> None:
    result = _run("price", "-m", "deepseek-chat", "--input", "100000", "--output", "2000",
                  "--at", "2025-03-01T17:00:00Z", "--explain", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "off-peak 16:30–00:30 UTC" in result.output and "total" in result.output


@pytest.mark.parametrize(("args", "code", "words"), [
    (("--input", "-5"), "invalid-usage", "--input"),
    (("--input", "1.5"), "invalid-usage", "whole"),
    (("--input", "10", "--cached-input", "11"), "invalid-usage", "cached_input_tokens"),
    (("--input", "10", "--at", "2020-01-01"), "price-not-in-force", "first price starts"),
    (("--input", "10", "--tier", "overnight"), "no-price", "service tier"),
    (("--input", "10", "--plan", "gold"), "unknown-plan", "[plans.gold]"),
    (("--input", "10", "--at", "yesterday"), "invalid-input", "ISO"),
])
def test_bad_input_is_one_line_with_code_and_fix(args: tuple[str, ...], code: str,
                                                 words: str) -> None:
    result = _run("price", "-m", "gpt-4o", *args)
    assert result.exit_code == 2
    assert f"error [{code}]" in result.output and words in result.output
    assert "Traceback" not in result.output


def test_unknown_model_suggests_names() -> None:
    result = _run("price", "-m", "gpt4o-mini", "--input", "1")
    assert result.exit_code == 2 and "error [unknown-model]" in result.output
    assert "gpt-4o-mini" in result.output


def test_plans_and_prices_from_ciyuan_toml(tmp_path: Path) -> None:
    config = tmp_path / "ciyuan.toml"
    config.write_text('''
[plans.team]
currency = "USD"
[[plans.team.charges]]
kind = "per_token"
[[plans.team.charges]]
kind = "markup"
name = "m"
percent = "10"

[[prices."gpt-4o"]]
currency = "USD"
effective_from = "2024-01-01"
source = "contract"
retrieved = "2026-11-22"
input = "2.00"
output = 8.00
''')
    result = _run("--config", str(config), "price", "-m", "gpt-4o", "--input", "10")
    assert result.exit_code == 1 and "error [price-float]" in result.output
    assert 'output = "8.00"' in result.output
    config.write_text(config.read_text().replace("output = 8.00", 'output = "8.00"'))
    data = _json("--config", str(config), "price", "-m", "gpt-4o", "--input", "1000000",
                 "--output", "1000000", "--plan", "team")
    assert Decimal(data["total"]) == Decimal("11.00") and data["plan"] == "team"
    assert data["price_book_version"] == "ciyuan.toml:gpt-4o@2024-01-01:USD"


def test_models_lists_prices_and_comparable_prices() -> None:
    rows = _json("models", "--provider", "deepseek")
    by_model = {r["model"]: r for r in rows}
    chat = by_model["deepseek-chat"]
    assert chat["currency"] == "USD" and chat["input_per_mtok"] == "0.28"
    assert chat["blended_per_mtok"] == "0.315" and chat["tokenizer"] == "deepseek-v3"
    zh = chat["per_mtok_standard"]["zh"]
    if zh is not None:  # needs measure/data/exchange_rates.json
        assert Decimal(zh["blended"]) == Decimal("0.315") * Decimal(zh["exchange_rate"])


def test_models_sorting_and_table() -> None:
    rows = _json("models", "--sort", "blended")
    usd = [Decimal(r["blended_per_mtok"]) for r in rows if r["currency"] == "USD"]
    assert usd == sorted(usd) and len(rows) >= 40
    assert rows[-1]["currency"] == "CNY"  # currencies are never ranked against each other
    converted = _json("models", "--sort", "standard", "--lang", "en", "--currency", "USD",
                      "--convert")
    assert {r["currency"] for r in converted} == {"USD"}
    table = _run("models", "--provider", "anthropic", env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "claude-sonnet-4-5" in table.output
    bad = _run("models", "--provider", "nobody")
    assert bad.exit_code == 2 and "known:" in bad.output


def test_help_has_examples() -> None:
    for command in ("price", "models"):
        result = _run(command, "--help")
        assert result.exit_code == 0 and "Examples:" in result.output
