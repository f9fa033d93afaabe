"""The in-memory usage store keeps the UsageStore contract of the SQL stores."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from invoice_helpers import JAN, record

from ciyuan.store.memory_usage import MemoryUsageStore
from ciyuan.store.usage_schema import (
    UsageRecordConflictError,
    UsageRecordInvalidError,
    UsageRecordNotFoundError,
    UsageStatusTransitionError,
)


def test_begin_is_idempotent_and_complete_moves_pending_once(usage: MemoryUsageStore) -> None:
    pending = record(1, status="pending")
    assert usage.begin(pending) == pending
    assert usage.begin(replace(pending, model="other")) == pending  # a retry keeps the first
    done = record(1)
    assert usage.complete(done) == done
    assert usage.complete(replace(done, charge_nano=5)) == done  # same final status: no-op
    with pytest.raises(UsageStatusTransitionError):
        usage.complete(replace(done, status="failed", usage=None))
    with pytest.raises(UsageRecordInvalidError):
        usage.begin(record(2))
    with pytest.raises(UsageRecordNotFoundError):
        usage.complete(record(3))
    usage.begin(record(4, status="pending"))
    with pytest.raises(UsageRecordConflictError):
        usage.complete(record(4, tenant="globex"))


def test_query_and_pending_filter_and_order(usage: MemoryUsageStore) -> None:
    later, earlier = JAN + dt.timedelta(hours=2), JAN + dt.timedelta(hours=1)
    for r in (record("b", later), record("a", later), record("c", earlier, tenant="globex"),
              record("p", earlier, status="pending"), record("x", JAN - dt.timedelta(1))):
        usage.add(r)
    feb = JAN + dt.timedelta(days=31)
    assert [r.id for r in usage.query(JAN, feb)] == ["call-c", "call-a", "call-b"]
    assert [r.id for r in usage.query(JAN, feb, "acme")] == ["call-a", "call-b"]
    assert [r.id for r in usage.query(JAN, feb, statuses=("pending",))] == ["call-p"]
    assert [r.id for r in usage.pending(later)] == ["call-p"]
    assert usage.pending(earlier) == []
    assert set(usage.get(["call-a", "nope"])) == {"call-a"}
