"""Where a contract test's ledger lives: a fresh SQLite file or a fresh PostgreSQL schema.

A *backend* makes *targets*; a target is one empty database location with a URL (for
``open_ledger_store``, subprocesses and the CLI), a way to open the store, and raw SQL access
for tests that tamper with the tables. PostgreSQL targets are schemas inside one database
that the test session creates and drops (see ``conftest.py``), so parallel workers and reruns
never share a table.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from ciyuan.ledger import GENESIS_HASH
from ciyuan.store import LedgerStore
from ciyuan.store.open import open_ledger_store

PG_ENV = "CIYUAN_TEST_PG"
PG_SKIP = (f"PostgreSQL store tests are off: set {PG_ENV}=postgresql://postgres@127.0.0.1:5432/"
           "test (any database the user may CREATE DATABASE on) to run them")
BACKENDS = ("sqlite", "postgresql")
#: Session databases older than this are leftovers of killed runs and are dropped.
STALE_DATABASE_S = 6 * 3600
_DB_PREFIX = "ciyuan_test_"


def with_query(url: str, **params: str) -> str:
    """``url`` with libpq query parameters added."""
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    return f"{url}{'&' if '?' in url else '?'}{query}"


class Target:
    """One fresh, empty ledger location."""

    name: str
    url: str

    def open(self, clock: Callable[[], int] | None = None) -> LedgerStore:
        return open_ledger_store(self.url) if clock is None else open_ledger_store(
            self.url, clock=clock)

    def sql(self, statement: str) -> list[tuple[Any, ...]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def disable_journal_guards(self) -> None:
        """Drop the append-only triggers, as someone with database access can."""
        raise NotImplementedError

    def reset(self) -> None:
        """Empty the ledger again (every store on it closed), cheaper than a fresh target."""
        raise NotImplementedError

    def drop(self) -> None:
        """Remove what the target holds (the backend's own cleanup also covers it)."""


class SqliteTarget(Target):
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"

    def sql(self, statement: str) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.path)
        try:
            rows = conn.execute(statement).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()

    def disable_journal_guards(self) -> None:
        self.sql("DROP TRIGGER journal_no_update")
        self.sql("DROP TRIGGER journal_no_delete")

    def reset(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


class PostgresTarget(Target):
    name = "postgresql"
    #: The triggers that refuse TRUNCATE (see ciyuan.store.postgres_schema).
    GUARDS = (("journal", "journal_no_truncate"), ("accounts", "accounts_no_delete"))

    def __init__(self, admin: psycopg.Connection[Any], database_url: str, schema: str) -> None:
        self.admin, self.schema = admin, schema
        self.url = with_query(database_url, options=f"-csearch_path={schema}")
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))

    def sql(self, statement: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(statement.encode())
            return cursor.fetchall() if cursor.description else []

    def disable_journal_guards(self) -> None:
        for trigger in ("journal_no_update", "journal_no_delete", "journal_no_truncate"):
            self.sql(f"DROP TRIGGER {trigger} ON journal")

    def reset(self) -> None:
        """Truncate the tables (the table owner may switch the guard off for that); the
        migrations stay, so the next open skips them."""
        with self.admin.transaction():
            self.admin.execute(sql.SQL("SET LOCAL search_path TO {}").format(
                sql.Identifier(self.schema)))
            for table, guard in self.GUARDS:
                self.admin.execute(f"ALTER TABLE {table} DISABLE TRIGGER {guard}")
            self.admin.execute("TRUNCATE journal, pendings, accounts")
            for table, guard in self.GUARDS:
                self.admin.execute(f"ALTER TABLE {table} ENABLE TRIGGER {guard}")
            self.admin.execute("UPDATE journal_head SET seq = 0, hash = %s", (GENESIS_HASH,))

    def drop(self) -> None:
        if not self.admin.closed:
            self.admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(self.schema)))


class Backend:
    """Makes fresh targets of one kind and removes them all at the end."""

    def __init__(self, name: str, root: Path, database_url: str | None = None) -> None:
        self.name, self.root, self.database_url = name, root, database_url
        self._count = itertools.count()
        self.made: list[Target] = []
        self._admin: psycopg.Connection[Any] | None = None

    def fresh(self) -> Target:
        n = next(self._count)
        target: Target
        if self.name == "sqlite":
            target = SqliteTarget(self.root / f"ledger-{n}.db")
        else:
            assert self.database_url is not None
            if self._admin is None:
                self._admin = psycopg.connect(self.database_url, autocommit=True)
            target = PostgresTarget(self._admin, self.database_url,
                                    f"t{n}_{uuid.uuid4().hex[:8]}")
        self.made.append(target)
        return target

    def cleanup(self) -> None:
        for target in self.made:
            target.drop()
        self.made.clear()
        if self._admin is not None:
            self._admin.close()
            self._admin = None


def create_session_database(base_url: str) -> tuple[str, Callable[[], None]]:
    """A new, empty database next to ``base_url``'s; its URL and a function that drops it.

    Leftover session databases of killed runs (older than ``STALE_DATABASE_S``) are dropped
    first; the name carries the creation time for that.
    """
    name = f"{_DB_PREFIX}{int(time.time())}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        for (stale,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                     (_DB_PREFIX + "%",)).fetchall():
            born = stale.removeprefix(_DB_PREFIX).split("_")[0]
            if born.isdigit() and time.time() - int(born) > STALE_DATABASE_S:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(stale)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(base_url)._replace(path=f"/{name}"))

    def drop() -> None:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))

    return url, drop
