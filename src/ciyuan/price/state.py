"""Period state: what a billing period has consumed so far, as an immutable value.

Rating is a pure function ``(call, plan, state) → (lines, new state)``; the caller (the ledger)
stores the state between calls. Everything a cumulative charge model needs lives here: meter
totals per component, remaining token packs, the amount rated so far, and which period-open
charges (subscription fees) were already emitted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType

from ciyuan.core.money import MONEY_CONTEXT

__all__ = ["PeriodState", "TokenPack"]

_NOTHING_USED: Mapping[str, Decimal] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class TokenPack:
    """Prepaid native tokens of one model (or of any model when ``model`` is None)."""

    id: str
    tokens: int
    expires_at: dt.datetime
    model: str | None = None
    price: Decimal | None = None  # what was paid, for the record; charged when bought

    def usable(self, model: str, at: dt.datetime) -> bool:
        return self.tokens > 0 and at < self.expires_at and (
            self.model is None or self.model.lower() == model.lower())


@dataclass(frozen=True)
class PeriodState:
    """Consumption of one billing period [start, end) so far."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    used: Mapping[str, Decimal] = field(default_factory=lambda: _NOTHING_USED)
    packs: tuple[TokenPack, ...] = ()
    rated_total: Decimal = Decimal(0)
    opened: frozenset[str] = frozenset()

    def used_by(self, component: str) -> Decimal:
        return self.used.get(component, Decimal(0))

    def with_used(self, component: str, quantity: Decimal) -> PeriodState:
        used = dict(self.used)
        used[component] = quantity
        return replace(self, used=MappingProxyType(used))

    def with_packs(self, packs: tuple[TokenPack, ...]) -> PeriodState:
        return replace(self, packs=packs)

    def with_opened(self, component: str) -> PeriodState:
        return replace(self, opened=self.opened | {component})

    def plus_rated(self, amount: Decimal) -> PeriodState:
        return PeriodState(self.start, self.end, self.used, self.packs,
                           MONEY_CONTEXT.add(self.rated_total, amount), self.opened)
