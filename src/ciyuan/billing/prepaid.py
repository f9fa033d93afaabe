"""Wallets, top-ups and token packs on a ledger store (the prepaid half of ``Billing``).

Packs are consumed after a call, when its usage is known: the planner covers tokens from
the usable packs (earliest expiry first) and the submit is one linked chain, so a pack
drained by a concurrent call refuses the chain and the plan is made again from fresh
balances (bounded attempts). A consumption is recorded under the call's id, so doing it
again for the same call returns what was recorded instead of consuming twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ciyuan.billing.budgets import linked
from ciyuan.billing.errors import BillingConflictError, WalletInvalidError
from ciyuan.billing.lookup import load_packs, probe
from ciyuan.billing.outcomes import first_failure, raise_for
from ciyuan.billing.packs import (
    OpenPack,
    PackConsumption,
    buy_id,
    pack_accounts,
    plan_buy,
    plan_consumption,
    plan_expiry,
    take_tokens,
)
from ciyuan.billing.wallets import (
    WalletStatus,
    plan_top_up,
    revenue_account,
    to_nano,
    wallet_accounts,
    wallet_id,
    wallet_status,
)
from ciyuan.core.money import Rounding
from ciyuan.core.usage import Usage
from ciyuan.ledger import Result, Transfer
from ciyuan.price.api import Pricer, default_pricer
from ciyuan.price.lines import Rating
from ciyuan.store.protocol import LedgerStore

__all__ = ["Prepaid", "UsageCharge"]

#: Attempts of a plan made from balances that a concurrent writer may change first.
MAX_ATTEMPTS = 10
#: How a rated total finer than a nano-unit is carried into the ledger (one named rule).
CHARGE_ROUNDING: Rounding = "half-even"


@dataclass(frozen=True)
class UsageCharge:
    """A call's usage after packs: what packs covered and the money for the rest."""

    packs: PackConsumption
    rating: Rating
    charge_nano: int


class Prepaid:
    """Wallets and token packs over one ledger store (see :class:`~ciyuan.billing.Billing`)."""

    def __init__(self, store: LedgerStore, *, now: Callable[[], dt.datetime],
                 pricer: Pricer | None = None) -> None:
        self._store = store
        self._now = now
        self._pricer = pricer

    @property
    def store(self) -> LedgerStore:
        """The ledger store this billing reads and writes."""
        return self._store

    # -- wallets --------------------------------------------------------------------------

    def open_wallet(self, tenant: str, currency: str, credit_limit_nano: int = 0) -> WalletStatus:
        """Open the tenant's wallet in ``currency`` with a credit line (idempotent)."""
        accounts = wallet_accounts(tenant, currency, credit_limit_nano)
        results = self._store.create_accounts(accounts)
        if results[-1] is Result.EXISTS_WITH_DIFFERENT_FIELDS:
            stored = self._store.accounts([accounts[-1].id])[accounts[-1].id]
            raise WalletInvalidError(
                f"wallet {stored.id} exists with a credit line of {stored.credit_limit} "
                f"nano-units; a credit line is fixed per wallet", account=stored.id)
        status = self.wallet(tenant, currency)
        assert status is not None
        return status

    def top_up(self, tenant: str, currency: str, amount_nano: int, top_up_id: str,
               ) -> WalletStatus:
        """Add prepaid credit (``top_up_id``: the payment's idempotency key)."""
        transfer = plan_top_up(tenant, currency, amount_nano, top_up_id)
        self._submit([transfer], what=f"top up {wallet_id(tenant, currency)}", currency=currency)
        status = self.wallet(tenant, currency)
        assert status is not None
        return status

    def wallet(self, tenant: str, currency: str) -> WalletStatus | None:
        """The wallet's balance, holds and credit line, or None if it has none."""
        account_id = wallet_id(tenant, currency)
        account = self._store.accounts([account_id]).get(account_id)
        if account is None:
            return None
        return wallet_status(account, self._store.balance(account_id))

    # -- token packs ----------------------------------------------------------------------

    def buy_pack(self, tenant: str, model: str, tokens: int, expires_at: dt.datetime, *,
                 price_nano: int = 0, currency: str = "USD") -> OpenPack:
        """Add a pack of ``tokens`` native tokens of ``model``; with ``price_nano`` it is
        paid from the tenant's wallet in the same linked batch (both or neither)."""
        for _ in range(MAX_ATTEMPTS):
            number = len(probe(self._store, {0: lambda n: buy_id(tenant, n)})[0]) + 1
            buy = plan_buy(tenant, number, model, tokens, expires_at)
            self._store.create_accounts(pack_accounts(tenant, number, model))
            transfers = [buy]
            if price_nano:
                transfers.append(Transfer(f"{buy.id}:payment", wallet_id(tenant, currency),
                                          revenue_account(currency).id, price_nano,
                                          "pack-payment"))
            results = self._store.submit(linked(transfers))
            failure = first_failure(results, transfers)
            if failure is None:
                return OpenPack(tenant, number, model.lower(), tokens,
                                expires_at.astimezone(dt.UTC), tokens)
            if failure[0] is not Result.EXISTS_WITH_DIFFERENT_FIELDS:  # not a number race
                self._raise(results, transfers, what=f"buy pack for {tenant}", currency=currency)
        raise BillingConflictError(f"buy pack for {tenant}: other purchases kept taking the "
                                   "next pack number; try again", tenant=tenant)

    def packs(self, tenant: str) -> list[OpenPack]:
        """Every pack of the tenant, in purchase order, with what is left."""
        return load_packs(self._store, tenant)

    def consume_packs(self, tenant: str, usage: Usage, model: str, call_id: str,
                      at: dt.datetime | None = None) -> PackConsumption:
        """Cover the call's tokens from the tenant's usable packs (once per ``call_id``)."""
        at = at or self._now()
        for _ in range(MAX_ATTEMPTS):
            packs = load_packs(self._store, tenant)
            done = self._store.transfers(f"{call_id}:pack:{tenant}:{p.number}" for p in packs)
            if done:
                covered = sum(t.amount for t in done.values())
                remaining, _ = take_tokens(usage, covered)
                return PackConsumption(tuple(done.values()), remaining, covered)
            plan = plan_consumption(usage, model, packs, at, call_id)
            results = self._store.submit(linked(plan.transfers)) if plan.transfers else []
            failure = first_failure(results, plan.transfers)
            if failure is None:
                return plan
            if failure[0] is not Result.EXCEEDS_CREDITS:
                self._raise(results, plan.transfers, what=f"consume packs for {call_id}")
        raise BillingConflictError(f"consume packs for {call_id}: packs kept changing under "
                                   "concurrent calls; try again", call=call_id)

    def expire_packs(self, tenant: str, now: dt.datetime | None = None) -> int:
        """Move what is left in the tenant's expired packs to the expiry account; how many
        packs were closed now (run it from a scheduler; a retry closes nothing twice)."""
        transfers = plan_expiry(load_packs(self._store, tenant), now or self._now())
        results = self._store.submit(transfers) if transfers else []
        return sum(r is Result.OK for r in results)

    def charge_usage(self, tenant: str, usage: Usage, model: str, call_id: str, *,
                     currency: str = "USD", at: dt.datetime | None = None) -> UsageCharge:
        """Consume packs first, then rate what is left in money (list price, exact, carried
        to nano-units by :data:`CHARGE_ROUNDING`). Settle the call's reservation with
        ``charge_nano``."""
        at = at or self._now()
        consumed = self.consume_packs(tenant, usage, model, call_id, at)
        pricer = self._pricer or default_pricer()
        rating = pricer.rate(consumed.remaining, model=model, at=at, currency=currency)
        total: Decimal = rating.total
        return UsageCharge(consumed, rating, to_nano(total, rounding=CHARGE_ROUNDING))

    # -- plumbing -------------------------------------------------------------------------

    def _submit(self, transfers: Sequence[Transfer], *, what: str, currency: str = "") -> None:
        if not transfers:
            return
        results = self._store.submit(transfers)
        self._raise(results, transfers, what=what, currency=currency)

    def _raise(self, results: Sequence[Result], transfers: Sequence[Transfer], *, what: str,
               currency: str = "") -> None:
        if first_failure(results, transfers) is not None:
            balances = self._store.balances({t.debit_account_id for t in transfers})
            raise_for(results, transfers, what=what, currency=currency, balances=balances)
