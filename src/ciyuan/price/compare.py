"""Comparable prices: per million standard tokens by language class, and blended 3:1.

A vendor's "per million tokens" counts its own (native) tokens. One standard token is
``rate`` native tokens (the exchange rate, native ÷ standard, per language class, from
``ciyuan.measure.calibration``), so a price per million native tokens ``p`` is a price per
million standard tokens of ``p × rate``. The blended price is Artificial Analysis's
3 input : 1 output mix, ``(3 × input + output) / 4``. Both are exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from ciyuan.core.errors import CiyuanError
from ciyuan.core.language import LANGUAGE_CLASSES, LanguageClass
from ciyuan.core.money import MONEY_CONTEXT, format_amount
from ciyuan.price.api import Pricer
from ciyuan.price.book import PriceVersion

__all__ = ["ComparablePrice", "RateTable", "blended", "comparable_prices", "per_standard"]

_FOUR = Decimal(4)
_THREE = Decimal(3)


class RateTable(Protocol):
    """What ``ciyuan.measure.calibration.ExchangeRateTable`` offers."""

    @property
    def native_tokens(self) -> Mapping[str, Mapping[LanguageClass, int]]: ...

    @property
    def exact(self) -> Mapping[str, bool]: ...

    def rate(self, tokenizer: str, language: LanguageClass) -> Decimal: ...


def blended(input_per_mtok: Decimal, output_per_mtok: Decimal) -> Decimal:
    """The 3:1 input:output blended price per million tokens."""
    return MONEY_CONTEXT.divide(
        MONEY_CONTEXT.add(MONEY_CONTEXT.multiply(_THREE, input_per_mtok), output_per_mtok), _FOUR)


def per_standard(per_native_mtok: Decimal, rate: Decimal) -> Decimal:
    """Price per million standard tokens, given the price per million native tokens."""
    return MONEY_CONTEXT.multiply(per_native_mtok, rate)


@dataclass(frozen=True)
class ComparablePrice:
    model: str
    provider: str
    tokenizer: str
    context_window: int
    currency: str
    version_id: str
    input_per_mtok: Decimal
    output_per_mtok: Decimal
    cached_input_per_mtok: Decimal | None
    blended_per_mtok: Decimal
    #: language class → exchange rate (native per standard token); empty if unknown
    exchange_rates: Mapping[LanguageClass, Decimal] = field(default_factory=dict)
    rates_exact: bool = False

    def standard(self, language: LanguageClass) -> dict[str, Decimal] | None:
        rate = self.exchange_rates.get(language)
        if rate is None:
            return None
        return {"input": per_standard(self.input_per_mtok, rate),
                "output": per_standard(self.output_per_mtok, rate),
                "blended": per_standard(self.blended_per_mtok, rate)}

    def to_dict(self) -> dict[str, object]:
        def show(value: Decimal | None) -> str | None:
            return None if value is None else format_amount(value)

        per_lang = {}
        for lang in LANGUAGE_CLASSES:
            found = self.standard(lang)
            per_lang[lang] = None if found is None else {
                "exchange_rate": show(self.exchange_rates[lang]),
                **{k: show(v) for k, v in found.items()}}
        return {
            "model": self.model, "provider": self.provider, "tokenizer": self.tokenizer,
            "context_window": self.context_window, "currency": self.currency,
            "price_book_version": self.version_id,
            "input_per_mtok": show(self.input_per_mtok),
            "cached_input_per_mtok": show(self.cached_input_per_mtok),
            "output_per_mtok": show(self.output_per_mtok),
            "blended_per_mtok": show(self.blended_per_mtok),
            "per_mtok_standard": per_lang,
            "exchange_rates_exact": self.rates_exact,
        }


def _rates(table: RateTable | None, tokenizer: str) -> tuple[dict[LanguageClass, Decimal], bool]:
    if table is None or tokenizer not in table.native_tokens:
        return {}, False
    return ({lang: table.rate(tokenizer, lang) for lang in LANGUAGE_CLASSES},
            bool(table.exact.get(tokenizer, False)))


def _version(pricer: Pricer, model: str, at: dt.datetime, currency: str | None,
             convert: bool) -> PriceVersion | None:
    try:
        return pricer.version(model, at, currency, convert)
    except CiyuanError:  # unpriced, not in force, no price in that currency
        return None


def comparable_prices(pricer: Pricer, rates: RateTable | None, at: dt.datetime,
                      provider: str | None = None, currency: str | None = None,
                      convert: bool = False) -> list[ComparablePrice]:
    """One row per catalog model priced at ``at`` (optionally of one provider)."""
    rows = []
    for info in pricer.catalog:
        if provider is not None and info.provider != provider:
            continue
        version = _version(pricer, info.id, at, currency, convert)
        if version is None or "input" not in version.prices:
            continue
        prices = version.prices
        output = prices.get("output", Decimal(0))
        exchange, exact = _rates(rates, info.tokenizer)
        rows.append(ComparablePrice(
            model=info.id, provider=info.provider, tokenizer=info.tokenizer,
            context_window=info.context_window, currency=version.currency,
            version_id=version.version_id, input_per_mtok=prices["input"],
            output_per_mtok=output, cached_input_per_mtok=prices.get("cached_input"),
            blended_per_mtok=blended(prices["input"], output),
            exchange_rates=exchange, rates_exact=exact))
    return rows
