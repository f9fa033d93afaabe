"""SQLite outcome store: WAL, one writer connection, ``BEGIN IMMEDIATE`` per write.

It shares the database file with the usage and ledger stores; its table (``outcomes``) and
migration history (``_outcome_migrations``) have their own names.
"""

from __future__ import annotations

import builtins
import datetime as dt
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from ciyuan.core.outcomes import Outcome
from ciyuan.store.migrations import apply_migrations, refusal
from ciyuan.store.outcome_schema import (
    OUTCOME_COLUMNS,
    OUTCOME_MIGRATIONS,
    OutcomeSchemaError,
    outcome_from_row,
    outcome_values,
    stored_or_conflict,
)
from ciyuan.store.usage_schema import from_us, to_us

__all__ = ["SqliteOutcomeStore"]

_COLS = ", ".join(OUTCOME_COLUMNS)
_INSERT = (f"INSERT INTO outcomes ({_COLS}) VALUES ({', '.join('?' * len(OUTCOME_COLUMNS))}) "
           "ON CONFLICT (tenant, id) DO NOTHING")
_SELECT = f"SELECT {_COLS} FROM outcomes"
#: Record ids per ``IN (...)`` query, well under SQLite's bound on host parameters.
_IN_CHUNK = 500


def _outcome(row: tuple[object, ...]) -> Outcome:
    return outcome_from_row(row, from_us)


class SqliteOutcomeStore:
    """The :class:`~ciyuan.store.outcomes.OutcomeStore` on one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()  # the one writer
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")  # an acknowledged report survives
        self._conn.execute("PRAGMA busy_timeout=10000")  # other processes: wait up to 10 s
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                apply_migrations(self._conn, OUTCOME_MIGRATIONS, table="_outcome_migrations",
                                 refuse=refusal(OutcomeSchemaError, "outcome"))
            except BaseException:
                self._conn.execute("ROLLBACK")
                self._conn.close()
                raise
            self._conn.execute("COMMIT")

    def add(self, outcome: Outcome) -> Outcome:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(_INSERT, outcome_values(outcome, to_us))
                row = self._conn.execute(f"{_SELECT} WHERE tenant = ? AND id = ?",
                                         (outcome.tenant, outcome.id)).fetchone()
                stored = stored_or_conflict(_outcome(row), outcome)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return stored

    def list(self, tenant: str | None, *, start: dt.datetime | None = None,
             end: dt.datetime | None = None, record_ids: Iterable[str] | None = None,
             task: str | None = None) -> builtins.list[Outcome]:
        where, params = ["1 = 1"], builtins.list[object]()
        if tenant is not None:
            where.append("tenant = ?")
            params.append(tenant)
        if start is not None:
            where.append("reported_at_us >= ?")
            params.append(to_us(start))
        if end is not None:
            where.append("reported_at_us < ?")
            params.append(to_us(end))
        if task is not None:
            where.append("task = ?")
            params.append(task)
        chunks: builtins.list[builtins.list[str] | None] = [None]
        if record_ids is not None:
            ids = sorted(set(record_ids))
            chunks = [ids[i:i + _IN_CHUNK] for i in range(0, len(ids), _IN_CHUNK)]
        found: builtins.list[tuple[int, int, Outcome]] = []
        with self._lock:
            for chunk in chunks:
                extra = "" if chunk is None else f" AND record_id IN ({','.join('?' * len(chunk))})"
                rows = self._conn.execute(
                    f"SELECT seq, reported_at_us, {_COLS} FROM outcomes "
                    f"WHERE {' AND '.join(where)}{extra}", (*params, *(chunk or ()))).fetchall()
                found.extend((row[1], row[0], _outcome(row[2:])) for row in rows)
        found.sort(key=lambda item: (item[0], item[1]))
        return [o for _, _, o in found]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
