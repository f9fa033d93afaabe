"""SQLite usage-record store: WAL, one writer connection, ``BEGIN IMMEDIATE`` per write.

It can share the database file with :class:`~ciyuan.store.SqliteLedgerStore`: its tables
(``usage_records``) and its migration history (``_usage_migrations``) have their own names.
Every write is one IMMEDIATE transaction (no other process writes between our read and our
write), so ``begin`` and ``complete`` are atomic across processes as well as threads.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from ciyuan.core.records import UsageRecord
from ciyuan.store.migrations import apply_migrations, refusal
from ciyuan.store.sqlite_connect import id_chunks
from ciyuan.store.sqlite_writer import SqliteWriter
from ciyuan.store.usage_schema import (
    COMPLETION_COLUMNS,
    RECORD_COLUMNS,
    USAGE_MIGRATIONS,
    UsageRecordNotFoundError,
    UsageSchemaError,
    check_begin,
    check_completion,
    completion_applies,
    completion_params,
    from_us,
    record_from_row,
    record_values,
    to_us,
)

__all__ = ["SqliteUsageStore"]

_COLS = ", ".join(RECORD_COLUMNS)
_INSERT = (f"INSERT INTO usage_records ({_COLS}) VALUES ({', '.join('?' * len(RECORD_COLUMNS))})"
           " ON CONFLICT (id) DO NOTHING")
#: A completion of a record still pending that names its tenant and start time
_COMPLETE = ("UPDATE usage_records SET ({cols}) = ({marks}) WHERE id = ? AND status = 'pending' "
             "AND tenant = ? AND started_at_us = ?"
             .format(cols=", ".join(COMPLETION_COLUMNS),
                     marks=", ".join("?" * len(COMPLETION_COLUMNS))))
#: Rows per page of ``query``: bounds memory and how long one read holds the lock.
DEFAULT_PAGE_SIZE = 1000


def _record(row: sqlite3.Row) -> UsageRecord:
    return record_from_row(tuple(row), from_us)


class SqliteUsageStore:
    """The :class:`~ciyuan.store.usage.UsageStore` on one SQLite file."""

    def __init__(self, path: str | Path, *, page_size: int = DEFAULT_PAGE_SIZE,
                 durable_at_commit: bool = True, writer: SqliteWriter | None = None) -> None:
        assert page_size > 0
        self._page_size = page_size
        # a writer given is shared with the other stores of a gateway (sqlite_writer)
        self._own_writer = writer is None
        self._writer = writer or SqliteWriter(path, durable_at_commit=durable_at_commit)
        self._lock = self._writer.lock  # the one writer: held for a transaction or a read
        self._conn = self._writer.conn
        with self._writer.transaction() as conn:
            apply_migrations(conn, USAGE_MIGRATIONS, table="_usage_migrations",
                             refuse=refusal(UsageSchemaError, "usage"))

    def _one(self, conn: sqlite3.Connection, record_id: str) -> UsageRecord | None:
        row = conn.execute(f"SELECT {_COLS} FROM usage_records WHERE id = ?",
                           (record_id,)).fetchone()
        return None if row is None else _record(row)

    def begin(self, record: UsageRecord) -> UsageRecord:
        check_begin(record)
        with self._writer.transaction(single_write=True) as conn:
            if conn.execute(_INSERT, record_values(record, to_us)).rowcount == 1:
                return record  # inserted: the stored record is this one
            stored = self._one(conn, record.id)
        assert stored is not None
        return stored

    def complete(self, record: UsageRecord) -> UsageRecord:
        check_completion(record)
        values = record_values(record, to_us)
        with self._writer.transaction(single_write=True) as conn:
            # the common case in one statement: still pending, same tenant and start
            if conn.execute(_COMPLETE, completion_params(record, values)).rowcount == 1:
                return record
            stored = self._one(conn, record.id)
            if stored is None:
                raise UsageRecordNotFoundError(
                    f"no usage record {record.id!r}; write it with begin() first",
                    id=record.id)
            completion_applies(stored, record)  # raises, or says it is final already
            return stored

    def get(self, record_ids: Iterable[str]) -> dict[str, UsageRecord]:
        found = {}
        with self._lock:
            for chunk in id_chunks(record_ids):
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(
                        f"SELECT {_COLS} FROM usage_records WHERE id IN ({marks})", chunk):
                    found[row["id"]] = _record(row)
        return found

    def pending(self, started_before: dt.datetime) -> list[UsageRecord]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLS} FROM usage_records WHERE status = 'pending' "
                "AND started_at_us < ? ORDER BY started_at_us, id",
                (to_us(started_before),)).fetchall()
        return [_record(row) for row in rows]

    def task_records(self, tenant: str, task: str, *, limit: int) -> list[UsageRecord]:
        assert limit > 0
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLS} FROM usage_records WHERE tenant = ? AND task = ? AND task <> ''"
                " ORDER BY started_at_us, id LIMIT ?", (tenant, task, limit)).fetchall()
        return [_record(row) for row in rows]

    def query(self, start: dt.datetime, end: dt.datetime, tenant: str | None = None,
              statuses: tuple[str, ...] = ("completed", "reconciled"),
              ) -> Iterator[UsageRecord]:
        """Pages of ``page_size`` rows by keyset (started_at, id); the lock is not held
        between pages, so writers are never blocked by a slow reader."""
        if not statuses:
            return
        where = [f"status IN ({','.join('?' * len(statuses))})", "started_at_us < ?"]
        params: list[object] = [*statuses, to_us(end)]
        if tenant is not None:
            where.append("tenant = ?")
            params.append(tenant)
        where.append("started_at_us >= ?")
        params.append(to_us(start))
        after: tuple[int, str] | None = None
        while True:
            keyset = "" if after is None else " AND (started_at_us, id) > (?, ?)"
            with self._lock:
                rows = self._conn.execute(
                    f"SELECT {_COLS} FROM usage_records WHERE {' AND '.join(where)}{keyset} "
                    "ORDER BY started_at_us, id LIMIT ?",
                    (*params, *(after or ()), self._page_size)).fetchall()
            yield from (_record(row) for row in rows)
            if len(rows) < self._page_size:
                return
            after = (rows[-1]["started_at_us"], rows[-1]["id"])

    def close(self) -> None:
        if self._own_writer:
            self._writer.close()
