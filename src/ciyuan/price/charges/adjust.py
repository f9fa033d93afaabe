"""Markup, discount and reseller fee: a percent of the lines so far and/or a fixed amount.

The percent line's quantity is the base amount it applies to and its unit price the rate
(``0.2`` for 20 %), so ``amount = quantity × unit_price`` holds for it like for every line.
A discount is written as a positive percent and charged negative. ``applies_to`` limits the
base to lines of some categories or components (default: every line so far).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from ciyuan.core.money import MONEY_CONTEXT, exact_sum, format_amount
from ciyuan.price.charges.base import CHARGE_MODELS, ChargeModelBase, Config, Step
from ciyuan.price.lines import Call, ChargeLine, line
from ciyuan.price.state import PeriodState

__all__ = ["Adjustment", "Discount", "Markup", "ResellerFee"]

_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Adjustment(ChargeModelBase):
    kind: ClassVar[str] = "adjustment"
    sign: ClassVar[int] = 1
    name: str
    percent: Decimal = Decimal(0)
    fixed_per_call: Decimal = Decimal(0)
    applies_to: tuple[str, ...] | None = None

    def base(self, lines: tuple[ChargeLine, ...]) -> Decimal:
        chosen = self.applies_to
        return exact_sum(ln.amount for ln in lines
                         if chosen is None or ln.category in chosen or ln.component in chosen)

    def rate(self, call: Call, lines: tuple[ChargeLine, ...], state: PeriodState) -> Step:
        out = list(lines)
        currency = call.version.currency
        if self.percent:
            base = self.base(lines)
            rate = MONEY_CONTEXT.divide(self.percent, _HUNDRED) * self.sign
            out.append(line(self.kind, base, currency, rate,
                            f"{self.kind.replace('_', ' ')} {format_amount(self.percent)}% of "
                            f"{format_amount(base)} {currency}", component=self.name))
        if self.fixed_per_call:
            out.append(line(f"{self.kind}_fixed", 1, "call", self.fixed_per_call * self.sign,
                            f"{self.kind.replace('_', ' ')} fixed "
                            f"{format_amount(self.fixed_per_call)} {currency} per call",
                            component=self.name))
        return Step(tuple(out), state)

    @classmethod
    def build(cls, name: str, config: Config) -> Adjustment:
        config.check_keys(("percent", "fixed_per_call", "applies_to"))
        percent = config.price("percent", Decimal(0))
        fixed = config.price("fixed_per_call", Decimal(0))
        if not percent and not fixed:
            config.price("percent")  # raises: one of them is required
        return cls(name=name, percent=percent, fixed_per_call=fixed,
                   applies_to=config.names("applies_to"))


@dataclass(frozen=True)
class Markup(Adjustment):
    kind: ClassVar[str] = "markup"


@dataclass(frozen=True)
class Discount(Adjustment):
    kind: ClassVar[str] = "discount"
    sign: ClassVar[int] = -1


@dataclass(frozen=True)
class ResellerFee(Adjustment):
    kind: ClassVar[str] = "reseller_fee"


for _model in (Markup, Discount, ResellerFee):
    CHARGE_MODELS.register(_model.kind, _model.build)
