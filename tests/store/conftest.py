"""The ledger store contract suite runs every test on SQLite and on PostgreSQL.

PostgreSQL runs when ``CIYUAN_TEST_PG`` names a server (a libpq URL, e.g.
``postgresql://postgres@127.0.0.1:5432/test``); each test session (each xdist worker) creates
its own database there and drops it at the end, and each test gets a fresh schema in it.
Without the variable the PostgreSQL cases are skipped with a message saying how to enable
them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_targets import BACKENDS, PG_ENV, PG_SKIP, Backend, Target, create_session_database

from ciyuan.store import LedgerStore


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh database for this test session (dropped at the end)."""
    base_url = os.environ.get(PG_ENV, "")
    if not base_url:
        pytest.skip(PG_SKIP)
    url, drop = create_session_database(base_url)
    yield url
    drop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Makes fresh ledger locations of one kind (sqlite, postgresql)."""
    database_url = None
    if request.param == "postgresql":
        database_url = request.getfixturevalue("pg_database_url")
    made = Backend(request.param, tmp_path, database_url)
    yield made
    made.cleanup()


@pytest.fixture
def store_target(backend: Backend) -> Target:
    """One fresh, empty ledger location (a SQLite file or a PostgreSQL schema)."""
    return backend.fresh()


@pytest.fixture
def ledger_store(store_target: Target) -> Iterator[LedgerStore]:
    """An open, migrated, empty ledger store whose clock reads 1,000 ns."""
    store = store_target.open(clock=lambda: 1_000)
    yield store
    store.close()
