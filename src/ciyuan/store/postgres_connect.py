"""Open a PostgreSQL store's connection: connect, place it in its schema, run its migrations.

The usage, outcome, judge-score and invoice stores each hold one autocommit connection. With
``schema`` their tables live in a schema of their own (created if missing; tests use one per
test so parallel workers never collide); by default the connection's ``search_path`` decides.
Timestamps go in and come out as ``timestamptz``: :func:`to_timestamptz` and
:func:`from_timestamptz` are the converters a store's row mapping takes (the SQLite stores
pass ``to_us`` / ``from_us`` in their place).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from ciyuan.store.migrations import Migration, Refusal, apply_pg_migrations

__all__ = ["connect_migrated", "from_timestamptz", "to_timestamptz"]


def connect_migrated(dsn: str, schema: str | None, migrations: Sequence[Migration], *,
                     table: str, refuse: Refusal) -> psycopg.Connection[Any]:
    """An autocommit connection to ``dsn`` with ``migrations`` applied and recorded in
    ``table``, under the advisory lock named after ``table`` and ``schema`` (so stores in
    different schemas migrate independently); closed again if any step fails."""
    conn = psycopg.connect(dsn, autocommit=True)
    try:
        if schema is not None:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(schema)))
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        apply_pg_migrations(conn, migrations, table=table,
                            lock=f"{table.replace('_', '-')}:{schema or ''}", refuse=refuse)
    except BaseException:
        conn.close()
        raise
    return conn


def from_timestamptz(value: dt.datetime) -> dt.datetime:
    """A ``timestamptz`` read back, in UTC (psycopg returns the session's time zone)."""
    return value.astimezone(dt.UTC)


def to_timestamptz(value: dt.datetime) -> dt.datetime:
    """A timezone-aware datetime as psycopg sends it: unchanged."""
    return value
