"""The parts of a price sheet: overrides, long-context tiers, off-peak windows, resolved sheets.

A ``PriceVersion`` (``book``) combines them: base prices, then the tier the call's size falls
in, then the service tier (batch, flex, priority), then an off-peak window, resolved into a
``Sheet`` of per-unit prices for one call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from ciyuan.core.money import MONEY_CONTEXT, format_amount
from ciyuan.price.errors import NoPriceError

__all__ = ["ContextTier", "OffPeakWindow", "Override", "Sheet"]


@dataclass(frozen=True, slots=True)
class Override:
    """A change to a price sheet: a multiplier on every price, or explicit prices."""

    multiplier: Decimal | None = None
    prices: Mapping[str, Decimal] = field(default_factory=dict)

    def apply(self, prices: Mapping[str, Decimal], *, tiered: bool) -> dict[str, Decimal]:
        if self.multiplier is not None:
            return {k: MONEY_CONTEXT.multiply(v, self.multiplier) for k, v in prices.items()}
        if tiered:  # explicit prices are for the base sheet only
            raise NoPriceError(
                "this service tier / window lists explicit prices for the base sheet only, "
                "not for the long-context tier the call fell into; add the tier's prices",
                field="prices")
        return {**prices, **self.prices}

    def describe(self) -> str:
        if self.multiplier is not None:
            return f"× {format_amount(self.multiplier)}"
        return "listed prices"


@dataclass(frozen=True, slots=True)
class ContextTier:
    """Prices that replace the base sheet when a call's input exceeds a threshold."""

    above_input_tokens: int
    prices: Mapping[str, Decimal]
    #: optional extra condition (Doubao, GLM in China): output no longer than this
    max_output_tokens: int | None = None

    def matches(self, input_tokens: int, output_tokens: int) -> bool:
        if input_tokens <= self.above_input_tokens:
            return False
        return self.max_output_tokens is None or output_tokens <= self.max_output_tokens

    def label(self) -> str:
        text = f"input > {self.above_input_tokens:,} tokens"
        if self.max_output_tokens is not None:
            text += f", output ≤ {self.max_output_tokens:,}"
        return text


@dataclass(frozen=True, slots=True)
class OffPeakWindow:
    """A daily window [start, end) in a time zone with its own prices (DeepSeek 2025)."""

    start: dt.time
    end: dt.time
    time_zone: str
    override: Override

    def contains(self, at: dt.datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.time_zone)).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # window crosses midnight

    def label(self) -> str:
        return f"off-peak {self.start:%H:%M}–{self.end:%H:%M} {self.time_zone}"


@dataclass(frozen=True, slots=True)
class Sheet:
    """Resolved prices for one call: per-unit prices (per token for token categories)."""

    unit_prices: Mapping[str, Decimal]
    per_mtok: Mapping[str, Decimal]
    tier: str | None
    #: rule texts by (category, price lookup chain), filled by ``list_price`` on first use
    labels: dict[tuple[str, tuple[str, ...]], tuple[Decimal, str]] = field(
        default_factory=dict, compare=False)
