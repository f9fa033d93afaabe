"""``Billing``: budgets and reservations on any :class:`~ciyuan.store.LedgerStore`.

The I/O edge of ``ciyuan.billing``: it reads balances and definitions by id, asks the pure
planners (``budgets``, ``definitions``) for transfers and submits them. Every write is one
``submit`` batch, atomic per linked chain, so the same code is correct on SQLite and on
PostgreSQL with many gateway workers. Operations that plan from balances they read (setting
a budget) retry a bounded number of times when a concurrent writer got there first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ciyuan.billing.budgets import (
    Budget,
    BudgetPeriod,
    BudgetStatus,
    Level,
    Reservation,
    Scope,
    budget_hold,
    budget_status,
    linked,
    plan_release,
    plan_reserve,
    plan_settle,
)
from ciyuan.billing.definitions import (
    fund_id,
    funding_account,
    limit_account,
    plan_adjust,
    plan_open,
    plan_revision,
)
from ciyuan.billing.errors import (
    BillingConflictError,
    BudgetCurrencyError,
    BudgetTimeZoneChangeError,
    ReservationClosedError,
)
from ciyuan.billing.lookup import BudgetDefinitions, find_holds, load_budget, load_budgets
from ciyuan.billing.outcomes import first_failure, raise_for
from ciyuan.billing.periods import PeriodKind, period_at, period_kind
from ciyuan.billing.prepaid import Prepaid
from ciyuan.billing.wallets import wallet_hold, wallet_id
from ciyuan.ledger import Account, Result, Transfer
from ciyuan.price.api import Pricer
from ciyuan.store.protocol import LedgerStore

__all__ = ["Billing", "PlannedWrite", "ReservationRef"]

#: Attempts of an operation that plans from balances it read, when a concurrent writer
#: changed them first; each attempt is one read and one batch.
MAX_ATTEMPTS = 5
#: How long a reservation holds if the caller never settles it (the gateway's default).
DEFAULT_TIMEOUT_S = 15 * 60
_RACES = (Result.EXISTS_WITH_DIFFERENT_FIELDS, Result.EXCEEDS_CREDITS)
#: Ids of things that, once in the ledger, stay (funded periods, wallets) remembered per
#: process; past this the memory starts again empty (the ledger is asked once more).
REMEMBERED_IDS = 100_000


class ReservationRef(Protocol):
    """What settling needs to know of a reservation (the gateway keeps just this)."""

    @property
    def id(self) -> str: ...
    @property
    def amount_nano(self) -> int: ...
    @property
    def currency(self) -> str: ...


@dataclass(frozen=True)
class PlannedWrite:
    """A write :class:`Billing` planned and has not made: submit ``transfers`` to the ledger
    (as one batch, or inside a larger one: each linked chain is all-or-nothing by itself,
    and a chain sees what the transfers before it in the batch did), then give the results
    to :meth:`Billing.check`. Lets a caller gather the writes of many calls in one batch."""

    transfers: Sequence[Transfer]
    what: str
    currency: str


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Billing(Prepaid):
    """Budgets, reservations, wallets and token packs over one ledger store."""

    def __init__(self, store: LedgerStore, *, now: Callable[[], dt.datetime] = _utc_now,
                 pricer: Pricer | None = None) -> None:
        super().__init__(store, now=now, pricer=pricer)
        self._definitions = BudgetDefinitions(store)
        # ids the ledger was seen to hold: a period's funding and a wallet never go away
        self._present: set[str] = set()

    def _remember(self, ids: Sequence[str]) -> None:
        if len(self._present) + len(ids) > REMEMBERED_IDS:
            self._present.clear()
        self._present.update(ids)

    # -- budgets --------------------------------------------------------------------------

    def set_budget(self, level: Level, period: PeriodKind | str, amount_nano: int,
                   currency: str, tz: str = "UTC", at: dt.datetime | None = None) -> Budget:
        """Define (or change) ``level``'s budget per ``period`` and fund the current period.

        A change applies at once: the open period is topped up, or what is neither spent nor
        held is taken back. The time zone and currency are fixed by the first revision.
        """
        kind, at = period_kind(str(period)), at or self._now()
        for _ in range(MAX_ATTEMPTS):
            self._create([funding_account(currency), limit_account(level, kind, currency)],
                         what=f"budget {level.path} in {currency}")
            previous = load_budget(self._store, level, kind)
            if previous is not None and previous.tz != tz:
                raise BudgetTimeZoneChangeError(
                    f"budget {previous.limit_account_id} counts its periods in {previous.tz}; "
                    f"it cannot move to {tz} (periods would overlap). Set it with "
                    f"--tz {previous.tz}", tz=previous.tz)
            unchanged = previous is not None and previous.amount_nano == amount_nano
            plan = plan_revision(level, kind, amount_nano, currency, tz, previous)
            budget = previous if unchanged and previous is not None else plan.budget
            transfers = [] if unchanged else list(plan.transfers)
            transfers += self._period_transfers(BudgetPeriod(budget, period_at(kind, at, tz)))
            if not transfers:
                return budget
            results = self._store.submit(linked(transfers))
            failure = first_failure(results, transfers)
            if failure is None:
                return budget
            if failure[0] not in _RACES:
                raise_for(results, transfers, what=f"set budget {level.path}", currency=currency)
        raise BillingConflictError(f"set budget {level.path}: other writers kept changing it; "
                                   "try again", level=level.path)

    def _period_transfers(self, period: BudgetPeriod) -> list[Transfer]:
        """Open ``period`` if it is not funded yet, else adjust it to its budget's amount."""
        self._create(list(period.accounts()), what=f"budget {period.account_id}")
        fund = plan_open(period)
        if fund.id not in self._store.transfers([fund.id]):
            return [fund]
        balances = self._store.balances([period.account_id, period.used_account_id])
        adjust = plan_adjust(period, balances[period.account_id],
                             balances[period.used_account_id])
        return [adjust] if adjust is not None else []

    def budgets(self, scope: Scope) -> list[Budget]:
        """The budgets defined on the scope's levels, outermost level first."""
        return load_budgets(self._store, scope)

    def budget_periods(self, scope: Scope, at: dt.datetime | None = None) -> list[BudgetPeriod]:
        """The budget periods a call of ``scope`` at ``at`` must fit, opened if needed."""
        at = at or self._now()
        periods = [BudgetPeriod(b, period_at(b.period, at, b.tz))
                   for b in self._definitions.budgets(scope)]
        funds = {fund_id(p): p for p in periods}
        unknown = [i for i in funds if i not in self._present]
        if not unknown:
            return periods
        funded = self._store.transfers(unknown)
        self._remember(list(funded))
        missing = [funds[i] for i in unknown if i not in funded]
        if missing:
            self._create([a for p in missing for a in p.accounts()], what="budget periods")
            opening = [plan_open(p) for p in missing]
            results = self._store.submit(opening)
            for result, transfer in zip(results, opening, strict=True):
                # another worker opened it first (perhaps under a newer revision): fine
                if result not in (Result.OK, Result.EXISTS_WITH_DIFFERENT_FIELDS):
                    raise_for([result], [transfer], what="open budget period")
        return periods

    def status(self, scope: Scope, at: dt.datetime | None = None) -> list[BudgetStatus]:
        """How full each budget of the scope's levels is in its current period (read only)."""
        at = at or self._now()
        periods = [BudgetPeriod(b, period_at(b.period, at, b.tz))
                   for b in load_budgets(self._store, scope)]
        balances = self._store.balances(
            [i for p in periods for i in (p.account_id, p.used_account_id)])
        return [budget_status(p, balances.get(p.account_id), balances.get(p.used_account_id))
                for p in periods]

    # -- reservations ---------------------------------------------------------------------

    def reserve(self, scope: Scope, reservation_id: str, amount_nano: int, currency: str, *,
                timeout_s: int = DEFAULT_TIMEOUT_S, at: dt.datetime | None = None,
                ) -> Reservation:
        """Hold ``amount_nano`` at every budget level of ``scope`` and in the tenant's wallet
        in ``currency`` (if it has one), all at once or not at all.

        Pass the call's start as ``at`` so a retry resolves the same periods; a retry with
        the same id and amount is a no-op that returns the same reservation.
        """
        reservation, write = self.plan_reservation(scope, reservation_id, amount_nano,
                                                   currency, timeout_s=timeout_s, at=at)
        self._make(write)
        return reservation

    def plan_reservation(self, scope: Scope, reservation_id: str, amount_nano: int,
                         currency: str, *, timeout_s: int = DEFAULT_TIMEOUT_S,
                         at: dt.datetime | None = None) -> tuple[Reservation, PlannedWrite]:
        """:meth:`reserve` up to its write: the reservation, and the write that places it
        (submit it, then :meth:`check` the results). Reads the ledger, writes nothing but
        a period's opening (the first call of a period opens it)."""
        periods = self.budget_periods(scope, at)
        for p in periods:
            if p.budget.currency != currency:
                raise BudgetCurrencyError(
                    f"budget {p.budget.limit_account_id} is in {p.budget.currency}, the call "
                    f"in {currency}; price calls in the budget's currency", currency=currency)
        holds = [budget_hold(reservation_id, p) for p in periods]
        wallet = wallet_id(scope.tenant, currency)
        if wallet not in self._present and wallet in self._store.accounts([wallet]):
            self._remember([wallet])
        if wallet in self._present:
            holds.append(wallet_hold(reservation_id, scope.tenant, currency))
        transfers = plan_reserve(reservation_id, amount_nano, holds, timeout_s)
        return (Reservation(reservation_id, amount_nano, currency, tuple(holds), timeout_s),
                PlannedWrite(transfers, f"reserve {reservation_id}", currency))

    def _make(self, write: PlannedWrite) -> None:
        self._submit(write.transfers, what=write.what, currency=write.currency)

    def check(self, write: PlannedWrite, results: Sequence[Result]) -> None:
        """Raise the billing error of a planned write's results, if any failed."""
        self._raise(results, write.transfers, what=write.what, currency=write.currency)

    def _resolve(self, reservation: ReservationRef) -> Reservation:
        if isinstance(reservation, Reservation):
            return reservation
        holds, amount, timeout_s = find_holds(self._store, reservation.id)
        if holds and amount != reservation.amount_nano:
            raise BillingConflictError(
                f"reservation {reservation.id!r} holds {amount} nano-units in the ledger, "
                f"not {reservation.amount_nano}", reservation=reservation.id)
        return Reservation(reservation.id, reservation.amount_nano, reservation.currency,
                           holds, timeout_s)

    def settle(self, reservation: ReservationRef, actual_nano: int) -> None:
        """Post ``actual_nano`` (≤ reserved) at every hold and release the rest; a retry with
        the same amount is a no-op."""
        self._make(self.plan_settlement(reservation, actual_nano))

    def plan_settlement(self, reservation: ReservationRef, actual_nano: int) -> PlannedWrite:
        """:meth:`settle` up to its write (submit it, then :meth:`check` the results)."""
        found = self._resolve(reservation)
        return PlannedWrite(plan_settle(found, actual_nano), f"settle {found.id}",
                            found.currency)

    def release(self, reservation: ReservationRef) -> bool:
        """Release every hold; False if the reservation was already closed (settled,
        released or expired), so releasing is always safe to retry."""
        found = self._resolve(reservation)
        try:
            self._submit(plan_release(found), what=f"release {found.id}",
                         currency=found.currency)
        except ReservationClosedError:
            return False
        return True

    def find_reservation(self, reservation_id: str, currency: str) -> Reservation | None:
        """A reservation rebuilt from the ledger (after a restart), or None."""
        holds, amount, timeout_s = find_holds(self._store, reservation_id)
        if not holds:
            return None
        return Reservation(reservation_id, amount, currency, holds, timeout_s)

    # -- plumbing -------------------------------------------------------------------------

    def _create(self, accounts: Sequence[Account], *, what: str) -> None:
        results = self._store.create_accounts(accounts)
        for result, account in zip(results, accounts, strict=True):
            if result is Result.EXISTS_WITH_DIFFERENT_FIELDS:
                stored = self._store.accounts([account.id])[account.id]
                raise BudgetCurrencyError(
                    f"{what}: account {account.id} exists in {stored.unit} with other "
                    f"settings; keep its currency", account=account.id)
