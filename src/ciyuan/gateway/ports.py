"""What the metering pipeline needs from the rest of ciyuan, as small Protocols.

The server wires real implementations (identity store, ledger budgets, usage store, receipt
signer); tests may pass in-memory ones. Keeping them narrow keeps the pipeline readable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from ciyuan.core.records import UsageRecord

__all__ = ["Budgets", "Identity", "Principal", "ReceiptIssuer", "Reservation"]


@dataclass(frozen=True)
class Principal:
    """Who is calling: resolved from the API key, then refined by attribution headers."""

    tenant: str
    key_id: str
    team: str = ""
    agent: str = ""
    allowed_models: frozenset[str] = frozenset()
    rpm: int = 0  # 0 = unlimited
    tpm: int = 0
    currency: str = "USD"
    sector: str = ""
    region: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


class Identity(Protocol):
    def authenticate(self, presented_key: str) -> Principal | None:
        """The principal of a valid key, or None (unknown, malformed or revoked)."""
        ...


@dataclass(frozen=True)
class Reservation:
    id: str
    amount_nano: int
    currency: str
    #: what the budgets adapter made of it (e.g. the ledger holds), so settling it in the
    #: same process needs no look-up; not part of its identity
    detail: object = field(default=None, compare=False, repr=False)


class Budgets(Protocol):
    async def reserve(self, principal: Principal, reservation_id: str, amount_nano: int,
                      currency: str) -> Reservation:
        """Hold ``amount_nano`` at every budget level of the principal, atomically, or raise
        BudgetExceededError naming the level that does not fit. Async so that the holds of
        many calls can go to the ledger together."""
        ...

    async def settle(self, reservation: Reservation, actual_nano: int) -> None:
        """Post ``actual_nano`` (≤ reserved) at every level and release the rest."""
        ...

    def settle_now(self, reservation: Reservation, actual_nano: int) -> None:
        """``settle`` without waiting for the loop (a cancelled stream's last act)."""
        ...

    def release(self, reservation: Reservation) -> None: ...


class ReceiptIssuer(Protocol):
    def issue(self, record: UsageRecord, response_sha256: str) -> str:
        """A signed receipt for the completed record, for the X-Ciyuan-Receipt header."""
        ...
