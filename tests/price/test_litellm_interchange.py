"""Import and export of LiteLLM's model_prices_and_context_window.json vocabulary."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from ciyuan.core.usage import Usage
from ciyuan.price import Pricer, default_pricer
from ciyuan.price.errors import InvalidPriceDataError
from ciyuan.price.litellm import (
    dump_litellm_json,
    export_litellm,
    import_litellm,
    load_litellm_file,
)

FIXTURES = Path(__file__).parent / "fixtures"
EXCERPT = FIXTURES / "litellm_model_prices_excerpt.json"
WHEN = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def data() -> dict[str, object]:
    return load_litellm_file(EXCERPT)


def _import(data: dict[str, object]) -> object:
    meta = json.loads((FIXTURES / "litellm_model_prices_excerpt.meta.json").read_text())
    return import_litellm(data, source=f"LiteLLM {meta['litellm_version']} excerpt",
                          effective_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                          retrieved=dt.date(2026, 11, 22))


def test_fixture_records_its_version_and_license() -> None:
    meta = json.loads((FIXTURES / "litellm_model_prices_excerpt.meta.json").read_text())
    assert meta["litellm_version"] == "1.104.5" and "MIT" in meta["license"]
    assert "gpt-4o" in json.loads(EXCERPT.read_text())


def test_numbers_are_read_exactly(data: dict[str, object]) -> None:
    entry = data["gpt-4o-mini"]
    assert isinstance(entry, dict) and entry["input_cost_per_token"] == Decimal("1.5e-07")


def test_imported_file_becomes_a_price_book_with_its_source(data: dict[str, object]) -> None:
    book = _import(data)
    gpt = book.at("gpt-4o", WHEN)  # type: ignore[attr-defined]
    assert gpt.prices == {"input": Decimal("2.5"), "cached_input": Decimal("1.25"),
                          "output": Decimal("10")}
    assert gpt.source == "LiteLLM 1.104.5 excerpt" and gpt.litellm == "gpt-4o"
    assert gpt.service_tiers["batch"].prices["input"] == Decimal("1.25")
    sonnet = book.at("claude-sonnet-4-5", WHEN)  # type: ignore[attr-defined]
    assert sonnet.prices["cache_write_1h"] == Decimal("6")
    assert sonnet.tiers[0].above_input_tokens == 200_000
    assert sonnet.tiers[0].prices["cache_write_1h"] == Decimal("12")
    assert "search_context_cost_per_query" in sonnet.note  # not silently dropped
    qwen = book.at("dashscope/qwen3-coder-plus", WHEN)  # type: ignore[attr-defined]
    assert [t.above_input_tokens for t in qwen.tiers] == [32_000, 128_000, 256_000]
    assert "dall-e-3" not in book  # type: ignore[operator]  # per-image only: not a token book


def test_an_imported_book_rates_like_litellm_would(data: dict[str, object]) -> None:
    pricer = default_pricer()
    imported = Pricer(catalog=pricer.catalog, book=_import(data), fx=pricer.fx)  # type: ignore[arg-type]
    usage = Usage(input_tokens=10_000, cached_input_tokens=4_000, output_tokens=2_000,
                  reasoning_tokens=500)
    assert imported.rate(usage, model="gpt-4o", at=WHEN).total == Decimal("0.04")
    gemini = imported.rate(Usage(input_tokens=300_000, output_tokens=1000),
                           model="gemini/gemini-2.5-pro", at=WHEN)
    assert gemini.total == Decimal("0.765")  # above-200k tier
    assert imported.rate(usage, model="gpt-4o", at=WHEN).source.startswith("LiteLLM")


def test_floats_are_refused_not_trusted() -> None:
    with pytest.raises(InvalidPriceDataError, match="parse_float=Decimal"):
        import_litellm({"m": {"input_cost_per_token": 1e-6}}, source="x",
                       effective_from=WHEN, retrieved=WHEN.date())
    with pytest.raises(InvalidPriceDataError, match="no entry"):
        import_litellm({}, source="x", effective_from=WHEN, retrieved=WHEN.date(), keys=["m"])


def test_export_then_import_round_trips_our_usd_prices(tmp_path: Path) -> None:
    book = default_pricer().book
    exported = export_litellm(book, WHEN, providers={"gpt-4o": "openai"})
    assert exported["gpt-4o"]["litellm_provider"] == "openai"
    assert exported["gpt-4o"]["input_cost_per_token"] == Decimal("0.0000025")
    assert exported["gemini-2.5-pro"]["input_cost_per_token_above_200k_tokens"] == \
        Decimal("0.0000025")
    assert exported["gpt-4o"]["input_cost_per_token_batches"] == Decimal("0.00000125")
    assert "glm-4-plus" not in exported  # CNY only: LiteLLM's vocabulary is USD
    path = tmp_path / "export.json"
    path.write_text(dump_litellm_json(exported))
    back = import_litellm(load_litellm_file(path), source=str(path), effective_from=WHEN,
                          retrieved=WHEN.date())
    for model in ("gpt-4o", "claude-sonnet-4-5", "gemini-2.5-pro", "deepseek-chat"):
        ours, theirs = book.at(model, WHEN, "USD"), back.at(model, WHEN)
        assert theirs.prices == {k: v for k, v in ours.prices.items()}, model
        assert [t.prices for t in theirs.tiers] == [t.prices for t in ours.tiers], model
    assert not re.search(r"\d[eE]-\d", path.read_text())  # plain numerals, no float repr
