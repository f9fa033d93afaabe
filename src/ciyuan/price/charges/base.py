"""The charge-model Protocol, its registry, meters and the config readers charge models share.

A charge model turns a call (and the lines earlier models produced) into charge lines, and
may advance the period state. Three hooks, all pure:

* ``open(state, currency)``: charges due when a period opens (a subscription fee);
* ``rate(call, lines, state)``: the lines after this model has seen the call; it may add
  lines (overage, markup), split them (an allowance or a token pack covering tokens) or pass
  them through unchanged;
* ``close(state, currency)``: charges due when the period closes (a minimum-commitment
  true-up, expired pack tokens).

A plan is an ordered list of charge models. Pay-for-quality and pay-for-outcome models (a later
issue) read ``call.signals`` in ``rate`` and scale or add lines; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, NamedTuple, Protocol, runtime_checkable

from ciyuan.core.usage import Usage
from ciyuan.price.errors import PlanError, PriceBookError, PriceFloatError
from ciyuan.price.lines import Call, ChargeLine
from ciyuan.price.parse import price_value
from ciyuan.price.state import PeriodState

__all__ = [
    "CHARGE_MODELS",
    "METERS",
    "ChargeModel",
    "ChargeModelBase",
    "ChargeModelRegistry",
    "Config",
    "Step",
    "meter_unit",
]


class Step(NamedTuple):
    """What a hook returns: the lines and the period state after it."""

    lines: tuple[ChargeLine, ...]
    state: PeriodState


@runtime_checkable
class ChargeModel(Protocol):
    """How usage becomes money. Implementations are frozen dataclasses."""

    kind: ClassVar[str]

    @property
    def name(self) -> str:
        """Unique within a plan; the key of this model's entries in the period state."""
        ...

    def open(self, state: PeriodState, currency: str) -> Step: ...

    def rate(self, call: Call, lines: tuple[ChargeLine, ...], state: PeriodState) -> Step: ...

    def close(self, state: PeriodState, currency: str) -> Step: ...


class ChargeModelBase:
    """Default hooks: nothing at open and close, lines passed through at rate."""

    kind: ClassVar[str] = "base"
    name: str

    def open(self, state: PeriodState, currency: str) -> Step:
        return Step((), state)

    def rate(self, call: Call, lines: tuple[ChargeLine, ...], state: PeriodState) -> Step:
        return Step(lines, state)

    def close(self, state: PeriodState, currency: str) -> Step:
        return Step((), state)


#: What a charge model can measure in a call.
METERS: dict[str, Callable[[Usage], int]] = {
    "tokens": lambda u: u.input_tokens + u.output_tokens,
    "input_tokens": lambda u: u.input_tokens,
    "uncached_input_tokens": lambda u: u.uncached_input_tokens,
    "cached_input_tokens": lambda u: u.cached_input_tokens,
    "output_tokens": lambda u: u.output_tokens,
    "reasoning_tokens": lambda u: u.reasoning_tokens,
    "requests": lambda u: u.requests,
    "images": lambda u: u.images,
    "audio_seconds": lambda u: u.audio_seconds,
}


def meter_unit(meter: str) -> str:
    return "token" if meter.endswith("tokens") else meter.rstrip("s")


class Config:
    """Typed reads from one charge model's TOML table, with errors naming the key."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.raw = raw
        self.where = where

    def _fail(self, key: str, message: str) -> PlanError:
        return PlanError(f"{self.where}.{key}: {message}", field=f"{self.where}.{key}")

    def price(self, key: str, default: Decimal | None = None) -> Decimal:
        if key not in self.raw:
            if default is None:
                raise self._fail(key, "missing; write it as a quoted decimal, e.g. \"2.00\"")
            return default
        try:
            return price_value(self.raw[key], f"{self.where}.{key}")
        except PriceFloatError:
            raise
        except PriceBookError as exc:
            raise PlanError(exc.message, field=f"{self.where}.{key}") from None

    def optional_price(self, key: str) -> Decimal | None:
        return self.price(key) if key in self.raw else None

    def count(self, key: str, default: int | None = None) -> int:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self._fail(key, f"expected a non-negative integer, got {value!r}")
        return value

    def text(self, key: str, default: str | None = None) -> str:
        value = self.raw.get(key, default)
        if not isinstance(value, str):
            raise self._fail(key, f"expected a string, got {value!r}")
        return value

    def meter(self, default: str = "tokens") -> str:
        meter = self.text("meter", default)
        if meter not in METERS:
            raise self._fail("meter", f"unknown meter {meter!r}; use one of {', '.join(METERS)}")
        return meter

    def names(self, key: str) -> tuple[str, ...] | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, "expected a list of strings")
        return tuple(v.lower() for v in value)

    def check_keys(self, allowed: Iterable[str]) -> None:
        extra = set(self.raw) - set(allowed) - {"kind", "name"}
        if extra:
            raise self._fail(sorted(extra)[0], f"unknown key; allowed: {', '.join(allowed)}")


Factory = Callable[[str, Config], ChargeModel]


class ChargeModelRegistry:
    """Charge-model kinds by name; built-ins register exactly like third-party ones."""

    def __init__(self) -> None:
        self._factories: dict[str, Factory] = {}

    def register(self, kind: str, factory: Factory) -> None:
        if kind in self._factories:
            raise PlanError(f"charge model kind {kind!r} is already registered", field="kind")
        self._factories[kind] = factory

    def kinds(self) -> list[str]:
        return sorted(self._factories)

    def build(self, name: str, raw: Mapping[str, Any], where: str) -> ChargeModel:
        kind = raw.get("kind")
        factory = self._factories.get(str(kind))
        if factory is None:
            raise PlanError(f"{where}.kind {kind!r} is not a charge model; use one of "
                            f"{', '.join(self.kinds())}", field=f"{where}.kind")
        return factory(name, Config(raw, where))


#: The registry the shipped charge models register in (``ciyuan.price.charges``).
CHARGE_MODELS = ChargeModelRegistry()
