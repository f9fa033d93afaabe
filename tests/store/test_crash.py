"""Crash test: a writer process is ``kill -9``ed at random points, again and again.

After each kill the store is reopened on the same database and must show: the chain and a
replay of the journal verify; every batch the writer saw return is stored with exactly the
results it got; the batch in flight is stored entirely or not at all (linked chains
included); retrying that batch gives the results of a correct ledger (the in-memory
reference); and re-submitting every batch the writer attempted changes nothing.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from crash_workload import ACCOUNTS, Reference, batch
from store_targets import Backend, Target

from ciyuan.ledger import Balance
from ciyuan.ledger import TransferFlags as F
from ciyuan.store import LedgerStore

#: Kills per store; CIYUAN_CRASH_TRIALS raises it (benchmarks/soak_ledger.py does).
TRIALS = int(os.environ.get("CIYUAN_CRASH_TRIALS", "20"))
WRITER = Path(__file__).with_name("crash_writer.py")
#: Bounds per trial: the writer must be ready within this many seconds ...
READY_TIMEOUT_S = 30.0
#: ... and is killed at a random moment up to this long after it is ready.
KILL_WITHIN_S = 0.25
#: Batches the writer must have finished before the kill timer starts.
MIN_DONE_BEFORE_KILL = 2
#: Kills in a row on one database (restarting on the same file/schema each time); a fresh
#: database after that keeps the journal, and so each trial's verify, short.
KILLS_PER_DATABASE = 5
IDS = [a.id for a in ACCOUNTS]
HEAD = "SELECT count(*), max(seq) FROM journal"


def run_writer_until_killed(db_url: str, first: int, log: Path, rng: random.Random) -> None:
    """Start the writer, wait until it is ready, let it run a random while, SIGKILL it."""
    log.write_text("")
    with open(log.with_suffix(".err"), "w", encoding="utf-8") as err:
        proc = subprocess.Popen([sys.executable, str(WRITER), db_url, str(first), str(log)],
                                stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            # ready, and at least two batches done: a loaded machine must not turn a kill
            # before any progress into a "too little progress" failure
            while (not log.read_text("utf-8").startswith("ready\n")
                   or log.read_text("utf-8").count("\ndone ") < MIN_DONE_BEFORE_KILL):
                assert proc.poll() is None, log.with_suffix(".err").read_text("utf-8")
                assert time.monotonic() < deadline, "the writer did not start"
                time.sleep(0.01)
            time.sleep(rng.uniform(0, KILL_WITHIN_S))
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, log.with_suffix(".err").read_text("utf-8")


def read_log(log: Path) -> tuple[dict[int, list[str]], int | None]:
    """Results of the batches the writer saw return, and the batch in flight (if any)."""
    done: dict[int, list[str]] = {}
    in_flight = None
    for line in log.read_text("utf-8").splitlines(keepends=True):
        if not line.endswith("\n"):
            break  # cut off by the kill
        word, *rest = line.split()
        if word == "attempt":
            in_flight = int(rest[0])
        elif word == "done":
            done[int(rest[0])] = rest[1].split(",")
            in_flight = None
    return done, in_flight


def replayed_balances(store: LedgerStore) -> dict[str, Balance]:
    """Balances rebuilt from the journal alone, independently of the store's verify."""
    balances = {a.id: Balance() for a in ACCOUNTS}
    held: dict[str, int] = {}
    for entry in store.journal():
        t = entry.transfer
        if entry.kind == "expiry" or t.pending_id:
            pending = -held.pop(t.pending_id)
            posted = t.amount if F.POST_PENDING in t.flags else 0
        elif F.PENDING in t.flags:
            held[t.id] = pending = t.amount
            posted = 0
        else:
            pending, posted = 0, t.amount
        d, c = balances[t.debit_account_id], balances[t.credit_account_id]
        balances[t.debit_account_id] = d.add(debits_pending=pending, debits_posted=posted)
        balances[t.credit_account_id] = c.add(credits_pending=pending, credits_posted=posted)
    return balances


def recover(store: LedgerStore, reference: Reference, done: dict[int, list[str]],
            in_flight: int | None) -> tuple[dict[int, list[str]], str]:
    """Check the store after a kill and retry the batch in flight; the results of every
    batch of the trial, and what the kill left of the batch in flight (``committed``: all
    of it, ``rolled back``: none, ``none``: no batch was in flight)."""
    report = store.verify()  # the chain, and balances and pendings against a replay
    assert report.ok, report
    results, left = {}, "none"
    for i in sorted(done):
        results[i] = reference.submit(batch(i))
        assert done[i] == results[i], f"batch {i} returned other results than a correct ledger"
    if in_flight is not None:
        transfers = batch(in_flight)
        stored = set(store.transfers(t.id for t in transfers))
        results[in_flight] = reference.submit(transfers)
        applied = {t.id for t, r in zip(transfers, results[in_flight], strict=True) if r == "ok"}
        assert stored in (set(), applied), f"batch {in_flight} is half-applied"
        left = "committed" if stored else "rolled back"
        assert store.submit(transfers) == results[in_flight]  # the client's retry
    assert store.balances(IDS) == reference.balances
    return results, left


def resubmit_changes_nothing(target: Target, store: LedgerStore,
                             results: dict[int, list[str]]) -> None:
    """Every batch again: the same results, the same journal, the same balances."""
    head, balances = target.sql(HEAD), store.balances(IDS)
    for i, expected in sorted(results.items()):
        assert store.submit(batch(i)) == expected, f"re-submitting batch {i} changed a result"
    assert target.sql(HEAD) == head
    assert store.balances(IDS) == balances


def crash_repeatedly(target: Target, trials: int, rng: random.Random,
                     logs: Path) -> tuple[dict[int, list[str]], Counter[str]]:
    """Kill the writer ``trials`` times on one database; every batch's results, and what
    each kill left of the batch in flight."""
    reference, every_result, kills = Reference(), {}, Counter[str]()
    for trial in range(trials):
        log = logs / f"writer-{trial}.log"
        run_writer_until_killed(target.url, len(every_result), log, rng)
        done, in_flight = read_log(log)
        store = target.open()
        try:
            results, left = recover(store, reference, done, in_flight)
            kills[left] += 1
            resubmit_changes_nothing(target, store, results)
        finally:
            store.close()
        every_result.update(results)
        assert sorted(every_result) == list(range(len(every_result)))
    store = target.open()
    try:
        resubmit_changes_nothing(target, store, every_result)  # every key ever attempted
        assert store.balances(IDS) == replayed_balances(store) == reference.balances
        assert store.verify().ok
    finally:
        store.close()
    return every_result, kills


@pytest.mark.slow
def test_kill_minus_nine_never_half_applies(backend: Backend, tmp_path: Path) -> None:
    rng = random.Random(f"crash-{backend.name}")
    batches = transfers = 0
    kills = Counter[str]()
    for first in range(0, TRIALS, KILLS_PER_DATABASE):
        logs = tmp_path / f"db{first}"
        logs.mkdir()
        trials = min(KILLS_PER_DATABASE, TRIALS - first)
        results, left = crash_repeatedly(backend.fresh(), trials, rng, logs)
        assert len(results) > trials, "the writer made too little progress to test anything"
        batches, kills = batches + len(results), kills + left
        transfers += sum(map(len, results.values()))
    assert kills.total() == TRIALS
    print(f"{backend.name}: {TRIALS} kills, {batches} batches, {transfers} transfers; batch "
          f"in flight at the kill: {dict(kills)}")
