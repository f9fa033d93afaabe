"""A fresh PostgreSQL database per test (for code that opens its own connections by URL), and
the fresh SQLite-or-PostgreSQL database URL of a test run on both."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def fresh_pg_database(prefix: str, what: str) -> Iterator[str]:
    """The URL of a new database on ``CIYUAN_TEST_PG``'s server, dropped afterwards; skips
    (saying how to enable ``what``) without one."""
    import psycopg

    base = os.environ.get("CIYUAN_TEST_PG")
    if not base:
        pytest.skip(f"set CIYUAN_TEST_PG=postgresql://postgres@127.0.0.1:5432/test to run {what}")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database_url(backend: str, tmp_path: Path, prefix: str, what: str, *,
                       file: str = "ciyuan.db") -> Iterator[str]:
    """For ``backend`` ``"sqlite"``: the URL of ``file`` in ``tmp_path``; for any other: a
    fresh PostgreSQL database as :func:`fresh_pg_database` makes it."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / file}"
        return
    with fresh_pg_database(prefix, what) as url:
        yield url
