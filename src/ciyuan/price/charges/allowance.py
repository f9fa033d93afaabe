"""Allowances: two-part tariff (fee + included units + overage), free quota, minimum commitment.

An allowance covers units of a meter until it is used up in the period. With a priced overage
(``overage_unit_price``) the model prices the meter itself: covered units at 0, the rest at the
overage price. Without one (``overage = "list"``) it covers the token lines earlier charge
models produced (the list price), in line order (input, cached input, cache writes, output),
and leaves the rest at their list price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from ciyuan.core.money import MONEY_CONTEXT, format_amount
from ciyuan.price.charges.base import (
    CHARGE_MODELS,
    METERS,
    ChargeModelBase,
    Config,
    Step,
    meter_unit,
)
from ciyuan.price.errors import PlanError
from ciyuan.price.lines import Call, ChargeLine, line
from ciyuan.price.state import PeriodState

__all__ = ["FreeQuota", "MinimumCommitment", "TwoPartTariff", "cover_tokens"]


def cover_tokens(lines: tuple[ChargeLine, ...], available: Decimal, component: str,
                 reason: str, categories: tuple[str, ...] | None = None,
                 ) -> tuple[tuple[ChargeLine, ...], Decimal]:
    """Split token lines so that up to ``available`` tokens are charged 0, in line order.

    Returns the new lines and the number of tokens covered.
    """
    out: list[ChargeLine] = []
    used = Decimal(0)
    for old in lines:
        left = available - used
        eligible = old.unit == "token" and old.amount > 0 and (
            categories is None or old.category in categories)
        if left <= 0 or not eligible:
            out.append(old)
            continue
        take = min(left, old.quantity)
        used += take
        value = MONEY_CONTEXT.multiply(take, old.unit_price)
        out.append(line(old.category, take, "token", Decimal(0),
                        f"{take:,} {old.category} tokens covered by {reason} "
                        f"(list value {format_amount(value)})", component=component,
                        tier=old.tier))
        if take < old.quantity:
            out.append(line(old.category, old.quantity - take, "token", old.unit_price,
                            old.rule, old.component, old.tier))
    return tuple(out), used


@dataclass(frozen=True)
class TwoPartTariff(ChargeModelBase):
    """A fixed fee per period, an included allowance of a meter, and overage."""

    kind: ClassVar[str] = "two_part"
    name: str
    fee: Decimal
    included: Decimal
    meter: str = "tokens"
    overage_unit_price: Decimal | None = None  # per meter unit; None = list price
    per: Decimal = Decimal(1_000_000)

    def open(self, state: PeriodState, currency: str) -> Step:
        if self.name in state.opened or self.fee == 0:
            return Step((), state.with_opened(self.name))
        fee = line("subscription", 1, "period", self.fee,
                   f"subscription fee per period, includes {self.included:,} {self.meter}",
                   component=self.name)
        return Step((fee,), state.with_opened(self.name))

    def rate(self, call: Call, lines: tuple[ChargeLine, ...], state: PeriodState) -> Step:
        quantity = Decimal(METERS[self.meter](call.usage))
        before = state.used_by(self.name)
        remaining = max(Decimal(0), self.included - before)
        covered = min(quantity, remaining)
        state = state.with_used(self.name, before + quantity)
        left_after = remaining - covered
        reason = f"{self.name} allowance ({left_after:,} of {self.included:,} left)"
        if self.overage_unit_price is None:
            new_lines, _ = cover_tokens(lines, covered, self.name, reason)
            return Step(new_lines, state)
        out = list(lines)
        unit = meter_unit(self.meter)
        if covered > 0:
            out.append(line("included", covered, unit, Decimal(0),
                            f"{covered:,} {self.meter} within the {reason}",
                            component=self.name))
        if quantity > covered:
            shown = format_amount(MONEY_CONTEXT.multiply(self.overage_unit_price, self.per))
            out.append(line("overage", quantity - covered, unit, self.overage_unit_price,
                            f"{quantity - covered:,} {self.meter} over the allowance × "
                            f"{shown} {call.version.currency} per {self.per:,}",
                            component=self.name))
        return Step(tuple(out), state)

    @classmethod
    def from_config(cls, name: str, config: Config) -> TwoPartTariff:
        config.check_keys(("fee", "included", "meter", "overage", "overage_unit_price", "per"))
        meter = config.meter()
        per = Decimal(config.count("per", 1_000_000 if meter.endswith("tokens") else 1))
        overage = config.optional_price("overage_unit_price")
        if overage is None and config.text("overage", "list") != "list":
            raise PlanError(f"{config.where}.overage: write overage = \"list\" or give "
                            f"overage_unit_price", field="overage")
        if overage is None and meter != "tokens":
            raise PlanError(f"{config.where}: list-price overage needs meter = \"tokens\"; "
                            f"give overage_unit_price for meter {meter!r}", field="meter")
        return cls(name=name, fee=config.price("fee", Decimal(0)),
                   included=Decimal(config.count("included")), meter=meter,
                   overage_unit_price=(MONEY_CONTEXT.divide(overage, per)
                                       if overage is not None else None), per=per)


@dataclass(frozen=True)
class FreeQuota(TwoPartTariff):
    """Free units per period (a vendor's free tier, a trial grant): a two-part tariff, no fee."""

    kind: ClassVar[str] = "free_quota"

    @classmethod
    def from_config(cls, name: str, config: Config) -> FreeQuota:
        config.check_keys(("included", "meter", "overage", "overage_unit_price", "per"))
        base = TwoPartTariff.from_config(name, config)
        return cls(name=name, fee=Decimal(0), included=base.included, meter=base.meter,
                   overage_unit_price=base.overage_unit_price, per=base.per)


@dataclass(frozen=True)
class MinimumCommitment(ChargeModelBase):
    """At period close, bill the shortfall if the period's rated total is below a minimum."""

    kind: ClassVar[str] = "minimum_commitment"
    name: str
    minimum: Decimal

    def close(self, state: PeriodState, currency: str) -> Step:
        shortfall = self.minimum - state.rated_total
        if shortfall <= 0:
            return Step((), state)
        true_up = line("minimum_commitment", 1, "period", shortfall,
                       f"minimum commitment {format_amount(self.minimum)} {currency}; period "
                       f"rated {format_amount(state.rated_total)}, shortfall billed",
                       component=self.name)
        return Step((true_up,), state)

    @classmethod
    def from_config(cls, name: str, config: Config) -> MinimumCommitment:
        config.check_keys(("minimum",))
        return cls(name=name, minimum=config.price("minimum"))


for _model in (TwoPartTariff, FreeQuota, MinimumCommitment):
    CHARGE_MODELS.register(_model.kind, _model.from_config)
