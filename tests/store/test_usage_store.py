"""Contract suite for usage-record stores: the same tests on SQLite and PostgreSQL.

PostgreSQL runs when ``CIYUAN_TEST_PG`` names a database, e.g.
``CIYUAN_TEST_PG=postgresql://postgres@127.0.0.1:5432/test``; each test gets a schema of its
own (dropped afterwards), so parallel workers never collide.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from contract_stores import BACKENDS, PG_URL, contract_stores

from ciyuan.core.records import UsageRecord
from ciyuan.core.usage import Usage
from ciyuan.store import SqliteLedgerStore
from ciyuan.store.postgres_usage import PostgresUsageStore
from ciyuan.store.sqlite_usage import SqliteUsageStore
from ciyuan.store.usage import UsageStore
from ciyuan.store.usage_schema import (
    UsageRecordConflictError,
    UsageRecordInvalidError,
    UsageRecordNotFoundError,
    UsageSchemaError,
    UsageStatusTransitionError,
)

T0 = dt.datetime(2026, 11, 5, 8, 30, tzinfo=dt.UTC)
MakeStore = Callable[..., UsageStore]


@pytest.fixture(params=BACKENDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStore]:
    """A factory of stores on one fresh database; every store it made is closed after."""
    with contract_stores(request.param, tmp_path, "test_usage", sqlite=SqliteUsageStore,
                         postgres=PostgresUsageStore) as make:
        yield make


@pytest.fixture
def store(make_store: MakeStore) -> UsageStore:
    return make_store()


def pending(record_id: str = "call-1", **changes: object) -> UsageRecord:
    base = UsageRecord(record_id, "acme", "gpt-4o", "openai", "chat.completions", T0,
                       key_id="k1", team="research", agent="bot", task="t-9",
                       purpose="productive", stream=True, request_sha256="ab" * 32,
                       reservation_id=f"{record_id}:hold", metadata={"模型": "四", "x": "1"})
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def completed(record: UsageRecord, status: str = "completed", **changes: object) -> UsageRecord:
    usage = Usage(input_tokens=1_200, cached_input_tokens=200, output_tokens=300,
                  reasoning_tokens=100)
    fields: dict[str, object] = dict(
        status=status, completed_at=record.started_at + dt.timedelta(seconds=2), usage=usage,
        usage_method="reported", standard_input_tokens=1_100, standard_output_tokens=290,
        currency="USD", charge_nano=6_250_000, upstream_cost_nano=5_000_000,
        price_book_version="openai/gpt-4o@2026-01-01", response_sha256="cd" * 32,
        upstream_request_id="req_1")
    return dataclasses.replace(record, **{**fields, **changes})  # type: ignore[arg-type]


def test_begin_stores_and_a_retry_returns_the_stored_record(store: UsageStore) -> None:
    record = pending()
    assert store.begin(record) == record
    retry = pending(model="other-model", key_id="k2")
    assert store.begin(retry) == record  # the first write wins; the caller can tell
    assert store.get(["call-1", "nope"]) == {"call-1": record}


def test_round_trip_keeps_every_field(store: UsageStore) -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    record = pending(started_at=T0.astimezone(shanghai))
    store.begin(record)
    done = completed(record, error="", metadata={"a": "b"})
    stored = store.complete(done)
    assert stored == done and stored.usage == done.usage
    assert stored.started_at.tzinfo is not None and stored.started_at == T0
    assert store.get(["call-1"])["call-1"] == done


def test_complete_is_idempotent(store: UsageStore) -> None:
    store.begin(pending())
    first = store.complete(completed(pending()))
    again = store.complete(completed(pending(), charge_nano=1))
    assert again == first and again.charge_nano == 6_250_000


@pytest.mark.parametrize("status", ["failed", "reconciled"])
def test_pending_may_end_failed_or_reconciled(store: UsageStore, status: str) -> None:
    store.begin(pending())
    outcome = (dataclasses.replace(pending(), status="failed", error="upstream 500")
               if status == "failed" else completed(pending(), status))
    assert store.complete(outcome).status == status


@pytest.mark.parametrize(("first", "then"), [("completed", "failed"),
                                             ("failed", "completed"),
                                             ("completed", "reconciled")])
def test_final_status_cannot_change(store: UsageStore, first: str, then: str) -> None:
    store.begin(pending())
    store.complete(completed(pending(), first))
    with pytest.raises(UsageStatusTransitionError, match="already"):
        store.complete(completed(pending(), then))
    assert store.get(["call-1"])["call-1"].status == first


def test_bad_transitions_are_typed_errors(store: UsageStore) -> None:
    with pytest.raises(UsageRecordInvalidError, match="'pending'"):
        store.begin(completed(pending()))
    with pytest.raises(UsageRecordNotFoundError, match="begin"):
        store.complete(completed(pending()))
    store.begin(pending())
    with pytest.raises(UsageRecordInvalidError, match="final status"):
        store.complete(pending())
    with pytest.raises(UsageRecordConflictError, match="tenant"):
        store.complete(completed(pending(tenant="mallory")))
    with pytest.raises(UsageRecordInvalidError):
        store.begin(pending("x" * 201))
    assert store.get(["call-1"])["call-1"] == pending()


def test_query_by_time_range_tenant_and_status(store: UsageStore) -> None:
    for n in range(6):
        record = pending(f"c{n}", tenant="acme" if n % 2 else "beta",
                         started_at=T0 + dt.timedelta(minutes=n))
        store.begin(record)
        if n != 5:
            store.complete(completed(record))
    window = (T0 + dt.timedelta(minutes=1), T0 + dt.timedelta(minutes=5))
    assert [r.id for r in store.query(*window)] == ["c1", "c2", "c3", "c4"]
    assert [r.id for r in store.query(*window, tenant="acme")] == ["c1", "c3"]
    everything = store.query(T0, T0 + dt.timedelta(hours=1),
                             statuses=("pending", "completed"))
    assert [r.id for r in everything] == [f"c{n}" for n in range(6)]
    assert list(store.query(*window, statuses=())) == []


def test_query_pages_through_ties_in_start_time(make_store: MakeStore) -> None:
    store = make_store(page_size=3)
    ids = [f"r{n:02d}" for n in range(10)]
    for n, record_id in enumerate(ids):
        record = pending(record_id, started_at=T0 + dt.timedelta(seconds=n // 4))
        store.begin(record)
        store.complete(completed(record))
    assert [r.id for r in store.query(T0, T0 + dt.timedelta(days=1))] == ids


def test_task_records_finds_a_tenants_records_of_one_task(store: UsageStore) -> None:
    from ciyuan.store.usage import TaskRecords

    assert isinstance(store, TaskRecords)
    for i, (tenant, task) in enumerate([("acme", "t-9"), ("acme", "t-9"), ("acme", "t-1"),
                                        ("globex", "t-9"), ("acme", "")]):
        store.begin(pending(f"call-{i}", tenant=tenant, task=task,
                            started_at=T0 + dt.timedelta(seconds=10 - i)))
    assert [r.id for r in store.task_records("acme", "t-9", limit=5)] == ["call-1", "call-0"]
    assert [r.id for r in store.task_records("acme", "t-9", limit=1)] == ["call-1"]
    assert [r.id for r in store.task_records("globex", "t-9", limit=5)] == ["call-3"]
    assert store.task_records("acme", "", limit=5) == []
    assert store.task_records("acme", "t-404", limit=5) == []


def test_pending_lists_records_left_behind(store: UsageStore) -> None:
    for n in range(4):
        store.begin(pending(f"p{n}", started_at=T0 + dt.timedelta(minutes=n)))
    store.complete(completed(pending("p1", started_at=T0 + dt.timedelta(minutes=1))))
    found = store.pending(T0 + dt.timedelta(minutes=3))
    assert [r.id for r in found] == ["p0", "p2"]


def test_concurrent_begin_and_complete_apply_once(make_store: MakeStore) -> None:
    stores = [make_store() for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    outcomes: list[UsageRecord] = []

    def worker(index: int) -> None:
        barrier.wait()
        first = stores[index].begin(pending(model=f"m{index}"))
        outcomes.append(stores[index].complete(completed(first, charge_nano=index + 1)))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({(r.model, r.charge_nano) for r in outcomes}) == 1


def test_sqlite_shares_a_file_with_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ciyuan.db"
    ledger = SqliteLedgerStore(path)
    usage = SqliteUsageStore(path)
    usage.begin(pending())
    usage.complete(completed(pending()))
    usage.close()
    ledger.close()
    reopened_usage, reopened_ledger = SqliteUsageStore(path), SqliteLedgerStore(path)
    assert reopened_usage.get(["call-1"])["call-1"].status == "completed"
    assert reopened_ledger.verify().ok
    reopened_usage.close()
    reopened_ledger.close()
    with sqlite3.connect(path) as conn:  # money and usage are columns SQL can sum
        row = conn.execute("SELECT SUM(charge_nano), SUM(input_tokens), SUM(output_tokens) "
                           "FROM usage_records WHERE tenant = 'acme'").fetchone()
        names = {r[0] for r in conn.execute("SELECT name FROM _usage_migrations")}
    conn.close()
    assert row == (6_250_000, 1_200, 300) and names == {"0001-usage-records",
                                                        "0002-usage-records-task"}


def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "ciyuan.db"
    SqliteUsageStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO _usage_migrations (name) VALUES ('9999-from-the-future')")
    conn.close()
    with pytest.raises(UsageSchemaError, match="upgrade"):
        SqliteUsageStore(path)


def test_postgres_columns_aggregate(make_store: MakeStore, request: pytest.FixtureRequest,
                                    ) -> None:
    if request.node.callspec.params["make_store"] != "postgres":
        pytest.skip("PostgreSQL only")
    import psycopg

    store = make_store()
    store.begin(pending())
    store.complete(completed(pending()))
    schema = store._conn.execute("SELECT current_schema()").fetchone()[0]  # type: ignore[attr-defined]
    with psycopg.connect(PG_URL) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        row = conn.execute("SELECT SUM(charge_nano), SUM(input_tokens), "
                           "pg_typeof(MIN(started_at))::text FROM usage_records").fetchone()
    assert row == (6_250_000, 1_200, "timestamp with time zone")
