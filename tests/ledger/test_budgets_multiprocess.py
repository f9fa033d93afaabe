"""Four processes reserve and settle against the same SQLite budgets at once.

Each worker opens its own store on the shared file (WAL; writes serialize through
``BEGIN IMMEDIATE``) and runs reserve → settle/release loops over nested levels with small
limits, so many reservations are refused. Afterwards: at no level did the spent total pass
the limit, each level's spent total is exactly what the workers settled, nothing is held,
and the journal verifies.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import random
from pathlib import Path

from ciyuan.billing import Billing, Level, LevelKind, Scope
from ciyuan.billing.errors import BudgetLevelExceededError
from ciyuan.store import SqliteLedgerStore

AT = dt.datetime(2026, 11, 5, 8, tzinfo=dt.UTC)
WORKERS, CALLS = 4, 60
LIMITS = {Level(LevelKind.TENANT, "acme"): 2_000, Level(LevelKind.TEAM, "acme", "red"): 900,
          Level(LevelKind.AGENT, "acme", "a0"): 400, Level(LevelKind.KEY, "acme", "k1"): 150}


def _scope(worker: int) -> Scope:
    return Scope("acme", "red" if worker < 3 else "blue", f"a{worker % 2}", f"k{worker}")


def _work(path: str, worker: int) -> tuple[int, int, int]:
    """Reserve, then settle (or release) each call; (settled total, settled, refused)."""
    rng = random.Random(worker)
    store = SqliteLedgerStore(path)
    billing = Billing(store, now=lambda: AT)
    total = settled = refused = 0
    try:
        for n in range(CALLS):
            amount = rng.randint(10, 60)
            try:
                r = billing.reserve(_scope(worker), f"w{worker}-{n}", amount, "USD")
            except BudgetLevelExceededError:
                refused += 1
                continue
            if rng.random() < 0.2:
                billing.release(r)
                continue
            actual = rng.randint(0, amount)
            billing.settle(r, actual)
            total, settled = total + actual, settled + 1
    finally:
        store.close()
    return total, settled, refused


def test_four_processes_never_overspend_any_level(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    store = SqliteLedgerStore(path)
    billing = Billing(store, now=lambda: AT)
    for level, limit in LIMITS.items():
        billing.set_budget(level, "month", limit, "USD")
    context = multiprocessing.get_context("spawn")
    with context.Pool(WORKERS) as pool:
        outcomes = pool.starmap(_work, [(str(path), w) for w in range(WORKERS)])
    spent = {level: 0 for level in LIMITS}
    for worker, (total, _, _) in enumerate(outcomes):
        for level in _scope(worker).levels():
            if level in spent:
                spent[level] += total
    statuses = {s.level: s for w in range(WORKERS) for s in billing.status(_scope(w))}
    for level, limit in LIMITS.items():
        status = statuses[level]
        assert status.spent_nano == spent[level] <= limit
        assert status.reserved_nano == 0 and status.limit_nano == limit
    assert sum(refused for _, _, refused in outcomes) > 0  # the limits were really reached
    assert sum(n for _, n, _ in outcomes) > WORKERS * CALLS // 4
    assert store.verify().ok
    store.close()
