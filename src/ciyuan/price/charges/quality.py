"""Pay-for-quality: a price scaled by the call's quality score, within a floor and a cap.

The multiplier comes from the ``quality_score`` signal (a ``Decimal`` in [0, 1], see
``ciyuan.price.signals``), in one of two ways:

* linear (the default): ``intercept + slope × score``, where ``intercept`` defaults to
  ``floor`` and ``slope`` to ``cap − floor`` (so a score of 0 pays the floor, 1 the cap);
* tiers: score thresholds, ``tiers = [{ min_score = "0.8", multiplier = "1.1" }, ...]``; a
  score pays the multiplier of the highest threshold it reaches, and the floor below the
  lowest one.

Either way the multiplier is clamped to ``[floor, cap]``. A call without a score pays the
``missing`` multiplier (default 1: unscored calls pay the plain price).

What is scaled: by default the amounts of the lines earlier charge models produced for the
call (all of them, or those of the categories or components in ``applies_to``), shown as one
``quality`` line of ``base × (multiplier − 1)`` so the list lines stay as they were. With a
``unit_price`` (per ``per`` units of ``meter``) the model prices the meter itself at
``unit_price × multiplier``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from ciyuan.core.money import (
    MONEY_CONTEXT,
    InvalidAmountError,
    decimal,
    exact_sum,
    format_amount,
)
from ciyuan.price.charges.base import (
    CHARGE_MODELS,
    METERS,
    ChargeModelBase,
    Config,
    Step,
    meter_unit,
)
from ciyuan.price.errors import PlanError, PriceFloatError
from ciyuan.price.lines import Call, ChargeLine, line
from ciyuan.price.signals import quality_score
from ciyuan.price.state import PeriodState

__all__ = ["PayForQuality", "QualityTier", "clamp"]

_ONE = Decimal(1)
#: More quality tiers than this is a lookup table, not a price list a customer can read.
MAX_QUALITY_TIERS = 20


def clamp(value: Decimal, floor: Decimal, cap: Decimal) -> Decimal:
    """``value`` held within ``[floor, cap]``."""
    assert floor <= cap
    return min(max(value, floor), cap)


@dataclass(frozen=True, slots=True)
class QualityTier:
    min_score: Decimal  # inclusive lower bound of the tier's scores
    multiplier: Decimal


@dataclass(frozen=True)
class PayForQuality(ChargeModelBase):
    kind: ClassVar[str] = "pay_for_quality"
    name: str
    floor: Decimal
    cap: Decimal
    missing: Decimal = _ONE
    intercept: Decimal | None = None  # linear: None = floor
    slope: Decimal | None = None  # linear: None = cap − floor
    tiers: tuple[QualityTier, ...] = ()  # non-empty: tiers instead of linear
    applies_to: tuple[str, ...] | None = None
    models: tuple[str, ...] | None = None
    unit_price: Decimal | None = None  # per meter unit; None = scale the lines so far
    meter: str = "tokens"
    per: Decimal = Decimal(1_000_000)

    def multiplier(self, score: Decimal | None) -> tuple[Decimal, str, str | None]:
        """The multiplier for ``score``, how it was found, and the tier label (if tiers)."""
        bounds = f"within [{format_amount(self.floor)}, {format_amount(self.cap)}]"
        if score is None:
            return self.missing, f"no quality score: multiplier {format_amount(self.missing)} " \
                                 f"(missing)", None
        if self.tiers:
            reached = [(n, t) for n, t in enumerate(self.tiers, 1) if score >= t.min_score]
            if not reached:
                return self.floor, (f"quality score {score} below the lowest tier "
                                    f"({self.tiers[0].min_score}): the floor "
                                    f"{format_amount(self.floor)}"), "quality tier 0"
            number, tier = reached[-1]
            value = clamp(tier.multiplier, self.floor, self.cap)
            return value, (f"quality score {score} ≥ {tier.min_score}: tier {number} multiplier "
                           f"{format_amount(value)} {bounds}"), f"quality tier {number}"
        intercept = self.floor if self.intercept is None else self.intercept
        slope = MONEY_CONTEXT.subtract(self.cap, self.floor) if self.slope is None else self.slope
        raw = MONEY_CONTEXT.add(intercept, MONEY_CONTEXT.multiply(slope, score))
        value = clamp(raw, self.floor, self.cap)
        clamped = "" if value == raw else f", clamped from {format_amount(raw)}"
        return value, (f"quality score {score}: multiplier {format_amount(intercept)} + "
                       f"{format_amount(slope)} × {score} = {format_amount(value)} {bounds}"
                       f"{clamped}"), None

    def rate(self, call: Call, lines: tuple[ChargeLine, ...], state: PeriodState) -> Step:
        if self.models is not None and call.model.lower() not in self.models:
            return Step(lines, state)
        value, how, tier = self.multiplier(quality_score(call.signals))
        currency = call.version.currency
        if self.unit_price is not None:
            quantity = METERS[self.meter](call.usage)
            price = MONEY_CONTEXT.multiply(self.unit_price, value)
            shown = format_amount(MONEY_CONTEXT.multiply(self.unit_price, self.per))
            return Step((*lines, line(
                self.meter, quantity, meter_unit(self.meter), price,
                f"pay-for-quality: {shown} {currency} per {self.per:,} {self.meter} × {how}",
                component=self.name, tier=tier)), state)
        chosen = self.applies_to
        base = exact_sum(ln.amount for ln in lines
                         if chosen is None or ln.category in chosen or ln.component in chosen)
        return Step((*lines, line(
            "quality", base, currency, MONEY_CONTEXT.subtract(value, _ONE),
            f"pay-for-quality: {format_amount(base)} {currency} × ({how}) − 1",
            component=self.name, tier=tier)), state)

    @classmethod
    def from_config(cls, name: str, config: Config) -> PayForQuality:
        config.check_keys(("floor", "cap", "missing", "intercept", "slope", "tiers",
                           "applies_to", "models", "unit_price", "meter", "per"))
        floor, cap = config.price("floor"), config.price("cap")
        if floor > cap:
            raise PlanError(f"{config.where}: floor {floor} is above cap {cap}; the multiplier "
                            f"must be able to lie between them", field=f"{config.where}.floor")
        missing = config.price("missing", _ONE)
        if not floor <= missing <= cap:
            raise PlanError(f"{config.where}.missing = {missing} is outside [floor, cap] = "
                            f"[{floor}, {cap}]; set missing to the multiplier of unscored calls",
                            field=f"{config.where}.missing")
        tiers = _tiers(config, floor, cap)
        if tiers and ("intercept" in config.raw or "slope" in config.raw):
            raise PlanError(f"{config.where}: give tiers or intercept/slope, not both",
                            field=f"{config.where}.tiers")
        meter = config.meter()
        per = Decimal(config.count("per", 1_000_000 if meter.endswith("tokens") else 1))
        if per < 1:
            raise PlanError(f"{config.where}.per must be at least 1", field=f"{config.where}.per")
        unit_price = config.optional_price("unit_price")
        return cls(name=name, floor=floor, cap=cap, missing=missing,
                   intercept=_signed(config, "intercept"), slope=_signed(config, "slope"),
                   tiers=tiers, applies_to=config.names("applies_to"),
                   models=config.names("models"),
                   unit_price=(MONEY_CONTEXT.divide(unit_price, per)
                               if unit_price is not None else None), meter=meter, per=per)


def _signed(config: Config, key: str) -> Decimal | None:
    """An optional decimal that may be negative (a formula coefficient), quoted like prices."""
    if key not in config.raw:
        return None
    value, where = config.raw[key], f"{config.where}.{key}"
    if isinstance(value, float | Decimal):  # Decimal: ciyuan.toml is read with parse_float
        raise PriceFloatError(f"{where} = {value} is a TOML float; write it as a string so no "
                              f"digit is lost: {key} = \"{value}\"", field=where)
    try:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidAmountError("not a decimal")
        return decimal(value, field=where)
    except InvalidAmountError:
        raise PlanError(f"{where}: expected a quoted decimal such as \"-0.5\", got {value!r}",
                        field=where) from None


def _tiers(config: Config, floor: Decimal, cap: Decimal) -> tuple[QualityTier, ...]:
    raw = config.raw.get("tiers")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_QUALITY_TIERS:
        raise PlanError(f"{config.where}.tiers: expected 1 to {MAX_QUALITY_TIERS} tables "
                        f"[{{min_score = \"0.5\", multiplier = \"0.8\"}}, {{min_score = \"0.9\", "
                        f"multiplier = \"1.1\"}}]", field=f"{config.where}.tiers")
    tiers: list[QualityTier] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise PlanError(f"{config.where}.tiers[{i}] must be a table",
                            field=f"{config.where}.tiers")
        sub = Config(item, f"{config.where}.tiers[{i}]")
        sub.check_keys(("min_score", "multiplier"))
        score, value = sub.price("min_score"), sub.price("multiplier")
        if score > 1 or (tiers and score <= tiers[-1].min_score):
            raise PlanError(f"{sub.where}.min_score: scores are in [0, 1] and tiers need "
                            f"increasing min_score values", field=f"{sub.where}.min_score")
        if not floor <= value <= cap:
            raise PlanError(f"{sub.where}.multiplier = {value} is outside [floor, cap] = "
                            f"[{floor}, {cap}]", field=f"{sub.where}.multiplier")
        tiers.append(QualityTier(score, value))
    return tuple(tiers)


CHARGE_MODELS.register(PayForQuality.kind, PayForQuality.from_config)
