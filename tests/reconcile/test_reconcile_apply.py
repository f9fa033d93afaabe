"""Adjustments: proposed, applied only when asked, idempotently."""

from __future__ import annotations

import datetime as dt

import pytest
from reconcile_helpers import T0, record

from ciyuan.ledger import Account, AccountKind, Transfer, TransferFlags
from ciyuan.price import default_pricer
from ciyuan.reconcile import Reconciler, parse_export, transfer_id
from ciyuan.reconcile.errors import ReconcileApplyError
from ciyuan.store import SqliteLedgerStore
from ciyuan.store.memory_usage import MemoryUsageStore

EXPORT = """timestamp,request_id,model,input_tokens,input_cached_tokens,output_tokens
2026-01-05T10:00:02Z,req_1,gpt-4o,1000,0,110
2026-01-05T10:00:40Z,req_served,gpt-4o,2000,0,10
2026-01-05T10:00:50Z,req_lost,gpt-4o,4000,0,0
"""


def _budget_with_holds(ledger: SqliteLedgerStore, holds: dict[str, int]) -> None:
    """A funded budget of acme with pending holds (reservations) on it."""
    ledger.create_accounts([Account("funding", AccountKind.FUNDING, "USD", "platform"),
                            Account("budget:acme", AccountKind.BUDGET, "USD", "acme",
                                    debits_must_not_exceed_credits=True),
                            Account("revenue:USD", AccountKind.PLATFORM_REVENUE, "USD",
                                    "platform")])
    transfers = [Transfer("topup", "funding", "budget:acme", 10**9)] + [
        Transfer(hold, "budget:acme", "revenue:USD", amount, flags=TransferFlags.PENDING,
                 timeout_s=3600) for hold, amount in holds.items()]
    assert ledger.submit(transfers) == ["ok"] * len(transfers)


@pytest.fixture
def seeded(usage: MemoryUsageStore, ledger: SqliteLedgerStore) -> MemoryUsageStore:
    _budget_with_holds(ledger, {"hold-7": 50_000_000})
    usage.add(record(1, upstream_id="req_1"))                              # output differs
    usage.add(record(7, T0 + dt.timedelta(seconds=30), status="pending",
                     reservation_id="hold-7"))                            # served, crashed
    usage.add(record(9, T0 + dt.timedelta(seconds=45), upstream_id="req_never"))  # extra
    return usage


def test_apply_posts_completes_and_is_idempotent(seeded: MemoryUsageStore,
                                                 reconciler: Reconciler,
                                                 ledger: SqliteLedgerStore) -> None:
    report = reconciler.reconcile("openai", parse_export(EXPORT))
    assert {i.key: i.status for i in report.items} == {
        "req_1": "mismatched", "req_served": "missing", "req_lost": "missing",
        "call-9": "extra"}
    ids = sorted(t.id for p in report.proposals for t in p.transfers)
    assert ids == ["reconcile:openai:call-9:cost", "reconcile:openai:req_1:cost",
                   "reconcile:openai:req_lost:cost", "reconcile:openai:req_served:release"]
    assert ledger.balances(["payable:openai:USD"]) == {}  # nothing happens until apply

    applied = reconciler.apply(report)
    assert set(applied.outcomes.values()) == {"applied", "reconciled"}
    payable = ledger.balance("payable:openai:USD")
    # +$0.0001 (10 more output tokens) + $0.01 (a call we lost) − $0.0035 (not billed)
    assert payable.credits_posted - payable.debits_posted == 100_000 + 10_000_000 - 3_500_000
    assert ledger.balance("budget:acme").debits_pending == 0  # the hold was released
    served = seeded.get(["call-7"])["call-7"]
    assert served.status == "reconciled" and served.upstream_request_id == "req_served"
    assert served.usage is not None and served.usage.input_tokens == 2000
    assert served.upstream_cost_nano == 5_100_000 and served.charge_nano == 5_100_000

    entries = len(list(ledger.journal()))
    again = reconciler.apply(report)  # the same report again: nothing changes
    assert set(again.outcomes.values()) == {"already applied", "already reconciled"}
    assert len(list(ledger.journal())) == entries

    rerun = reconciler.reconcile("openai", parse_export(EXPORT))
    assert {i.key: i.status for i in rerun.items}["req_served"] == "matched"
    reapplied = reconciler.apply(rerun)
    assert set(reapplied.outcomes.values()) == {"already applied"}
    assert len(list(ledger.journal())) == entries
    assert ledger.verify().ok


def test_applying_cost_adjustments_needs_a_ledger(seeded: MemoryUsageStore) -> None:
    reconciler = Reconciler(seeded, default_pricer())
    report = reconciler.reconcile("openai", parse_export(EXPORT))
    with pytest.raises(ReconcileApplyError, match="--db"):
        reconciler.apply(report)


def test_transfer_ids_come_from_the_request_id() -> None:
    assert transfer_id("openai", "req_1", "cost") == "reconcile:openai:req_1:cost"
    long = transfer_id("openai", "r" * 300, "cost")
    assert len(long) <= 200 and long == transfer_id("openai", "r" * 300, "cost")
    assert long != transfer_id("openai", "r" * 299, "cost")


def test_a_pending_record_never_served_is_closed_as_failed(
        usage: MemoryUsageStore, reconciler: Reconciler, ledger: SqliteLedgerStore) -> None:
    _budget_with_holds(ledger, {"hold-3": 40_000_000, "hold-4": 40_000_000})
    usage.add(record(1, upstream_id="req_1", output_tokens=110))
    # crashed before the upstream call: no provider row, long before the export ends
    usage.add(record(3, T0 + dt.timedelta(seconds=5), status="pending", reservation_id="hold-3"))
    # still in flight: within one window of the export's end, so it is left alone
    usage.add(record(4, T0 + dt.timedelta(minutes=20, seconds=10), status="pending",
                     reservation_id="hold-4"))
    export = parse_export(EXPORT.splitlines()[0] + "\n" + EXPORT.splitlines()[1] + "\n"
                          + "2026-01-05T10:20:00Z,req_late,gpt-4o-mini,1000,0,110\n")
    report = reconciler.reconcile("openai", export)
    closing = [i for i in report.items if i.pending is not None and i.status == "extra"]
    assert [i.key for i in closing] == ["call-3"]
    applied = reconciler.apply(report)
    assert applied.outcomes["record:call-3"] == "closed as failed"
    closed = usage.get(["call-3"])["call-3"]
    assert closed.status == "failed" and closed.charge_nano == 0 and "never served" in closed.error
    assert usage.get(["call-4"])["call-4"].status == "pending"
    assert ledger.balance("budget:acme").debits_pending == 40_000_000  # only hold-4 is left
    again = reconciler.apply(report)
    assert again.outcomes["record:call-3"] == "already closed as failed"
