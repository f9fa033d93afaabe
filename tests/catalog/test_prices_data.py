"""The shipped price book: coverage, provenance, and no float anywhere near a price."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from importlib import resources

from ciyuan.catalog.models import load_catalog
from ciyuan.price.load import load_fx_table, load_price_book, shipped_price_data

REQUIRED_PROVIDERS = {"openai", "anthropic", "google", "alibaba", "deepseek", "moonshot",
                      "zhipu", "bytedance", "meta", "mistral"}


def _text() -> str:
    return resources.files("ciyuan.catalog").joinpath("data/prices.toml").read_text("utf-8")


def test_at_least_40_catalog_models_across_the_ten_vendors_are_priced() -> None:
    catalog, book = load_catalog(), load_price_book()
    priced = [m for m in catalog if m.id in book]
    assert len(priced) >= 40
    assert {m.provider for m in priced} >= REQUIRED_PROVIDERS
    assert all(model in catalog for model in book.models()), "every price names a catalog model"


def test_every_version_has_currency_source_and_retrieval_date() -> None:
    for version in load_price_book().all_versions():
        assert version.currency in ("USD", "CNY")
        assert version.source.startswith(("https://", "LiteLLM 1.104.5"))
        assert version.retrieved <= dt.date(2026, 11, 22)
        if version.source.startswith("LiteLLM") or "LiteLLM" in version.note:
            assert "LiteLLM" in version.source + version.note


def test_chinese_vendors_list_cny_prices() -> None:
    book = load_price_book()
    for model in ("deepseek-chat", "qwen-plus", "kimi-k2-0905-preview", "glm-4-plus",
                  "doubao-seed-1.6"):
        assert "CNY" in book.currencies(model), model


def test_no_toml_float_in_the_shipped_book() -> None:
    tomllib.loads(_text())  # parses without parse_float: a float would be caught downstream
    for number, line in enumerate(_text().splitlines(), 1):
        code = line.split("#", 1)[0]
        assert not re.search(r"=\s*-?\d+\.\d+\s*$", code), f"prices.toml:{number} is a float"


def test_the_book_shows_tiers_ttl_batch_and_off_peak() -> None:
    book = load_price_book()
    sonnet = book.at("claude-sonnet-4-5", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert sonnet.prices["cache_write"] == sonnet.prices["input"] * 5 / 4
    assert sonnet.prices["cache_write_1h"] == sonnet.prices["input"] * 2
    assert sonnet.tiers[0].above_input_tokens == 200_000
    gemini = book.at("gemini-2.5-pro", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert gemini.tiers[0].prices["input"] == 2 * gemini.prices["input"]
    assert "batch" in gemini.service_tiers
    deepseek = book.at("deepseek-chat", dt.datetime(2025, 3, 1, tzinfo=dt.UTC))
    assert deepseek.off_peak and deepseek.off_peak[0].time_zone == "UTC"
    qwen = book.at("qwen-plus", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "CNY")
    assert [t.above_input_tokens for t in qwen.tiers] == [128_000, 256_000]


def test_fx_table_is_dated_and_sourced() -> None:
    table = load_fx_table()
    rate = table.rate("USD", "CNY", dt.date(2026, 2, 1))
    assert rate.on == dt.date(2026, 1, 21) and rate.source
    assert shipped_price_data()["book"] == "ciyuan"
