"""Prepaid token packs: native tokens of a model, consumed before anything is billed.

Packs live in the period state (``PeriodState.packs``): bought separately (their price is
charged when bought, not here), consumed first, earliest expiry first (FIFO by expiry, then by
id), never after they expire. At period close, tokens left in packs that expired by the end of
the period are reported as a zero-amount ``expired`` line (breakage) and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import ClassVar

from ciyuan.price.charges.allowance import cover_tokens
from ciyuan.price.charges.base import CHARGE_MODELS, ChargeModelBase, Config, Step
from ciyuan.price.lines import Call, ChargeLine, line
from ciyuan.price.state import PeriodState, TokenPack

__all__ = ["TokenPacks"]


@dataclass(frozen=True)
class TokenPacks(ChargeModelBase):
    """Cover the call's token lines from the usable packs in the period state."""

    kind: ClassVar[str] = "token_packs"
    name: str = "packs"

    def rate(self, call: Call, lines: tuple[ChargeLine, ...], state: PeriodState) -> Step:
        usable = sorted((p for p in state.packs if p.usable(call.model, call.at)),
                        key=lambda p: (p.expires_at, p.id))
        if not usable:
            return Step(lines, state)
        remaining: dict[str, int] = {}
        for pack in usable:
            reason = (f"token pack {pack.id!r} (expires {pack.expires_at.isoformat()}, "
                      f"{pack.tokens:,} tokens before this call)")
            lines, used = cover_tokens(lines, Decimal(pack.tokens), self.name, reason)
            remaining[pack.id] = pack.tokens - int(used)
            if used < pack.tokens:
                break
        packs = tuple(replace(p, tokens=remaining[p.id]) if p.id in remaining else p
                      for p in state.packs)
        return Step(lines, state.with_packs(packs))

    def close(self, state: PeriodState, currency: str) -> Step:
        if state.end is None:
            return Step((), state)
        end = state.end
        expired = [p for p in state.packs if p.expires_at <= end and p.tokens > 0]
        out = tuple(
            line("expired", p.tokens, "token", Decimal(0),
                 f"token pack {p.id!r} expired {p.expires_at.isoformat()} with {p.tokens:,} "
                 f"unused tokens (breakage; no refund)", component=self.name)
            for p in expired)
        kept: tuple[TokenPack, ...] = tuple(p for p in state.packs if p.expires_at > end)
        return Step(out, state.with_packs(kept))

    @classmethod
    def from_config(cls, name: str, config: Config) -> TokenPacks:
        config.check_keys(())
        return cls(name=name)


CHARGE_MODELS.register(TokenPacks.kind, TokenPacks.from_config)
