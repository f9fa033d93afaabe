"""Reading billing state back from a ledger store: definitions, periods, packs, holds.

Everything billing keeps lives in the ledger under deterministic ids, so it is found by id
through the narrow :class:`~ciyuan.store.LedgerStore` interface (SQLite and PostgreSQL
alike), never by scanning the journal. Consecutive ids (budget revisions ``r1, r2, …``, packs
``1, 2, …``) are probed :data:`PROBE_BATCH` at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TypeVar

from ciyuan.billing.budgets import Budget, Hold, Level, LevelKind, Scope
from ciyuan.billing.definitions import budget_from_revision, limit_id, revision_id
from ciyuan.billing.packs import OpenPack, buy_id, pack_from_buy
from ciyuan.billing.periods import PeriodKind
from ciyuan.ledger import Balance, Transfer, TransferFlags
from ciyuan.store.protocol import LedgerStore

__all__ = ["DEFINITIONS_CACHED", "PROBE_BATCH", "BudgetDefinitions", "find_holds", "hold_ids",
           "load_budget", "load_budgets", "load_packs", "probe"]

#: Consecutive ids asked for per round trip: one round trip for up to 16 revisions of each
#: budget (or 16 packs of a tenant); more cost one more round trip per 16.
PROBE_BATCH = 16
K = TypeVar("K", bound=Hashable)
#: Budgets (level and period kind) a :class:`BudgetDefinitions` remembers; past this it
#: starts again empty (one reload per scope), so memory stays bounded under many agents.
DEFINITIONS_CACHED = 50_000


def probe(store: LedgerStore, families: Mapping[K, Callable[[int], str]],
          batch: int = PROBE_BATCH) -> dict[K, list[Transfer]]:
    """For each family of ids ``f(1), f(2), …``, the transfers that exist, up to the first
    gap (families are probed together, ``batch`` ids each per round trip)."""
    found: dict[K, list[Transfer]] = {key: [] for key in families}
    open_keys = list(families)
    start = 1
    while open_keys:
        wanted = {key: [families[key](n) for n in range(start, start + batch)]
                  for key in open_keys}
        got = store.transfers([i for ids in wanted.values() for i in ids])
        still_open = []
        for key, ids in wanted.items():
            for transfer_id in ids:
                if transfer_id not in got:
                    break
                found[key].append(got[transfer_id])
            else:
                still_open.append(key)
        open_keys, start = still_open, start + batch
    return found


def load_budget(store: LedgerStore, level: Level, kind: PeriodKind) -> Budget | None:
    """The current definition of one budget, or None."""
    return next(iter(_load(store, [(level, kind)])), None)


def load_budgets(store: LedgerStore, scope: Scope) -> list[Budget]:
    """The current definition of every budget on the scope's levels (outermost first)."""
    return _load(store, [(level, kind) for level in scope.levels() for kind in PeriodKind])


def _load(store: LedgerStore, keys: Sequence[tuple[Level, PeriodKind]]) -> list[Budget]:
    wanted = {key: limit_id(*key) for key in keys}
    existing = store.accounts(wanted.values())
    families = {key: (lambda n, _id=account_id: revision_id(_id, n))
                for key, account_id in wanted.items() if account_id in existing}
    budgets = []
    for (level, kind), revisions in probe(store, families).items():
        if revisions:  # an account without revisions: a set_budget cut off half-way
            budgets.append(budget_from_revision(level, kind, existing[wanted[(level, kind)]],
                                                revisions[-1], len(revisions)))
    return budgets


class BudgetDefinitions:
    """The budget definitions of the scopes a process meets, checked against the ledger on
    every read with one query instead of loaded again.

    A definition changes only by a new revision transfer (``…:r<n+1>``), and a budget comes
    into being with its first (``…:r1``). So asking the store for the next revision id of
    every budget a scope could have (the next of each one known, ``r1`` where none is) tells
    whether anything changed since it was loaded: nothing found, the remembered definitions
    are current; anything found, the scope is loaded again. Changes by another process
    (``ciyuan budgets set``, another worker) are seen by the very next call.
    """

    def __init__(self, store: LedgerStore, capacity: int = DEFINITIONS_CACHED) -> None:
        assert capacity > 0
        self._store = store
        self._capacity = capacity
        # (level, kind) -> its current definition, or None: no budget there (yet)
        self._known: dict[tuple[Level, PeriodKind], Budget | None] = {}

    def budgets(self, scope: Scope) -> list[Budget]:
        """What :func:`load_budgets` returns, for one query when nothing changed."""
        keys = [(level, kind) for level in scope.levels() for kind in PeriodKind]
        known = self._known
        if all(key in known for key in keys):
            nexts = [revision_id(limit_id(*key), _next_revision(known[key])) for key in keys]
            if not self._store.transfers(nexts):
                return [b for b in (known[key] for key in keys) if b is not None]
        budgets = _load(self._store, keys)
        if len(known) + len(keys) > self._capacity:
            known.clear()
        found = {(b.level, b.period): b for b in budgets}
        for key in keys:
            known[key] = found.get(key)
        return budgets


def _next_revision(budget: Budget | None) -> int:
    return 1 if budget is None else budget.revision + 1


def load_packs(store: LedgerStore, tenant: str) -> list[OpenPack]:
    """Every pack the tenant bought, with what is left in it (numbered from 1)."""
    buys = probe(store, {tenant: lambda n: buy_id(tenant, n)})[tenant]
    balances = store.balances(t.credit_account_id for t in buys)
    packs = []
    for number, buy in enumerate(buys, 1):
        b = balances.get(buy.credit_account_id, Balance())
        packs.append(pack_from_buy(tenant, number, buy,
                                   b.credits_posted - b.debits_posted - b.debits_pending))
    return packs


def hold_labels() -> Sequence[str]:
    """Every label a reservation's hold can have."""
    return [*(f"{k}-{p}" for k in LevelKind for p in PeriodKind), "wallet"]


def hold_ids(reservation_id: str) -> dict[str, str]:
    """The transfer id each of a reservation's possible holds has, with its label."""
    return {f"{reservation_id}:{label}": label for label in hold_labels()}


def find_holds(store: LedgerStore, reservation_id: str) -> tuple[tuple[Hold, ...], int, int]:
    """The holds of a reservation from the ledger: (holds, amount, timeout_s)."""
    ids = hold_ids(reservation_id)
    got = store.transfers(ids)
    holds, amounts, timeouts = [], set(), set()
    for transfer_id, label in ids.items():
        t = got.get(transfer_id)
        if t is not None and TransferFlags.PENDING in t.flags:
            holds.append(Hold(transfer_id, t.debit_account_id, t.credit_account_id, label))
            amounts.add(t.amount)
            timeouts.add(t.timeout_s)
    assert len(amounts) <= 1 and len(timeouts) <= 1, (reservation_id, amounts)
    return tuple(holds), max(amounts, default=0), max(timeouts, default=0)
