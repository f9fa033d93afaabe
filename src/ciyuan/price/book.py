"""Price versions and the price book: what a model costs, from when to when, and why.

A :class:`PriceVersion` is one effective-dated price sheet of one model in one currency, as the
vendor lists it: token prices per million tokens by category, per-unit fees, long-context
tiers, service tiers (batch, flex, priority) and off-peak windows. A :class:`PriceBook` holds
the versions of many models and answers "which version was in force at this instant".
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ciyuan.core.money import MONEY_CONTEXT
from ciyuan.price.errors import NoPriceError, PriceNotInForceError, PriceOverlapError
from ciyuan.price.sheet import ContextTier, OffPeakWindow, Override, Sheet

__all__ = [
    "TOKEN_CATEGORIES",
    "UNIT_CATEGORIES",
    "ContextTier",
    "OffPeakWindow",
    "Override",
    "PriceBook",
    "PriceVersion",
    "Sheet",
]

#: Token categories, priced per million tokens. ``thinking_output`` is Alibaba's rule: in
#: thinking mode every output token is billed at that price.
TOKEN_CATEGORIES: tuple[str, ...] = (
    "input", "cached_input", "cache_write", "cache_write_1h", "output", "reasoning",
    "thinking_output", "input_audio", "input_image", "input_video", "output_audio",
    "output_image",
)
#: Unit categories, priced per unit: category → unit name.
UNIT_CATEGORIES: dict[str, str] = {"image": "image", "audio_second": "second",
                                   "request": "request"}


@dataclass(frozen=True)
class PriceVersion:
    """One model's prices in one currency over [effective_from, effective_to)."""

    model: str
    currency: str
    effective_from: dt.datetime
    effective_to: dt.datetime | None
    source: str
    retrieved: dt.date
    prices: Mapping[str, Decimal]
    tiers: tuple[ContextTier, ...] = ()
    service_tiers: Mapping[str, Override] = field(default_factory=dict)
    off_peak: tuple[OffPeakWindow, ...] = ()
    note: str = ""
    book: str = "ciyuan"
    #: the key of the same model in LiteLLM's price JSON, for cross-checks and export
    litellm: str = ""
    _sheets: dict[tuple[int, int, str | None], Sheet] = field(default_factory=dict, compare=False,
                                                     repr=False)

    @functools.cached_property
    def version_id(self) -> str:
        start = self.effective_from
        stamp = (start.date().isoformat() if start.timetz() == dt.time(0, tzinfo=dt.UTC)
                 else start.isoformat())
        return f"{self.book}:{self.model}@{stamp}:{self.currency}"

    def covers(self, at: dt.datetime) -> bool:
        return self.effective_from <= at and (self.effective_to is None
                                              or at < self.effective_to)

    def sheet(self, input_tokens: int, output_tokens: int, at: dt.datetime,
              service_tier: str | None = None) -> Sheet:
        """The prices that apply to a call of this size, at this time, in this service tier."""
        tier_index = -1
        for index, tier in enumerate(self.tiers):  # tiers are sorted by threshold
            if tier.matches(input_tokens, output_tokens):
                tier_index = index
        window_index = next((i for i, w in enumerate(self.off_peak) if w.contains(at)), -1)
        key = (tier_index, window_index, service_tier)
        cached = self._sheets.get(key)
        if cached is None:
            cached = self._sheets[key] = self._resolve(
                self.tiers[tier_index] if tier_index >= 0 else None,
                self.off_peak[window_index] if window_index >= 0 else None,
                service_tier)
        return cached

    def _resolve(self, tier: ContextTier | None, window: OffPeakWindow | None,
                 service_tier: str | None) -> Sheet:
        prices: dict[str, Decimal] = dict(self.prices)
        labels: list[str] = []
        if tier is not None:
            prices.update(tier.prices)
            labels.append(tier.label())
        if service_tier not in (None, "standard", "default"):
            override = self.service_tiers.get(str(service_tier))
            if override is None:
                known = ", ".join(["standard", *self.service_tiers]) or "standard"
                raise NoPriceError(
                    f"{self.model} has no {service_tier!r} service tier price in "
                    f"{self.version_id}; use one of: {known}",
                    model=self.model, field="service_tier")
            prices = override.apply(prices, tiered=tier is not None)
            labels.append(f"{service_tier} ({override.describe()})")
        if window is not None:
            prices = window.override.apply(prices, tiered=tier is not None)
            labels.append(window.label())
        unit_prices = {
            k: (MONEY_CONTEXT.divide(v, Decimal(1_000_000)) if k in TOKEN_CATEGORIES else v)
            for k, v in prices.items()
        }
        return Sheet(unit_prices=unit_prices, per_mtok=prices,
                     tier=", ".join(labels) if labels else None)

    def scaled(self, factor: Decimal, currency: str, note: str) -> PriceVersion:
        """This version with every price multiplied by ``factor`` (explicit FX conversion)."""
        def scale(prices: Mapping[str, Decimal]) -> dict[str, Decimal]:
            return {k: MONEY_CONTEXT.multiply(v, factor) for k, v in prices.items()}

        def scale_override(o: Override) -> Override:
            return o if o.multiplier is not None else Override(prices=scale(o.prices))

        return PriceVersion(
            model=self.model, currency=currency, effective_from=self.effective_from,
            effective_to=self.effective_to, source=self.source, retrieved=self.retrieved,
            prices=scale(self.prices),
            tiers=tuple(ContextTier(t.above_input_tokens, scale(t.prices), t.max_output_tokens)
                        for t in self.tiers),
            service_tiers={k: scale_override(o) for k, o in self.service_tiers.items()},
            off_peak=tuple(OffPeakWindow(w.start, w.end, w.time_zone, scale_override(w.override))
                           for w in self.off_peak),
            note=f"{self.note} {note}".strip(), book=self.book, litellm=self.litellm,
        )


class PriceBook:
    """Price versions by (model, currency), checked for overlaps, looked up by instant."""

    def __init__(self, versions: Iterable[PriceVersion], *, name: str = "ciyuan",
                 version: str = "", source: str = "") -> None:
        self.name = name
        self.version = version
        self.source = source
        grouped: dict[tuple[str, str], list[PriceVersion]] = {}
        for v in versions:
            grouped.setdefault((v.model.lower(), v.currency), []).append(v)
        self._versions: dict[tuple[str, str], tuple[PriceVersion, ...]] = {}
        self._currencies: dict[str, list[str]] = {}
        self._names: dict[str, str] = {}
        for key, group in grouped.items():
            ordered = tuple(sorted(group, key=lambda v: v.effective_from))
            _check_overlaps(ordered)
            self._versions[key] = ordered
            self._currencies.setdefault(key[0], []).append(key[1])
            self._currencies[key[0]].sort(key=lambda c: (c != "USD", c))
            self._names[key[0]] = ordered[0].model

    def __contains__(self, model: object) -> bool:
        return isinstance(model, str) and model.lower() in self._currencies

    def __len__(self) -> int:
        return len(self._currencies)

    def models(self) -> list[str]:
        """Every model with at least one price, as written in the book."""
        return sorted(self._names.values())

    def currencies(self, model: str) -> list[str]:
        """Currencies the model is priced in, USD first."""
        return self._currencies.get(model.lower(), [])

    def versions(self, model: str, currency: str | None = None) -> tuple[PriceVersion, ...]:
        chosen = currency or next(iter(self.currencies(model)), "USD")
        return self._versions.get((model.lower(), chosen), ())

    def _default(self, key: str) -> str:
        found = self._currencies.get(key)
        return found[0] if found else "USD"

    def all_versions(self) -> list[PriceVersion]:
        return [v for group in self._versions.values() for v in group]

    def at(self, model: str, at: dt.datetime, currency: str | None = None) -> PriceVersion:
        """The version in force at ``at`` (UTC-aware), in ``currency`` (default: USD if any)."""
        key = model.lower()
        group = self._versions.get((key, currency or self._default(key)))
        if group:
            for version in reversed(group):
                if version.covers(at):
                    return version
        known = self.currencies(model)
        if not known:
            raise NoPriceError(
                f"no price for model {model!r} in price book {self.name!r}: add one to "
                f"ciyuan.toml under [[prices.\"{model}\"]] (input, output, currency, "
                f"effective_from, source), or run `ciyuan models` for the priced models",
                model=model, field="model")
        chosen = currency or known[0]
        group = self._versions.get((model.lower(), chosen))
        if not group:
            raise NoPriceError(
                f"model {model!r} has no price in {chosen}; it is priced in "
                f"{', '.join(known)}. Pick one with --currency, or convert explicitly with "
                f"--convert (dated FX table)", model=model, field="currency")
        for version in reversed(group):
            if version.covers(at):
                return version
        return _not_in_force(model, chosen, group, at)


def _not_in_force(model: str, currency: str, group: tuple[PriceVersion, ...],
                  at: dt.datetime) -> PriceVersion:
    first = group[0].effective_from
    spans = "; ".join(
        f"{v.effective_from.isoformat()} to "
        f"{v.effective_to.isoformat() if v.effective_to else 'now'}" for v in group)
    if at < first:
        message = (f"no price for {model!r} ({currency}) at {at.isoformat()}: its first price "
                   f"starts {first.isoformat()}. Pass a later --at, or add an earlier version "
                   f"to the price book")
    else:
        message = (f"no price for {model!r} ({currency}) in force at {at.isoformat()}; the "
                   f"book covers {spans}. Add a version covering that time")
    raise PriceNotInForceError(message, model=model, field="at", covered=spans)


def _check_overlaps(ordered: tuple[PriceVersion, ...]) -> None:
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if earlier.effective_to is None or earlier.effective_to > later.effective_from:
            end = earlier.effective_to.isoformat() if earlier.effective_to else "open-ended"
            raise PriceOverlapError(
                f"price book: {earlier.model!r} ({earlier.currency}) has overlapping versions: "
                f"one from {earlier.effective_from.isoformat()} ({end}) and one from "
                f"{later.effective_from.isoformat()}. Set effective_to = "
                f"\"{later.effective_from.date().isoformat()}\" (or earlier) on the first one",
                model=earlier.model, field="effective_to")
