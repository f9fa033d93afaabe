"""Open the ledger store a database URL names (``--db URL`` / ``CIYUAN_DB``).

- ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` (SQLAlchemy's form) →
  :class:`~ciyuan.store.SqliteLedgerStore`;
- ``postgresql://user@host:5432/dbname`` (or ``postgres://``; any libpq URL) →
  :class:`~ciyuan.store.postgres_ledger.PostgresLedgerStore`.

Anything else is a :class:`~ciyuan.store.errors.StoreUrlError` that says what to write.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from ciyuan.store.errors import StoreNotFoundError, StoreUrlError
from ciyuan.store.protocol import LedgerStore

if TYPE_CHECKING:
    from ciyuan.store.sqlite_writer import SqliteWriter

__all__ = ["open_ledger_store", "redact", "sqlite_path"]

_EXAMPLES = "use sqlite:///path/to/ciyuan.db or postgresql://user@host:5432/dbname"


def sqlite_path(db_url: str) -> str:
    """The file path of a ``sqlite:///path`` URL (``sqlite:///:memory:`` is in memory)."""
    scheme, sep, rest = db_url.partition("://")
    if scheme.lower() != "sqlite" or not sep:
        raise StoreUrlError(f"{redact(db_url)!r} is not a SQLite URL; {_EXAMPLES}",
                            db_url=redact(db_url))
    if not rest.startswith("/") or rest == "/":
        raise StoreUrlError(
            f"SQLite URL {db_url!r} has no file path: write three slashes before a relative "
            "path (sqlite:///./ciyuan.db) and four before an absolute one "
            "(sqlite:////var/lib/ciyuan.db)", db_url=db_url)
    return rest[1:]


def open_ledger_store(db_url: str, *, clock: Callable[[], int] = time.time_ns,
                      create: bool = True, durable_at_commit: bool = True,
                      writer: SqliteWriter | None = None) -> LedgerStore:
    """The ledger store at ``db_url``, migrated to this ciyuan's schema. Close it when done.

    With ``create=False`` (read-only commands) a SQLite file that does not exist is a
    :class:`~ciyuan.store.errors.StoreNotFoundError` instead of a new, empty ledger. With
    ``durable_at_commit=False`` a SQLite commit is not forced to disk: the caller does that
    with :class:`~ciyuan.store.group_sync.GroupSync` (PostgreSQL commits are always durable).
    A SQLite ``writer`` is the connection to share with other stores on the file
    (:mod:`ciyuan.store.sqlite_writer`; it decides ``durable_at_commit`` then).
    """
    scheme = db_url.partition("://")[0].lower() if "://" in db_url else ""
    # Imported on use: a SQLite user never loads psycopg (and the CLI starts faster).
    if scheme == "sqlite":
        from ciyuan.store.sqlite_ledger import SqliteLedgerStore

        path = sqlite_path(db_url)
        if not create and path != ":memory:" and not Path(path).is_file():
            raise StoreNotFoundError(f"there is no SQLite database at {path!r}; check --db / "
                                     "CIYUAN_DB", db_url=db_url)
        if path != ":memory:" and not Path(path).parent.is_dir():
            raise StoreUrlError(f"the directory of the SQLite database {path!r} does not "
                                "exist; create it or choose another path", db_url=db_url)
        return SqliteLedgerStore(path, clock=clock, durable_at_commit=durable_at_commit,
                                 writer=writer)
    if scheme in ("postgresql", "postgres"):
        from ciyuan.store.postgres_ledger import PostgresLedgerStore

        return PostgresLedgerStore(db_url, clock=clock)
    shown = f"scheme {scheme!r}" if scheme else "no scheme"
    raise StoreUrlError(f"database URL {redact(db_url)!r} has {shown}: {_EXAMPLES}",
                        db_url=redact(db_url))


def redact(db_url: str) -> str:
    """``db_url`` with its password (if any) replaced by ``***``, for messages."""
    try:
        parts = urlsplit(db_url)
        password = parts.password
    except ValueError:
        return db_url
    if not password:
        return db_url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{password}@", ":***@")))
