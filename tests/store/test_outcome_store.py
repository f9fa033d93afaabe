"""Contract suite for outcome stores: the same tests on SQLite and PostgreSQL.

PostgreSQL runs when ``CIYUAN_TEST_PG`` names a database, e.g.
``CIYUAN_TEST_PG=postgresql://postgres@127.0.0.1:5432/test``; each test gets a schema of its
own (dropped afterwards).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from contract_stores import BACKENDS, contract_stores
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ciyuan.core.outcomes import OUTCOME_KINDS, Outcome
from ciyuan.store.outcome_schema import OutcomeConflictError, OutcomeSchemaError
from ciyuan.store.outcomes import OutcomeStore, open_outcome_store
from ciyuan.store.postgres_outcomes import PostgresOutcomeStore
from ciyuan.store.sqlite_outcomes import SqliteOutcomeStore

T0 = dt.datetime(2026, 11, 5, 8, 30, tzinfo=dt.UTC)
MakeStore = Callable[[], OutcomeStore]


@pytest.fixture(params=BACKENDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStore]:
    """A factory of stores on one fresh database; every store it made is closed after."""
    with contract_stores(request.param, tmp_path, "test_outcomes", sqlite=SqliteOutcomeStore,
                         postgres=PostgresOutcomeStore) as make:
        yield make


@pytest.fixture
def store(make_store: MakeStore) -> OutcomeStore:
    return make_store()


def _o(id: str = "o1", *, at: int = 0, tenant: str = "acme", record: str = "r1",
       task: str = "", outcome: str = "accepted", **kw: object) -> Outcome:
    return Outcome(id=id, tenant=tenant, record_id=record, task=task,
                   outcome=outcome,  # type: ignore[arg-type]
                   reported_at=T0 + dt.timedelta(seconds=at), **kw)  # type: ignore[arg-type]


def test_round_trip_keeps_every_field_exactly(store: OutcomeStore) -> None:
    full = _o(task="ticket-7", value=Decimal("1234.567890123"), currency="CNY",
              score=Decimal("0.123456789"), note="客户采纳了草稿")
    bare = _o("o2", outcome="rejected", record="", task="ticket-8")
    assert store.add(full) == full
    assert store.add(bare) == bare
    got = store.list("acme")
    assert got == [full, bare]
    assert got[0].reported_at == T0 and got[0].reported_at.tzinfo is not None
    assert got[0].value == Decimal("1234.567890123") and got[1].value is None


def test_same_id_same_body_is_a_no_op_returning_the_first(store: OutcomeStore) -> None:
    first = store.add(_o(at=0))
    again = store.add(_o(at=30))  # a retry, received later
    assert again == first and again.reported_at == T0
    assert store.list(None) == [first]


@pytest.mark.parametrize("change", [{"outcome": "rejected"}, {"record": "r2"},
                                    {"score": Decimal("0.5")}, {"note": "other"},
                                    {"value": Decimal("1"), "currency": "USD"}])
def test_same_id_other_body_is_a_conflict_and_stores_nothing(
        store: OutcomeStore, change: dict[str, object]) -> None:
    store.add(_o())
    with pytest.raises(OutcomeConflictError) as caught:
        store.add(_o(**change))  # type: ignore[arg-type]
    assert caught.value.code == "outcome-conflict"
    assert store.list(None) == [_o()]


def test_ids_are_per_tenant(store: OutcomeStore) -> None:
    a, b = _o(tenant="acme"), _o(tenant="globex", outcome="rejected")
    assert store.add(a) == a and store.add(b) == b
    assert store.list("acme") == [a] and store.list("globex") == [b]
    assert store.list("initech") == []


def test_list_filters_by_time_record_and_task(store: OutcomeStore) -> None:
    rows = [_o("a", at=0, record="r1", task="t"), _o("b", at=10, record="r2", task="t"),
            _o("c", at=20, record="r3"), _o("d", at=30, record="", task="t")]
    for row in reversed(rows):
        store.add(row)
    assert store.list("acme") == rows
    assert store.list("acme", start=T0 + dt.timedelta(seconds=10),
                      end=T0 + dt.timedelta(seconds=30)) == rows[1:3]
    assert store.list("acme", record_ids=["r2", "r3", "zz"]) == rows[1:3]
    assert store.list("acme", record_ids=[]) == []
    assert store.list("acme", task="t") == [rows[0], rows[1], rows[3]]
    assert store.list("acme", task="t", record_ids=["r1", "r3"]) == [rows[0]]


def test_ties_in_time_keep_arrival_order(store: OutcomeStore) -> None:
    later_id_first = [_o("z", outcome="rejected"), _o("a", outcome="accepted")]
    for row in later_id_first:
        store.add(row)
    assert [o.id for o in store.list("acme")] == ["z", "a"]


def test_reports_survive_reopening(make_store: MakeStore) -> None:
    first = make_store()
    first.add(_o())
    first.close()
    assert make_store().list("acme") == [_o()]


def test_concurrent_retries_store_one_report(make_store: MakeStore) -> None:
    stores = [make_store() for _ in range(4)]
    results: list[Outcome] = []
    errors: list[BaseException] = []

    def send(s: OutcomeStore) -> None:
        try:
            results.append(s.add(_o("same")))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=send, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors and len(results) == 4 and len(set(results)) == 1
    assert len(stores[0].list(None)) == 1


def test_open_outcome_store_by_url(tmp_path: Path) -> None:
    store = open_outcome_store(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        assert store.add(_o()) == _o()
    finally:
        store.close()


def test_sqlite_rows_are_append_only_and_newer_schemas_refused(tmp_path: Path) -> None:
    path = tmp_path / "ciyuan.db"
    SqliteOutcomeStore(path).close()
    SqliteOutcomeStore(path).add(_o())
    conn = sqlite3.connect(path)
    for statement in ("UPDATE outcomes SET outcome = 'rejected'", "DELETE FROM outcomes"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(statement)
    conn.execute("INSERT INTO _outcome_migrations (name) VALUES ('9999-from-the-future')")
    conn.commit()
    conn.close()
    with pytest.raises(OutcomeSchemaError):
        SqliteOutcomeStore(path)


_reports = st.builds(
    lambda i, at, kind, value, score: dataclasses.replace(
        _o(f"h{i}", at=at, record=f"r{i % 3}", outcome=kind),
        value=value, currency="USD" if value is not None else "", score=score),
    st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(OUTCOME_KINDS),
    st.none() | st.decimals(min_value=Decimal("0.000000001"), max_value=Decimal(10**9),
                            places=9),
    st.none() | st.decimals(min_value=0, max_value=1, places=9))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_reports, max_size=8, unique_by=lambda o: o.id))
def test_any_valid_reports_round_trip(store: OutcomeStore, reports: list[Outcome]) -> None:
    tag = uuid.uuid4().hex  # one tenant per example: the store is shared between examples
    mine = [dataclasses.replace(o, tenant=tag) for o in reports]
    for o in mine:
        assert store.add(o) == o
    assert store.list(tag) == sorted(mine, key=lambda o: o.reported_at)
