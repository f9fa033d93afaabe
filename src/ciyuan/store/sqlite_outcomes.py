"""SQLite outcome store: WAL, one writer connection, ``BEGIN IMMEDIATE`` per write.

It shares the database file with the usage and ledger stores; its table (``outcomes``) and
migration history (``_outcome_migrations``) have their own names.
"""

from __future__ import annotations

import builtins
import datetime as dt
import threading
from collections.abc import Iterable
from pathlib import Path

from ciyuan.core.outcomes import Outcome
from ciyuan.store.migrations import refusal
from ciyuan.store.outcome_schema import (
    OUTCOME_COLUMNS,
    OUTCOME_MIGRATIONS,
    OutcomeSchemaError,
    outcome_from_row,
    outcome_values,
    stored_or_conflict,
)
from ciyuan.store.sqlite_connect import id_chunks, immediate, open_migrated
from ciyuan.store.usage_schema import from_us, to_us

__all__ = ["SqliteOutcomeStore"]

_COLS = ", ".join(OUTCOME_COLUMNS)
_INSERT = (f"INSERT INTO outcomes ({_COLS}) VALUES ({', '.join('?' * len(OUTCOME_COLUMNS))}) "
           "ON CONFLICT (tenant, id) DO NOTHING")
_SELECT = f"SELECT {_COLS} FROM outcomes"


def _outcome(row: tuple[object, ...]) -> Outcome:
    return outcome_from_row(row, from_us)


class SqliteOutcomeStore:
    """The :class:`~ciyuan.store.outcomes.OutcomeStore` on one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()  # the one writer
        self._conn = open_migrated(path, OUTCOME_MIGRATIONS, table="_outcome_migrations",
                                   refuse=refusal(OutcomeSchemaError, "outcome"))

    def add(self, outcome: Outcome) -> Outcome:
        with immediate(self._lock, self._conn) as conn:
            conn.execute(_INSERT, outcome_values(outcome, to_us))
            row = conn.execute(f"{_SELECT} WHERE tenant = ? AND id = ?",
                               (outcome.tenant, outcome.id)).fetchone()
            return stored_or_conflict(_outcome(row), outcome)

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
            chunks = [*id_chunks(record_ids)]
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
