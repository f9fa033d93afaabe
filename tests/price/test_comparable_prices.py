"""Comparable prices: per million standard tokens by language class, and blended 3:1."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ciyuan.core.language import LanguageClass
from ciyuan.price import default_pricer
from ciyuan.price.compare import blended, comparable_prices, per_standard

WHEN = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


@dataclass
class FakeRates:
    """A small stand-in for the calibrated exchange-rate table."""

    rates: dict[str, dict[LanguageClass, Decimal]] = field(default_factory=lambda: {
        "o200k_base": {"zh": Decimal(1), "en": Decimal(1), "code": Decimal(1),
                       "mixed": Decimal(1)},
        "deepseek-v3": {"zh": Decimal("0.75"), "en": Decimal("1.02"), "code": Decimal("1.06"),
                        "mixed": Decimal("0.89")},
    })

    @property
    def native_tokens(self) -> Mapping[str, Mapping[LanguageClass, int]]:
        return {k: {lang: 1 for lang in v} for k, v in self.rates.items()}

    @property
    def exact(self) -> Mapping[str, bool]:
        return {k: True for k in self.rates}

    def rate(self, tokenizer: str, language: LanguageClass) -> Decimal:
        return self.rates[tokenizer][language]


def test_blended_and_standard_arithmetic_is_exact() -> None:
    assert blended(Decimal("2.50"), Decimal("10.00")) == Decimal("4.375")
    assert per_standard(Decimal("0.28"), Decimal("0.7583")) == Decimal("0.212324")


def test_rows_carry_list_blended_and_standard_prices() -> None:
    rows = {r.model: r for r in comparable_prices(default_pricer(), FakeRates(), WHEN)}
    gpt = rows["gpt-4o"]
    assert (gpt.input_per_mtok, gpt.output_per_mtok, gpt.blended_per_mtok) == \
        (Decimal("2.50"), Decimal("10.00"), Decimal("4.375"))
    assert gpt.standard("zh") == {"input": Decimal("2.50"), "output": Decimal("10.00"),
                                  "blended": Decimal("4.375")}
    deepseek = rows["deepseek-chat"]
    standard = deepseek.standard("zh")
    assert standard is not None and standard["blended"] == Decimal("0.315") * Decimal("0.75")
    assert rows["claude-sonnet-4-5"].standard("zh") is None  # tokenizer not in the fake table
    data = deepseek.to_dict()
    assert data["per_mtok_standard"]["en"]["exchange_rate"] == "1.02"  # type: ignore[index]
    assert data["blended_per_mtok"] == "0.315"


def test_provider_filter_currency_and_conversion() -> None:
    pricer = default_pricer()
    zhipu = comparable_prices(pricer, None, WHEN, provider="zhipu")
    assert {r.model for r in zhipu} == {"glm-4-plus", "glm-4-flash", "glm-4.5", "glm-4.5-air",
                                        "glm-4.6"}
    assert {r.currency for r in zhipu} == {"CNY", "USD"}
    converted = comparable_prices(pricer, None, WHEN, provider="zhipu", currency="USD",
                                  convert=True)
    plus = next(r for r in converted if r.model == "glm-4-plus")
    assert plus.currency == "USD" and abs(plus.input_per_mtok * Decimal("7.0014") - 5) < \
        Decimal("1e-25")
    cny = comparable_prices(pricer, None, WHEN, provider="deepseek", currency="CNY")
    assert {r.model for r in cny} == {"deepseek-chat", "deepseek-reasoner"}
