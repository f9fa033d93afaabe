"""List-price rating with the shipped book: categories, tiers, TTLs, batch, off-peak, FX."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ciyuan.core.errors import UnknownModelError
from ciyuan.core.usage import Usage
from ciyuan.price import default_pricer, rate
from ciyuan.price.errors import MissingPriceError, NoFxRateError, NoPriceError, PriceNotInForceError

AT = "2026-11-01"


def _lines(rating: object) -> dict[str, Decimal]:
    return {ln.category: ln.amount for ln in rating.lines}  # type: ignore[attr-defined]


def test_acceptance_totals() -> None:
    assert rate(Usage(input_tokens=10**6, output_tokens=10**6), model="gpt-4o-2024-08-06",
                at=AT).total == Decimal("12.50")
    assert rate(Usage(input_tokens=10**6, cached_input_tokens=400_000),
                model="gpt-4o-2024-08-06", at=AT).total == Decimal("2.00")
    exact = rate(Usage(input_tokens=1_234_567), model="gpt-4o-mini", at=AT).total
    assert str(exact) == "0.18518505"


def test_every_line_explains_itself_and_amount_is_quantity_times_unit_price() -> None:
    rating = rate(Usage(input_tokens=1_000_000, cached_input_tokens=400_000, output_tokens=2000,
                        reasoning_tokens=500), model="o3", at=AT)
    for ln in rating.lines:
        assert ln.amount == ln.quantity * ln.unit_price
        assert ln.rule and str(ln.quantity.quantize(Decimal(1))) in ln.rule.replace(",", "")
    assert "includes 500 reasoning" in rating.lines[-1].rule
    assert rating.price_book_version == "ciyuan-2026.11.22:o3@2025-06-10:USD"


def test_price_in_force_when_the_call_happened() -> None:
    usage = Usage(input_tokens=10**6, output_tokens=10**6)
    assert rate(usage, model="o3", at="2025-05-01").total == 50  # launch price 10 + 40
    assert rate(usage, model="o3", at="2025-07-01").total == 10  # after the cut, 2 + 8
    cached = Usage(input_tokens=10**6, cached_input_tokens=10**6)
    assert rate(cached, model="gpt-4o", at="2024-09-01").total == Decimal("2.50")  # no caching
    with pytest.raises(PriceNotInForceError, match="first price starts 2024-08-06"):
        rate(usage, model="gpt-4o", at="2024-01-01")


def test_anthropic_cache_writes_by_ttl_and_long_context_tier() -> None:
    usage = Usage.from_anthropic({"input_tokens": 1000, "cache_read_input_tokens": 10_000,
                                  "cache_creation_input_tokens": 3000,
                                  "cache_creation": {"ephemeral_1h_input_tokens": 1000},
                                  "output_tokens": 1000})
    lines = _lines(rate(usage, model="claude-sonnet-4-5", at=AT))
    assert lines == {"input": Decimal("0.003"), "cached_input": Decimal("0.003"),
                     "cache_write": Decimal("0.0075"),  # 2000 × 3.75/M (1.25×)
                     "cache_write_1h": Decimal("0.006"),  # 1000 × 6/M (2×)
                     "output": Decimal("0.015")}
    big = rate(Usage(input_tokens=250_000, output_tokens=1000), model="claude-sonnet-4-5", at=AT)
    assert big.total == Decimal("1.5225")  # 250k × 6/M + 1k × 22.50/M
    assert big.lines[0].tier == "input > 200,000 tokens"


def test_gemini_long_context_and_batch() -> None:
    usage = Usage(input_tokens=300_000, cached_input_tokens=100_000, output_tokens=10_000,
                  reasoning_tokens=4000)
    tiered = rate(usage, model="gemini-2.5-pro", at=AT)
    assert tiered.total == Decimal("0.675")  # 200k×2.5 + 100k×0.25 + 10k×15 (per M)
    batch = rate(usage, model="gemini-2.5-pro", at=AT, service_tier="batch")
    assert batch.total * 2 == tiered.total and "batch" in (batch.lines[0].tier or "")
    with pytest.raises(NoPriceError, match="standard, batch, flex"):
        rate(usage, model="gemini-2.5-pro", at=AT, service_tier="priority")


def test_deepseek_off_peak_window_in_its_time_zone() -> None:
    usage = Usage(input_tokens=1_000_000, cached_input_tokens=200_000, output_tokens=1_000_000)
    peak = rate(usage, model="deepseek-chat", at="2025-03-03T12:00:00Z")
    off = rate(usage, model="deepseek-chat", at="2025-03-03T17:00:00Z")
    assert peak.total == Decimal("1.33") and off.total == Decimal("0.665")
    assert off.lines[0].tier == "off-peak 16:30–00:30 UTC"
    late = rate(usage, model="deepseek-chat", at="2025-03-04T00:29:59Z")
    assert late.total == off.total
    assert rate(usage, model="deepseek-chat", at="2025-03-04T00:30:00Z").total == peak.total
    reasoner = rate(usage, model="deepseek-reasoner", at="2025-03-03T17:00:00Z")
    assert reasoner.total == Decimal("0.108") + Decimal("0.007") + Decimal("0.55")  # 75% off
    cny = rate(usage, model="deepseek-chat", at="2025-03-03T17:00:00Z", currency="CNY")
    assert cny.currency == "CNY" and cny.total == Decimal("4.85")  # (1.6 + 0.1 + 8) / 2
    assert rate(usage, model="deepseek-chat", at="2025-10-01").total == Decimal("0.6496")


def test_qwen_thinking_mode_bills_all_output_at_the_thinking_price() -> None:
    plain = rate(Usage(input_tokens=1000, output_tokens=1000), model="qwen-plus", at=AT,
                 currency="CNY")
    thinking = rate(Usage(input_tokens=1000, output_tokens=1000, reasoning_tokens=600),
                    model="qwen-plus", at=AT, currency="CNY")
    assert plain.total == Decimal("0.0028") and thinking.total == Decimal("0.0088")
    long = rate(Usage(input_tokens=200_000, output_tokens=1000), model="qwen-plus", at=AT,
                currency="CNY")
    assert long.total == Decimal("0.5") and long.lines[0].tier == "input > 128,000 tokens"


def test_doubao_output_length_condition() -> None:
    short = rate(Usage(input_tokens=10_000, output_tokens=200), model="doubao-seed-1.6", at=AT)
    longer = rate(Usage(input_tokens=10_000, output_tokens=201), model="doubao-seed-1.6", at=AT)
    big = rate(Usage(input_tokens=50_000, output_tokens=100), model="doubao-seed-1.6", at=AT)
    assert short.total == Decimal("0.0084") and longer.total == Decimal("0.009608")
    assert big.total == Decimal("0.0616")


def test_explicit_fx_conversion_only() -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    with pytest.raises(NoPriceError, match="--convert"):
        rate(usage, model="glm-4-plus", at=AT, currency="USD")
    converted = rate(usage, model="gpt-4o", at="2026-02-01", currency="CNY", convert=True)
    assert converted.currency == "CNY" and converted.total == Decimal("12.50") * \
        Decimal("7.0014")
    back = default_pricer().rate(usage, model="glm-4-plus", at="2026-02-01", currency="USD",
                                 convert=True)
    assert abs(back.total * Decimal("7.0014") - 10) < Decimal("1e-25")
    with pytest.raises(NoFxRateError, match="add one under"):
        rate(usage, model="gpt-4o", at="2025-01-01", currency="CNY", convert=True)


def test_unknown_model_lists_the_closest_names() -> None:
    with pytest.raises(UnknownModelError) as info:
        rate(Usage(input_tokens=1), model="gpt-4o-mni", at=AT)
    assert "gpt-4o-mini" in info.value.details["suggestions"]  # type: ignore[operator]


def test_units_without_a_price_are_an_error_not_free() -> None:
    with pytest.raises(MissingPriceError, match="per_image"):
        rate(Usage(input_tokens=10, images=2), model="gpt-4o", at=AT)


def test_embedding_models_price_input_only() -> None:
    assert rate(Usage(input_tokens=10**6), model="text-embedding-3-small", at=AT).total == \
        Decimal("0.02")


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 500_000), st.integers(0, 100), st.integers(0, 100_000),
       st.integers(0, 100), st.sampled_from(["gpt-4o", "claude-sonnet-4-5", "gemini-2.5-pro",
                                             "deepseek-chat", "o4-mini", "qwen-plus"]))
def test_total_is_the_exact_sum_of_categories(inputs: int, cached_pct: int, outputs: int,
                                              reasoning_pct: int, model: str) -> None:
    cached = inputs * cached_pct // 100
    reasoning = outputs * reasoning_pct // 100
    usage = Usage(input_tokens=inputs, cached_input_tokens=cached, output_tokens=outputs,
                  reasoning_tokens=reasoning)
    rating = rate(usage, model=model, at=AT)
    token_lines = [ln for ln in rating.lines if ln.unit == "token"]
    assert sum(ln.quantity for ln in token_lines) == inputs + outputs
    assert rating.total == sum(ln.amount for ln in rating.lines)
    dt.datetime.fromisoformat(rating.at.isoformat())
