"""PostgreSQL usage-record store (psycopg 3): the same contract as the SQLite one.

One connection per store, used by one thread at a time (a lock), in autocommit mode with an
explicit transaction per call. ``begin`` is ``INSERT … ON CONFLICT DO NOTHING`` (and a read
only when the id existed); ``complete`` is one ``UPDATE`` of the row while it is still
pending, and otherwise locks the row (``SELECT … FOR UPDATE``) before it decides, so
concurrent completions from many gateway workers apply exactly once. Timestamps are ``timestamptz``,
money and counts ``BIGINT``.

``schema`` puts the tables in a schema of their own (created if missing; tests use one per
test so parallel workers never collide); by default the connection's ``search_path`` decides.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from ciyuan.core.records import UsageRecord
from ciyuan.store.migrations import refusal
from ciyuan.store.postgres_connect import connect_migrated, from_timestamptz, to_timestamptz
from ciyuan.store.usage_schema import (
    COMPLETION_COLUMNS,
    POSTGRES_DDL,
    RECORD_COLUMNS,
    UsageRecordNotFoundError,
    UsageSchemaError,
    check_begin,
    check_completion,
    completion_applies,
    completion_params,
    pg_column,
    record_from_row,
    record_values,
)

__all__ = ["PostgresUsageStore"]

_PG_COLS = [pg_column(c) for c in RECORD_COLUMNS]
_COLS = ", ".join(_PG_COLS)
_MARKS = ", ".join(["%s"] * len(_PG_COLS))
_INSERT = (f"INSERT INTO usage_records ({_COLS}) VALUES ({_MARKS}) "
           "ON CONFLICT (id) DO NOTHING")
#: A completion of a record still pending that names its tenant and start time
_COMPLETE = (f"UPDATE usage_records SET ({', '.join(pg_column(c) for c in COMPLETION_COLUMNS)})"
             f" = ROW({', '.join(['%s'] * len(COMPLETION_COLUMNS))}) "
             "WHERE id = %s AND status = 'pending' AND tenant = %s AND started_at = %s")
_SELECT = f"SELECT {_COLS} FROM usage_records"
#: Rows per page of ``query``: bounds memory and the length of one statement.
DEFAULT_PAGE_SIZE = 1000


def _record(row: tuple[Any, ...]) -> UsageRecord:
    return record_from_row(row, from_timestamptz)


def _values(record: UsageRecord) -> tuple[object, ...]:
    return record_values(record, to_timestamptz)


class PostgresUsageStore:
    """The :class:`~ciyuan.store.usage.UsageStore` on PostgreSQL."""

    def __init__(self, dsn: str, *, schema: str | None = None,
                 page_size: int = DEFAULT_PAGE_SIZE) -> None:
        assert page_size > 0
        self._page_size = page_size
        self._lock = threading.Lock()
        self._conn = connect_migrated(dsn, schema, POSTGRES_DDL,
                                      table="ciyuan_usage_migrations",
                                      refuse=refusal(UsageSchemaError, "usage"))

    def _one(self, record_id: str, *, lock: bool = False) -> UsageRecord | None:
        query = f"{_SELECT} WHERE id = %s" + (" FOR UPDATE" if lock else "")
        row = self._conn.execute(query, (record_id,)).fetchone()
        return None if row is None else _record(row)

    def begin(self, record: UsageRecord) -> UsageRecord:
        check_begin(record)
        with self._lock, self._conn.transaction():
            if self._conn.execute(_INSERT, _values(record)).rowcount == 1:
                return record  # inserted: the stored record is this one
            stored = self._one(record.id)
        assert stored is not None
        return stored

    def complete(self, record: UsageRecord) -> UsageRecord:
        check_completion(record)
        values = _values(record)
        with self._lock, self._conn.transaction():
            # the common case in one statement: still pending, same tenant and start (a
            # concurrent completion waits for this row and then finds it no longer pending)
            if self._conn.execute(_COMPLETE, completion_params(record, values)).rowcount == 1:
                return record
            stored = self._one(record.id, lock=True)
            if stored is None:
                raise UsageRecordNotFoundError(
                    f"no usage record {record.id!r}; write it with begin() first",
                    id=record.id)
            completion_applies(stored, record)  # raises, or says it is final already
            return stored

    def get(self, record_ids: Iterable[str]) -> dict[str, UsageRecord]:
        ids = sorted(set(record_ids))
        if not ids:
            return {}
        with self._lock:
            rows = self._conn.execute(f"{_SELECT} WHERE id = ANY(%s)",
                                      (ids,)).fetchall()
        return {row[0]: _record(row) for row in rows}

    def pending(self, started_before: dt.datetime) -> list[UsageRecord]:
        with self._lock:
            rows = self._conn.execute(
                f"{_SELECT} WHERE status = 'pending' AND started_at < %s "
                "ORDER BY started_at, id", (started_before,)).fetchall()
        return [_record(row) for row in rows]

    def task_records(self, tenant: str, task: str, *, limit: int) -> list[UsageRecord]:
        assert limit > 0
        with self._lock:
            rows = self._conn.execute(
                f"{_SELECT} WHERE tenant = %s AND task = %s AND task <> '' "
                "ORDER BY started_at, id LIMIT %s", (tenant, task, limit)).fetchall()
        return [_record(row) for row in rows]

    def query(self, start: dt.datetime, end: dt.datetime, tenant: str | None = None,
              statuses: tuple[str, ...] = ("completed", "reconciled"),
              ) -> Iterator[UsageRecord]:
        """Pages of ``page_size`` rows by keyset (started_at, id), one statement each."""
        if not statuses:
            return
        where = "status = ANY(%s) AND started_at >= %s AND started_at < %s"
        params: list[object] = [list(statuses), start, end]
        if tenant is not None:
            where += " AND tenant = %s"
            params.append(tenant)
        after: tuple[dt.datetime, str] | None = None
        while True:
            keyset = "" if after is None else " AND (started_at, id) > (%s, %s)"
            with self._lock:
                rows = self._conn.execute(
                    f"{_SELECT} WHERE {where}{keyset} "
                    "ORDER BY started_at, id LIMIT %s",
                    (*params, *(after or ()), self._page_size)).fetchall()
            yield from (_record(row) for row in rows)
            if len(rows) < self._page_size:
                return
            after = (rows[-1][RECORD_COLUMNS.index("started_at_us")], rows[-1][0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
