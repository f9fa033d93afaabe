"""Reconciling a call left pending releases the holds the gateway placed for it: one a
budget level (``<reservation id>:<label>``), as ``ciyuan.billing`` reserves."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ciyuan.billing import Billing, Level, LevelKind, Scope
from ciyuan.core.records import UsageRecord
from ciyuan.price import default_pricer
from ciyuan.reconcile import Reconciler, parse_export
from ciyuan.store import SqliteLedgerStore
from ciyuan.store.memory_usage import MemoryUsageStore

USD = 10**9
AT = dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)
SCOPE = Scope("acme", team="research", key="k1")
HEAD = ("timestamp,request_id,client_request_id,model,input_tokens,input_cached_tokens,"
        "output_tokens\n")


@pytest.mark.parametrize(("row", "status"), [
    ("2026-01-05T10:00:02Z,req_1,ur-1,gpt-4o,1000,0,110\n", "reconciled"),  # served
    # an export reaching past the match window with no row for ur-1: it was never served
    ("2026-01-05T09:59:00Z,req_8,,gpt-4o-mini,10,0,10\n"
     "2026-01-05T10:06:00Z,req_9,,gpt-4o-mini,10,0,10\n", "failed"),
])
def test_reconcile_releases_every_level_hold_of_a_pending_call(
        tmp_path: Path, row: str, status: str) -> None:
    ledger = SqliteLedgerStore(tmp_path / "ledger.db")
    billing = Billing(ledger, now=lambda: AT)
    billing.set_budget(Level(LevelKind.TENANT, "acme"), "month", 10 * USD, "USD", at=AT)
    billing.set_budget(Level(LevelKind.TEAM, "acme", "research"), "month", 2 * USD, "USD", at=AT)
    held = billing.reserve(SCOPE, "rsv-ur-1", USD // 2, "USD")
    assert len(held.holds) == 2
    usage = MemoryUsageStore()
    usage.begin(UsageRecord(id="ur-1", tenant="acme", model="gpt-4o", provider="openai",
                            endpoint="chat.completions", started_at=AT, key_id="k1",
                            team="research", reservation_id=held.id, currency="USD"))
    reconciler = Reconciler(usage, default_pricer(), ledger)
    report = reconciler.reconcile("openai", parse_export(HEAD + row))
    (proposal,) = [p for p in report.proposals if p.completion is not None]
    voided = sorted(t.pending_id or "" for t in proposal.transfers)
    assert voided == sorted(h.transfer_id for h in held.holds)
    reconciler.apply(report)
    reconciler.apply(report)  # again: nothing changes
    assert usage.get(["ur-1"])["ur-1"].status == status
    assert [s.reserved_nano for s in billing.status(SCOPE, at=AT)] == [0, 0]
    assert ledger.verify().ok
    ledger.close()
