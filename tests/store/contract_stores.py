"""The factory behind the usage, outcome and judge-score contract suites: stores on one fresh
SQLite file or one fresh PostgreSQL schema.

PostgreSQL runs when ``CIYUAN_TEST_PG`` names a database, e.g.
``CIYUAN_TEST_PG=postgresql://postgres@127.0.0.1:5432/test``; each test gets a schema of its
own (dropped afterwards), so parallel workers never collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

import psycopg
import pytest
from psycopg import sql

__all__ = ["BACKENDS", "PG_URL", "contract_stores"]

PG_URL = os.environ.get("CIYUAN_TEST_PG", "")
PG_HOWTO = ("PostgreSQL contract tests need a database: set "
            "CIYUAN_TEST_PG=postgresql://postgres@127.0.0.1:5432/test")
#: The ``params`` of a contract suite's store fixture.
BACKENDS = ("sqlite", "postgres")


class _Store(Protocol):
    def close(self) -> None: ...


S = TypeVar("S", bound=_Store)


@contextmanager
def contract_stores(backend: str, tmp_path: Path, prefix: str, *,
                    sqlite: Callable[..., S], postgres: Callable[..., S],
                    ) -> Iterator[Callable[..., S]]:
    """A factory of stores on one fresh database: ``sqlite(tmp_path / "ciyuan.db", **kw)``
    or ``postgres(PG_URL, schema=<prefix_pid_random>, **kw)`` (skipped without
    ``CIYUAN_TEST_PG``). Every store it made is closed after, and the schema dropped."""
    opened: list[S] = []
    schema = ""
    if backend == "postgres":
        if not PG_URL:
            pytest.skip(PG_HOWTO)
        schema = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:12]}"

    def make(**kwargs: Any) -> S:
        store = postgres(PG_URL, schema=schema, **kwargs) if schema else \
            sqlite(tmp_path / "ciyuan.db", **kwargs)
        opened.append(store)
        return store

    try:
        yield make
    finally:
        for store in opened:
            store.close()
        if schema:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))
