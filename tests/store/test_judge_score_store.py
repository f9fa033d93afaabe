"""Contract suite for judge-score stores: the same tests on SQLite and PostgreSQL.

PostgreSQL runs when ``CIYUAN_TEST_PG`` names a database, e.g.
``CIYUAN_TEST_PG=postgresql://postgres@127.0.0.1:5432/test``; each test gets a schema of its
own (dropped afterwards).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from contract_stores import BACKENDS, contract_stores

from ciyuan.quality.live import JudgeScore
from ciyuan.store.judge_score_schema import JudgeScoreSchemaError
from ciyuan.store.judge_scores import JudgeScoreStore, open_judge_score_store
from ciyuan.store.postgres_judge_scores import PostgresJudgeScoreStore
from ciyuan.store.sqlite_judge_scores import SqliteJudgeScoreStore

T0 = dt.datetime(2026, 11, 5, 8, 30, 0, 123456, tzinfo=dt.UTC)
MakeStore = Callable[[], JudgeScoreStore]


@pytest.fixture(params=BACKENDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStore]:
    with contract_stores(request.param, tmp_path, "test_judge", sqlite=SqliteJudgeScoreStore,
                         postgres=PostgresJudgeScoreStore) as make:
        yield make


def _score(record: str = "ur-1", tenant: str = "acme", **changes: object) -> JudgeScore:
    base = JudgeScore(record, tenant, "gpt-4o", "grade-answer@1", 1.0, True, "ur-j1", T0)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_add_round_trips_and_is_idempotent(make_store: MakeStore) -> None:
    store = make_store()
    first = _score()
    assert store.add(first) == first
    # the same call, judge and rubric again: the first score stays
    assert store.add(_score(value=0.0, passed=False, judge_record_id="ur-j2")) == first
    other_rubric = _score(rubric="grade-answer@2", value=0.0, passed=False)
    assert store.add(other_rubric) == other_rubric
    failed = _score("ur-2", value=0.0, passed=False, error="no verdict line")
    store.add(failed)
    assert store.list("acme") == [first, other_rubric, failed]
    assert make_store().list(None, record_ids=["ur-2"]) == [failed]  # durable, by record


def test_tenants_see_only_their_own_scores(make_store: MakeStore) -> None:
    store = make_store()
    mine, theirs = _score("ur-a", "acme"), _score("ur-b", "globex")
    store.add(mine)
    store.add(theirs)
    assert store.list("acme") == [mine]
    assert store.list("acme", record_ids=["ur-b"]) == []
    assert store.list(None) == [mine, theirs]
    assert store.list("acme", record_ids=[]) == []


def test_concurrent_adds_of_one_call_store_one_score(make_store: MakeStore) -> None:
    stores = [make_store() for _ in range(4)]
    results: list[JudgeScore] = []

    def add(store: JudgeScoreStore, n: int) -> None:
        results.append(store.add(_score(judge_record_id=f"ur-j{n}")))

    threads = [threading.Thread(target=add, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len({r.judge_record_id for r in results}) == 1
    assert len(stores[0].list(None)) == 1


def test_open_and_newer_schema_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    store = open_judge_score_store(url)
    store.add(_score())
    store.close()
    conn = sqlite3.connect(tmp_path / "x.db")
    conn.execute("INSERT INTO _judge_score_migrations (name) VALUES ('9999-from-the-future')")
    conn.commit()
    conn.close()
    with pytest.raises(JudgeScoreSchemaError):
        open_judge_score_store(url)
