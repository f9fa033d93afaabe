"""Token packs in the ledger: native tokens of one model as their own unit (pure planning).

A pack is the account ``pack:<tenant>:<n>`` in the unit ``TOKEN:<model>`` (must not go
negative), bought by ``pack:<tenant>:<n>:buy`` from ``funding:tokens:<model>`` (its metadata
holds the model and the expiry; pack numbers are consecutive per tenant). Packs are consumed
before anything is charged in money, the earliest expiry first (then the oldest), into
``pack-used:<model>``; a pack past its expiry is never consumed, and its remainder moves to
``pack-expired:<model>`` by a transfer (breakage; the journal stays append-only).

Which tokens a pack covers, in order (the order rating's ``token_packs`` uses): uncached
input (text, then audio, image, video), cached input, cache writes (five-minute, then
one-hour), output (text, then reasoning, audio, image). :func:`take_tokens` removes covered
tokens so that the remaining :class:`~ciyuan.core.usage.Usage` stays consistent and can be
rated in money.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, fields

from ciyuan.billing.budgets import check_name
from ciyuan.billing.errors import PackInvalidError
from ciyuan.core.usage import Usage
from ciyuan.ledger import Account, AccountKind, Transfer

__all__ = [
    "OpenPack",
    "PackConsumption",
    "buy_id",
    "pack_accounts",
    "pack_from_buy",
    "plan_buy",
    "plan_consumption",
    "plan_expiry",
    "take_tokens",
    "token_unit",
]

PLATFORM = "platform"
#: Token categories a pack covers, in order: (size of the part, fields it is counted in).
_STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("uncached_text_input", ("input_tokens",)),
    ("input_audio_tokens", ("input_audio_tokens", "input_tokens")),
    ("input_image_tokens", ("input_image_tokens", "input_tokens")),
    ("input_video_tokens", ("input_video_tokens", "input_tokens")),
    ("cached_input_tokens", ("cached_input_tokens", "input_tokens")),
    ("cache_write_5m", ("cache_write_tokens", "input_tokens")),
    ("cache_write_1h_tokens", ("cache_write_1h_tokens", "cache_write_tokens", "input_tokens")),
    ("text_output", ("output_tokens",)),
    ("reasoning_tokens", ("reasoning_tokens", "output_tokens")),
    ("output_audio_tokens", ("output_audio_tokens", "output_tokens")),
    ("output_image_tokens", ("output_image_tokens", "output_tokens")),
)


def token_unit(model: str) -> str:
    """The ledger unit of a model's native tokens (lower case: one unit per model)."""
    return f"TOKEN:{model.lower()}"


def buy_id(tenant: str, number: int) -> str:
    return f"pack:{tenant}:{number}:buy"


def pack_accounts(tenant: str, number: int, model: str) -> list[Account]:
    """The pack and the accounts its tokens come from and go to."""
    unit, name = token_unit(model), model.lower()
    return [Account(f"funding:tokens:{name}", AccountKind.FUNDING, unit, PLATFORM),
            Account(f"pack-used:{name}", AccountKind.PLATFORM_REVENUE, unit, PLATFORM),
            Account(f"pack-expired:{name}", AccountKind.PLATFORM_REVENUE, unit, PLATFORM),
            Account(f"pack:{tenant}:{number}", AccountKind.TOKEN_PACK, unit, tenant,
                    debits_must_not_exceed_credits=True)]


@dataclass(frozen=True)
class OpenPack:
    """A pack and what is left in it (``remaining`` = credits - debits - pending debits)."""

    tenant: str
    number: int
    model: str
    tokens: int
    expires_at: dt.datetime
    remaining: int

    @property
    def account_id(self) -> str:
        return f"pack:{self.tenant}:{self.number}"

    def usable(self, model: str, at: dt.datetime) -> bool:
        return self.remaining > 0 and at < self.expires_at and model.lower() == self.model


def plan_buy(tenant: str, number: int, model: str, tokens: int,
             expires_at: dt.datetime) -> Transfer:
    """The transfer that fills pack ``number`` (its id doubles as the pack's record)."""
    check_name(tenant, "tenant")
    if type(tokens) is not int or tokens <= 0:
        raise PackInvalidError(f"a pack holds a positive int of tokens, not {tokens!r}",
                               field="tokens")
    if not isinstance(model, str) or not model:
        raise PackInvalidError("a pack names the model whose tokens it holds", field="model")
    if expires_at.tzinfo is None:
        raise PackInvalidError("a pack's expiry must be timezone-aware (UTC)",
                               field="expires_at")
    name = model.lower()
    return Transfer(buy_id(tenant, number), f"funding:tokens:{name}", f"pack:{tenant}:{number}",
                    tokens, "pack-buy", metadata=(
                        ("model", name),
                        ("expires_at", expires_at.astimezone(dt.UTC).isoformat())))


def pack_from_buy(tenant: str, number: int, buy: Transfer, remaining: int) -> OpenPack:
    meta = dict(buy.metadata)
    return OpenPack(tenant, number, meta["model"], buy.amount,
                    dt.datetime.fromisoformat(meta["expires_at"]), remaining)


def take_tokens(usage: Usage, limit: int) -> tuple[Usage, int]:
    """Remove up to ``limit`` tokens from ``usage`` in the covering order; the remaining
    usage (still consistent) and how many tokens were taken."""
    counts = {f.name: getattr(usage, f.name) for f in fields(usage)}
    sizes = {
        "uncached_text_input": usage.uncached_input_tokens - usage.input_modality_tokens,
        "cache_write_5m": usage.cache_write_tokens - usage.cache_write_1h_tokens,
        "text_output": usage.output_tokens - usage.reasoning_tokens
        - usage.output_audio_tokens - usage.output_image_tokens,
    }
    taken = 0
    for part, counted_in in _STEPS:
        take = min(limit - taken, sizes.get(part, counts.get(part, 0)))
        if take <= 0:
            continue
        for name in counted_in:
            counts[name] -= take
        taken += take
    return Usage(**counts), taken


@dataclass(frozen=True)
class PackConsumption:
    """What packs cover of one call: the transfers, and the usage left to charge in money."""

    transfers: tuple[Transfer, ...]
    remaining: Usage
    covered_tokens: int


def plan_consumption(usage: Usage, model: str, packs: Sequence[OpenPack], at: dt.datetime,
                     call_id: str) -> PackConsumption:
    """Cover ``usage`` of ``model`` at ``at`` from the usable packs, earliest expiry first.

    The transfers move tokens from each pack into ``pack-used:<model>``; submit them as one
    linked chain (a pack drained meanwhile refuses it: plan again with fresh balances).
    """
    wanted = usage.total_tokens
    transfers: list[Transfer] = []
    usable = sorted((p for p in packs if p.usable(model, at)),
                    key=lambda p: (p.expires_at, p.number))
    for pack in usable:
        left = wanted - sum(t.amount for t in transfers)
        if left <= 0:
            break
        take = min(left, pack.remaining)
        transfers.append(Transfer(f"{call_id}:pack:{pack.tenant}:{pack.number}",
                                  pack.account_id, f"pack-used:{pack.model}", take, "pack-use",
                                  metadata=(("call", call_id),)))
    covered = sum(t.amount for t in transfers)
    remaining, taken = take_tokens(usage, covered)
    assert taken == covered, (taken, covered)
    return PackConsumption(tuple(transfers), remaining, covered)


def plan_expiry(packs: Sequence[OpenPack], now: dt.datetime) -> list[Transfer]:
    """Move what is left in every pack expired at ``now`` to ``pack-expired:<model>``."""
    return [Transfer(f"{p.account_id}:expiry", p.account_id, f"pack-expired:{p.model}",
                     p.remaining, "pack-expiry",
                     metadata=(("expires_at", p.expires_at.isoformat()),))
            for p in packs if p.remaining > 0 and now >= p.expires_at]
