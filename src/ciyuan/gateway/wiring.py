"""Adapters from the gateway's ports to the real services, and building them from settings.

Identity comes from the identity store (keys cached for a few seconds per worker), budgets
from ``ciyuan.billing`` over the ledger store, usage records from the usage store, receipts
from ``ciyuan.receipt`` with a per-tenant chain in the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ciyuan.billing import Billing, Scope
from ciyuan.billing.budgets import Reservation as Held
from ciyuan.billing.errors import BudgetLevelExceededError, WalletInsufficientError
from ciyuan.core.records import UsageRecord
from ciyuan.gateway.errors import BudgetExceededError
from ciyuan.gateway.ledger_turn import LedgerTurn
from ciyuan.gateway.ports import Principal, Reservation
from ciyuan.identity import KeyCache
from ciyuan.identity import authenticate as identity_authenticate
from ciyuan.identity.errors import AuthenticationError
from ciyuan.receipt.issuer import ReceiptIssuer, draft_from_record
from ciyuan.store.identity import IdentityStore

__all__ = ["HOLD_SWEEP_INTERVAL_S", "BillingBudgets", "StoreIdentity", "StoreReceipts"]

log = logging.getLogger(__name__)

#: How often, at most, a gateway process releases the budget holds whose timeout has passed
#: (the ledger's ``expire``), checked when a call reserves
HOLD_SWEEP_INTERVAL_S = 60.0


class StoreIdentity:
    """API keys from the identity store, with the tenant's sector and region attached."""

    def __init__(self, store: IdentityStore, currency: str = "USD") -> None:
        self._store = store
        self._keys = KeyCache(store.key_by_id)
        self._currency = currency
        self._tenants: dict[str, tuple[str, str]] = {}

    def authenticate(self, presented_key: str) -> Principal | None:
        try:
            who = identity_authenticate(presented_key, self._keys)
        except AuthenticationError:
            return None
        if who.tenant not in self._tenants:
            tenant = self._store.tenant(who.tenant)
            self._tenants[who.tenant] = (tenant.sector, tenant.region)
        sector, region = self._tenants[who.tenant]
        return Principal(
            tenant=who.tenant, key_id=who.key_id, team=who.team or "", agent=who.agent or "",
            allowed_models=frozenset(who.models), rpm=who.rate_limit_rpm or 0,
            tpm=who.rate_limit_tpm or 0, currency=self._currency, sector=sector, region=region)


@dataclass(frozen=True)
class _Who:
    tenant: str
    team: str
    agent: str
    key_id: str


class BillingBudgets:
    """Budget levels, wallet and holds in the ledger, through ``ciyuan.billing``; the
    reservations and settlements of one loop turn go to the ledger in one submit
    (``ciyuan.gateway.ledger_turn``)."""

    def __init__(self, billing: Billing, *, sweep_every_s: float = HOLD_SWEEP_INTERVAL_S,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._billing = billing
        self.turn = LedgerTurn(billing.store.submit)
        self._sweep_every_s = sweep_every_s
        self._monotonic = monotonic
        self._next_sweep = monotonic()  # the first call sweeps
        #: holds released because their timeout had passed (tests and logs read it)
        self.expired = 0

    def _sweep(self) -> None:
        """Release the holds past their timeout, at most every ``sweep_every_s``. A hold
        outlives its call only when nothing was left to settle or release it (a gateway
        killed between its reservation and its usage record, whose commits are not one):
        the ledger would release it only when a settlement touched it, which never comes,
        and the budget would stay short of it."""
        now = self._monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self._sweep_every_s
        try:
            released = self._billing.store.expire()
        except Exception as error:  # noqa: BLE001 - upkeep: the call goes on, the next sweep retries
            log.warning("releasing expired budget holds failed: %r", error)
            return
        if released:
            self.expired += released
            log.info("released %d budget holds past their timeout", released)

    async def reserve(self, principal: Principal, reservation_id: str, amount_nano: int,
                      currency: str) -> Reservation:
        self._sweep()
        scope = Scope.of(_Who(principal.tenant, principal.team, principal.agent,
                              principal.key_id))
        try:
            held, write = self._billing.plan_reservation(scope, reservation_id, amount_nano,
                                                         currency)
            self._billing.check(write, await self.turn.submit(write.transfers))
        except (BudgetLevelExceededError, WalletInsufficientError) as exc:
            raise BudgetExceededError(exc.message, **exc.details) from None
        return Reservation(held.id, held.amount_nano, held.currency, detail=held)

    async def settle(self, reservation: Reservation, actual_nano: int) -> None:
        write = self._billing.plan_settlement(_held(reservation), actual_nano)
        self._billing.check(write, await self.turn.submit(write.transfers))

    def settle_now(self, reservation: Reservation, actual_nano: int) -> None:
        self._billing.settle(_held(reservation), actual_nano)

    def release(self, reservation: Reservation) -> None:
        self._billing.release(_held(reservation))


def _held(reservation: Reservation) -> Held | Reservation:
    """The holds this process placed (settling needs no ledger look-up), else the bare
    reservation (billing finds its holds in the ledger)."""
    held = reservation.detail
    if isinstance(held, Held) and held.id == reservation.id:
        return held
    return reservation


class StoreReceipts:
    """Signed receipts chained per tenant."""

    def __init__(self, issuer: ReceiptIssuer) -> None:
        self.issuer = issuer

    def issue(self, record: UsageRecord, response_sha256: str) -> str:
        draft = draft_from_record(record, response_sha256=response_sha256)
        return self.issuer.issue(draft).token
