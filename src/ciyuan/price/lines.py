"""The values rating works on: the call, the itemized charge line, the rating result."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from ciyuan.core.money import MONEY_CONTEXT, format_amount
from ciyuan.core.usage import Usage
from ciyuan.price.book import PriceVersion
from ciyuan.price.state import PeriodState

__all__ = ["Call", "ChargeLine", "Rating", "line"]

_NO_SIGNALS: Mapping[str, Decimal] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Call:
    """One call to rate: what was used, of which model, when, at which price version.

    ``signals`` carries facts later charge models price on (a quality score, accepted
    outcomes); list-price rating ignores them.
    """

    usage: Usage
    model: str
    at: dt.datetime
    version: PriceVersion
    service_tier: str | None = None
    signals: Mapping[str, Decimal] = field(default_factory=lambda: _NO_SIGNALS)


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """One itemized charge: ``amount == quantity × unit_price``, exact, and why."""

    category: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal
    rule: str
    component: str = "list"
    tier: str | None = None

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "category": self.category,
            "quantity": format_amount(self.quantity),
            "unit": self.unit,
            "unit_price": format_amount(self.unit_price),
            "amount": format_amount(self.amount),
            "rule": self.rule,
            "component": self.component,
            "tier": self.tier,
        }
        if self.unit == "token":
            data["unit_price_per_mtok"] = format_amount(
                MONEY_CONTEXT.multiply(self.unit_price, Decimal(1_000_000)))
        return data


def line(category: str, quantity: int | Decimal, unit: str, unit_price: Decimal, rule: str,
         component: str = "list", tier: str | None = None) -> ChargeLine:
    """A charge line whose amount is computed here, exactly (the only place amounts arise)."""
    q = Decimal(quantity)
    return ChargeLine(category, q, unit, unit_price, MONEY_CONTEXT.multiply(q, unit_price),
                      rule, component, tier)


@dataclass(frozen=True)
class Rating:
    """Itemized charges of one call, unrounded, and the period state after it."""

    model: str
    currency: str
    price_book_version: str
    at: dt.datetime
    lines: tuple[ChargeLine, ...]
    total: Decimal
    plan: str = "list"
    source: str = ""
    period_state: PeriodState | None = field(default=None, compare=False, repr=False)

    @property
    def state(self) -> PeriodState:
        """The period state after this call (feed it to the next call of the period)."""
        if self.period_state is not None:
            return self.period_state
        return PeriodState(rated_total=self.total)

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "currency": self.currency,
            "price_book_version": self.price_book_version,
            "at": self.at.isoformat(),
            "plan": self.plan,
            "source": self.source,
            "lines": [line.to_dict() for line in self.lines],
            "total": format_amount(self.total),
        }
