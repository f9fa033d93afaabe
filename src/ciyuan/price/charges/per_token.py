"""Per-token by category: the vendor's list price (the default plan's only charge model)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ciyuan.price.charges.base import CHARGE_MODELS, ChargeModelBase, Config, Step
from ciyuan.price.lines import Call, ChargeLine
from ciyuan.price.list_price import list_lines
from ciyuan.price.state import PeriodState

__all__ = ["PerToken"]


@dataclass(frozen=True)
class PerToken(ChargeModelBase):
    """Adds the list-price lines of the call's price version (``list_price``)."""

    kind: ClassVar[str] = "per_token"
    name: str = "list"

    def rate(self, call: Call, lines: tuple[ChargeLine, ...], state: PeriodState) -> Step:
        return Step((*lines, *list_lines(call)), state)

    @classmethod
    def from_config(cls, name: str, config: Config) -> PerToken:
        config.check_keys(())
        return cls(name=name)


CHARGE_MODELS.register(PerToken.kind, PerToken.from_config)
