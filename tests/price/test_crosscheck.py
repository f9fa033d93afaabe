"""Our price of every model LiteLLM also lists: equal, or explained in docs/prices.md.

Runs on the committed excerpt of LiteLLM 1.104.5's price JSON (tests/price/fixtures);
``benchmarks/crosscheck_litellm.py`` runs the same check on the full file.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from ciyuan.price import default_pricer
from ciyuan.price.crosscheck import CrossCheckRow, crosscheck, summarize
from ciyuan.price.litellm import load_litellm_file

FIXTURE = Path(__file__).parent / "fixtures" / "litellm_model_prices_excerpt.json"
DOC = Path(__file__).resolve().parents[2] / "docs" / "prices.md"
WHEN = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def rows() -> list[CrossCheckRow]:
    return crosscheck(default_pricer().book, load_litellm_file(FIXTURE), WHEN)


def _explained() -> dict[str, str]:
    section = DOC.read_text("utf-8").split("## Differences from LiteLLM", 1)[1].split("\n## ")[0]
    return {m[0]: m[1] for m in re.findall(r"^\| `([^`]+)` \| (.+)$", section, re.M)}


def test_every_difference_is_explained_with_a_source_and_a_date(rows: list[CrossCheckRow]) -> None:
    explained = _explained()
    for row in rows:
        if row.status == "different":
            assert row.model in explained, f"{row.model}: {[str(d) for d in row.differences]}"
            text = explained[row.model]
            assert re.search(r"\d{4}-\d{2}-\d{2}", text), row.model
            assert row.litellm_key is not None and row.litellm_key in text, row.model


def test_nothing_is_explained_that_is_not_different(rows: list[CrossCheckRow]) -> None:
    different = {r.model for r in rows if r.status == "different"}
    assert set(_explained()) <= different


def test_the_core_models_are_equal(rows: list[CrossCheckRow]) -> None:
    status = {r.model: r.status for r in rows}
    for model in ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3", "o4-mini", "gpt-5", "gpt-5-mini",
                  "claude-sonnet-4-5", "claude-haiku-4-5", "gemini-2.5-pro",
                  "gemini-2.5-flash", "deepseek-reasoner", "qwen-turbo", "qwen3-coder-plus",
                  "llama-3.1-70b-instruct", "mistral-large-latest", "moonshot-v1-8k"):
        assert status[model] == "equal", model


def test_counts_cover_every_priced_model(rows: list[CrossCheckRow]) -> None:
    counts = summarize(rows)
    assert sum(counts.values()) == len(default_pricer().book)
    assert counts["equal"] >= 35 and counts["different"] <= 16
    assert counts["no-usd-price"] == 7  # CNY-only: LiteLLM's vocabulary has no currency


def test_a_difference_is_reported_per_category() -> None:
    data = load_litellm_file(FIXTURE)
    entry = dict(data["gpt-4o"])
    entry["output_cost_per_token"] = Decimal("0.000011")
    rows = crosscheck(default_pricer().book, {**data, "gpt-4o": entry}, WHEN)
    row = next(r for r in rows if r.model == "gpt-4o")
    assert row.status == "different"
    # reasoning has no price of its own on either side, so it follows output
    assert [str(d) for d in row.differences] == ["output: ours 10, LiteLLM 11",
                                                 "reasoning: ours 10, LiteLLM 11"]
