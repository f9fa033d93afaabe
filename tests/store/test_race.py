"""Race test: 8 processes × 500 reservations against one budget that fits far fewer.

Every reservation is a PENDING transfer debiting a budget account that must not go
negative. However the writers interleave, the accepted reservations never hold more than the
budget, exactly as many are accepted as fit, and every other one is refused with
``exceeds-credits``. Runs on PostgreSQL (row lock on the chain head) and on SQLite (one
writer at a time across processes).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from store_targets import Backend

from ciyuan.ledger import Account, AccountKind, Transfer, TransferFlags

WORKER = Path(__file__).with_name("race_worker.py")
PROCESSES, RESERVATIONS = 8, 500
AMOUNT, BUDGET = 7, 1_000  # room for 142 reservations of 4,000
#: Bound on the whole race (start-up included); it normally takes a few seconds.
RACE_TIMEOUT_S = 120.0
ACCOUNTS = [Account("funding", AccountKind.FUNDING, "USD", "platform"),
            Account("budget", AccountKind.BUDGET, "USD", "t1",
                    debits_must_not_exceed_credits=True),
            Account("spend", AccountKind.PLATFORM_REVENUE, "USD", "platform")]


def race(db_url: str, tmp_path: Path) -> list[list[str]]:
    """Start the workers, release them together, collect each one's results."""
    go, outs = tmp_path / "go", [tmp_path / f"worker-{k}.json" for k in range(PROCESSES)]
    procs = [subprocess.Popen([sys.executable, str(WORKER), db_url, str(k), str(RESERVATIONS),
                               str(AMOUNT), str(go), str(out)])
             for k, out in enumerate(outs)]
    try:
        deadline = time.monotonic() + RACE_TIMEOUT_S
        while not all(out.exists() for out in outs):
            assert all(p.poll() is None for p in procs), "a worker died before the start"
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.01)
        go.touch()
        for p in procs:
            assert p.wait(timeout=max(1.0, deadline - time.monotonic())) == 0
    finally:
        for p in procs:
            p.kill()
            p.wait()
    return [json.loads(out.read_text()) for out in outs]


@pytest.mark.slow
def test_concurrent_reservations_never_exceed_the_budget(backend: Backend,
                                                         tmp_path: Path) -> None:
    target = backend.fresh()
    store = target.open()
    try:
        assert store.create_accounts(ACCOUNTS) == ["ok"] * 3
        assert store.submit([Transfer("fund", "funding", "budget", BUDGET)]) == ["ok"]
    finally:
        store.close()
    started = time.monotonic()
    results = race(target.url, tmp_path)
    elapsed = time.monotonic() - started
    flat = [r for worker in results for r in worker]
    accepted = flat.count("ok")
    assert len(flat) == PROCESSES * RESERVATIONS
    assert set(flat) == {"ok", "exceeds-credits"}
    assert accepted == BUDGET // AMOUNT  # as many as fit: never more, and none lost
    store = target.open()
    try:
        budget = store.balance("budget")
        assert budget.debits_pending == accepted * AMOUNT <= budget.credits_posted == BUDGET
        holds = [e for e in store.journal() if TransferFlags.PENDING in e.transfer.flags]
        assert len(holds) == accepted
        assert store.verify().ok
    finally:
        store.close()
    print(f"{backend.name}: {PROCESSES}×{RESERVATIONS} reservations in {elapsed:.1f} s, "
          f"{accepted} accepted ({accepted * AMOUNT} of {BUDGET})")
