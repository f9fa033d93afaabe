"""Tiered charge models over a period meter: graduated, volume and package.

All three are cumulative over the billing period: the state keeps the meter total, and each
call is charged ``price(total after) − price(total before)``, so rating calls one by one gives
exactly what rating the period's sum at once would (the split-run property).

* graduated: each unit is priced by the tier it falls in (income-tax style);
* volume: every unit of the period is priced at the tier the total reached; crossing a
  threshold re-prices the earlier units, shown as its own line;
* package: a price per started block of N units (rounded up).
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

__all__ = ["Graduated", "Package", "Tier", "Volume"]


@dataclass(frozen=True, slots=True)
class Tier:
    up_to: Decimal | None  # inclusive upper bound of the tier; None = no bound
    unit_price: Decimal  # per meter unit


def _per(config: Config, meter: str) -> Decimal:
    return Decimal(config.count("per", 1_000_000 if meter.endswith("tokens") else 1))


def _tiers(config: Config, meter: str) -> tuple[Tier, ...]:
    raw = config.raw.get("tiers")
    if not isinstance(raw, list) or not raw:
        raise PlanError(f"{config.where}.tiers: expected [{{up_to = 1000000, unit_price = "
                        f"\"2.00\"}}, {{unit_price = \"1.50\"}}]", field=f"{config.where}.tiers")
    per = _per(config, meter)
    tiers, previous = [], Decimal(-1)
    for i, item in enumerate(raw):
        sub = Config(item, f"{config.where}.tiers[{i}]")
        up_to = Decimal(sub.count("up_to")) if "up_to" in item else None
        last = i == len(raw) - 1
        if (up_to is None) != last or (up_to is not None and up_to <= previous):
            raise PlanError(f"{sub.where}: tiers need increasing up_to values and the last "
                            f"tier none", field=f"{sub.where}.up_to")
        tiers.append(Tier(up_to, MONEY_CONTEXT.divide(sub.price("unit_price"), per)))
        previous = up_to if up_to is not None else previous
    return tuple(tiers)


def _describe(meter: str, per: Decimal, unit_price: Decimal, currency: str) -> str:
    shown = MONEY_CONTEXT.multiply(unit_price, per)
    return f"{format_amount(shown)} {currency} per {format_amount(per)} {meter}"


@dataclass(frozen=True)
class _Metered(ChargeModelBase):
    name: str
    meter: str
    per: Decimal
    models: tuple[str, ...] | None

    def applies(self, call: Call) -> bool:
        return self.models is None or call.model.lower() in self.models

    def advance(self, call: Call, state: PeriodState) -> tuple[Decimal, Decimal, PeriodState]:
        before = state.used_by(self.name)
        after = before + METERS[self.meter](call.usage)
        return before, after, state.with_used(self.name, after)


@dataclass(frozen=True)
class Graduated(_Metered):
    kind: ClassVar[str] = "graduated"
    tiers: tuple[Tier, ...] = ()

    def rate(self, call: Call, lines: tuple[ChargeLine, ...], state: PeriodState) -> Step:
        if not self.applies(call):
            return Step(lines, state)
        before, after, state = self.advance(call, state)
        new, lower = [], Decimal(0)
        currency = call.version.currency
        for number, tier in enumerate(self.tiers, 1):
            upper = tier.up_to if tier.up_to is not None else after
            part = min(after, upper) - max(before, lower)
            if part > 0:
                bound = f"up to {tier.up_to:,}" if tier.up_to is not None else "above"
                new.append(line(
                    self.meter, part, meter_unit(self.meter), tier.unit_price,
                    f"graduated tier {number} ({bound} {self.meter} in the period): "
                    f"{_describe(self.meter, self.per, tier.unit_price, currency)}",
                    component=self.name, tier=f"tier {number}"))
            lower = upper
        return Step((*lines, *new), state)

    @classmethod
    def from_config(cls, name: str, config: Config) -> Graduated:
        config.check_keys(("meter", "per", "tiers", "models"))
        meter = config.meter()
        return cls(name=name, meter=meter, per=_per(config, meter),
                   models=config.names("models"), tiers=_tiers(config, meter))


@dataclass(frozen=True)
class Volume(_Metered):
    kind: ClassVar[str] = "volume"
    tiers: tuple[Tier, ...] = ()

    def tier_of(self, total: Decimal) -> tuple[int, Tier]:
        for number, tier in enumerate(self.tiers, 1):
            if tier.up_to is None or total <= tier.up_to:
                return number, tier
        raise AssertionError("the last tier is unbounded")

    def rate(self, call: Call, lines: tuple[ChargeLine, ...], state: PeriodState) -> Step:
        if not self.applies(call):
            return Step(lines, state)
        before, after, state = self.advance(call, state)
        currency = call.version.currency
        n_before, old = self.tier_of(before)
        n_after, new = self.tier_of(after)
        out = []
        if before > 0 and new.unit_price != old.unit_price:
            out.append(line(
                self.meter, before, meter_unit(self.meter), new.unit_price - old.unit_price,
                f"volume: period total {after:,} reached tier {n_after}; the {before:,} "
                f"{self.meter} already rated at tier {n_before} are re-priced",
                component=self.name, tier=f"tier {n_after}"))
        out.append(line(
            self.meter, after - before, meter_unit(self.meter), new.unit_price,
            f"volume tier {n_after} (period total {after:,} {self.meter}): "
            f"{_describe(self.meter, self.per, new.unit_price, currency)}",
            component=self.name, tier=f"tier {n_after}"))
        return Step((*lines, *out), state)

    @classmethod
    def from_config(cls, name: str, config: Config) -> Volume:
        config.check_keys(("meter", "per", "tiers", "models"))
        meter = config.meter()
        return cls(name=name, meter=meter, per=_per(config, meter),
                   models=config.names("models"), tiers=_tiers(config, meter))


@dataclass(frozen=True)
class Package(_Metered):
    kind: ClassVar[str] = "package"
    size: Decimal = Decimal(1)
    package_price: Decimal = Decimal(0)

    def packages(self, total: Decimal) -> Decimal:
        # ceiling division on non-negative integers (Decimal // truncates toward zero)
        return (total + self.size - 1) // self.size

    def rate(self, call: Call, lines: tuple[ChargeLine, ...], state: PeriodState) -> Step:
        if not self.applies(call):
            return Step(lines, state)
        before, after, state = self.advance(call, state)
        started = self.packages(after) - self.packages(before)
        if started <= 0:
            return Step(lines, state)
        new = line("package", started, "package", self.package_price,
                   f"package of {self.size:,} {self.meter} at "
                   f"{format_amount(self.package_price)} {call.version.currency}, rounded up: "
                   f"period total {after:,} → {self.packages(after):,} packages",
                   component=self.name)
        return Step((*lines, new), state)

    @classmethod
    def from_config(cls, name: str, config: Config) -> Package:
        config.check_keys(("meter", "size", "price", "models"))
        size = config.count("size")
        if size < 1:
            raise PlanError(f"{config.where}.size must be at least 1", field="size")
        return cls(name=name, meter=config.meter(), per=Decimal(1),
                   models=config.names("models"), size=Decimal(size),
                   package_price=config.price("price"))


for _model in (Graduated, Volume, Package):
    CHARGE_MODELS.register(_model.kind, _model.from_config)
