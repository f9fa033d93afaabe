"""Named, ordered schema migrations recorded in a ``_migrations`` table (sqlite-utils style).

Each migration runs once, in order, inside the caller's transaction; the table records its
name and when it ran. A database that has a migration this code does not know was written by
a newer ciyuan and is refused. The same runner serves SQLite (:func:`apply_migrations`) and
PostgreSQL (:func:`apply_pg_migrations`), and every family of tables (ledger, usage records,
identity, invoices), each recording its history in its own table.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ciyuan.ledger.errors import LedgerSchemaError

__all__ = ["Execute", "Migration", "Refusal", "apply_migrations", "apply_pg_migrations",
           "refusal", "run_migrations"]

#: Run one SQL statement with positional parameters; the rows it returns (if any).
Execute = Callable[[str, Sequence[Any]], Iterable[Sequence[Any]]]

#: The ``seq`` column numbers rows in insertion order in each dialect.
_SEQ_COLUMN = {"?": "seq INTEGER PRIMARY KEY", "%s": "seq BIGSERIAL PRIMARY KEY"}

#: Builds the error for a database whose recorded migrations this ciyuan does not know.
Refusal = Callable[[list[str], list[str]], Exception]


def refusal(error: Callable[..., Exception], family: str) -> Refusal:
    """A :data:`Refusal` raising ``error`` with the standard message for ``family``."""

    def refuse(done: list[str], known: list[str]) -> Exception:
        return error(f"{family} migrations {done} do not match this ciyuan's {known}; upgrade "
                     "ciyuan or use another database", applied=done)

    return refuse


@dataclass(frozen=True)
class Migration:
    """One named step; ``statements`` run in order (one SQL statement each, so that
    triggers, whose bodies hold semicolons, need no splitting)."""

    name: str
    statements: tuple[str, ...]


def apply_migrations(conn: sqlite3.Connection, migrations: Sequence[Migration], *,
                     table: str = "_migrations", refuse: Refusal | None = None) -> list[str]:
    """Run the migrations not yet recorded on a SQLite connection; the names of those that
    ran. The caller holds a write transaction (``BEGIN IMMEDIATE``)."""
    return run_migrations(conn.execute, migrations, placeholder="?", table=table,
                          refuse=refuse)


def apply_pg_migrations(conn: Any, migrations: Sequence[Migration], *, table: str, lock: str,
                        refuse: Refusal) -> list[str]:
    """Run the migrations not yet recorded on a PostgreSQL connection (autocommit), in one
    transaction under the advisory lock ``lock``: one migrator at a time, the others wait and
    then find nothing to do."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (lock,))
        return run_migrations(lambda query, params: conn.execute(query, params or None),
                              migrations, placeholder="%s", table=table, refuse=refuse)


def run_migrations(execute: Execute, migrations: Sequence[Migration], *, placeholder: str,
                   table: str = "_migrations", refuse: Refusal | None = None) -> list[str]:
    """Run the migrations not yet recorded in ``table`` through ``execute``; the names of
    those that ran.

    ``placeholder`` is the driver's parameter marker (``?`` for SQLite, ``%s`` for
    PostgreSQL). Each family of tables (ledger, usage, identity, invoices) records its own
    history in its own table. The caller holds a transaction that no other migrating process
    can enter.
    """
    execute(f"CREATE TABLE IF NOT EXISTS {table} ({_SEQ_COLUMN[placeholder]}, "
            "name TEXT NOT NULL UNIQUE, applied_at_ns BIGINT)", ())
    done = [str(row[0]) for row in execute(f"SELECT name FROM {table} ORDER BY seq", ())]
    known = [m.name for m in migrations]
    if done != known[:len(done)]:
        raise (refuse or _LEDGER_REFUSAL)(done, known)
    ran = []
    insert = f"INSERT INTO {table} (name, applied_at_ns) VALUES ({placeholder}, {placeholder})"
    for migration in migrations[len(done):]:
        for statement in migration.statements:
            execute(statement, ())
        execute(insert, (migration.name, time.time_ns()))
        ran.append(migration.name)
    return ran


_LEDGER_REFUSAL = refusal(LedgerSchemaError, "database")
