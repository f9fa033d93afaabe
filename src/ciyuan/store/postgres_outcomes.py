"""PostgreSQL outcome store (psycopg 3): the same contract as the SQLite one.

One connection per store, used by one thread at a time (a lock), autocommit with an explicit
transaction per call. ``add`` is ``INSERT … ON CONFLICT DO NOTHING`` then a read of the row
that won, so concurrent retries from many gateway workers store one report.
``schema`` puts the table in a schema of its own (tests use one per test).
"""

from __future__ import annotations

import builtins
import datetime as dt
import threading
from collections.abc import Iterable
from typing import Any

from ciyuan.core.outcomes import Outcome
from ciyuan.store.migrations import refusal
from ciyuan.store.outcome_schema import (
    OUTCOME_COLUMNS,
    POSTGRES_OUTCOME_MIGRATIONS,
    OutcomeSchemaError,
    outcome_from_row,
    outcome_values,
    stored_or_conflict,
)
from ciyuan.store.postgres_connect import connect_migrated, from_timestamptz, to_timestamptz
from ciyuan.store.usage_schema import pg_column

__all__ = ["PostgresOutcomeStore"]

_PG_COLS = [pg_column(c) for c in OUTCOME_COLUMNS]
_COLS = ", ".join(_PG_COLS)
_INSERT = (f"INSERT INTO outcomes ({_COLS}) VALUES ({', '.join(['%s'] * len(_PG_COLS))}) "
           "ON CONFLICT (tenant, id) DO NOTHING")
_SELECT = f"SELECT {_COLS} FROM outcomes"


def _outcome(row: tuple[Any, ...]) -> Outcome:
    return outcome_from_row(row, from_timestamptz)


class PostgresOutcomeStore:
    """The :class:`~ciyuan.store.outcomes.OutcomeStore` on PostgreSQL."""

    def __init__(self, dsn: str, *, schema: str | None = None) -> None:
        self._lock = threading.Lock()
        self._conn = connect_migrated(dsn, schema, POSTGRES_OUTCOME_MIGRATIONS,
                                      table="ciyuan_outcome_migrations",
                                      refuse=refusal(OutcomeSchemaError, "outcome"))

    def add(self, outcome: Outcome) -> Outcome:
        with self._lock, self._conn.transaction():
            self._conn.execute(_INSERT, outcome_values(outcome, to_timestamptz))
            row = self._conn.execute(f"{_SELECT} WHERE tenant = %s AND id = %s",
                                     (outcome.tenant, outcome.id)).fetchone()
            assert row is not None
            return stored_or_conflict(_outcome(row), outcome)

    def list(self, tenant: str | None, *, start: dt.datetime | None = None,
             end: dt.datetime | None = None, record_ids: Iterable[str] | None = None,
             task: str | None = None) -> builtins.list[Outcome]:
        where, params = ["TRUE"], builtins.list[object]()
        for clause, value in (("tenant = %s", tenant), ("reported_at >= %s", start),
                              ("reported_at < %s", end), ("task = %s", task)):
            if value is not None:
                where.append(clause)
                params.append(value)
        if record_ids is not None:
            where.append("record_id = ANY(%s)")
            params.append(sorted(set(record_ids)))
        with self._lock:
            rows = self._conn.execute(
                f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY reported_at, seq",
                params).fetchall()
        return [_outcome(row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
