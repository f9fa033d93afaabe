"""Open a SQLite store's writer connection and run its writes, the same way for every store.

The outcome, judge-score and invoice stores each hold one connection on a file they may
share (own tables, own migration history): WAL, ``synchronous=FULL`` (an acknowledged write
survives power loss), a busy timeout for other processes, and every write one ``BEGIN
IMMEDIATE`` transaction under the store's lock (:func:`immediate`), so no other process
writes between a store's read and its write. The ledger, usage and receipt-chain stores get
theirs from :class:`~ciyuan.store.sqlite_writer.SqliteWriter` (shared by the gateway, with
``NORMAL`` under its group commit, which forces the log to disk itself:
:mod:`ciyuan.store.group_sync`); a write on another connection first commits the turn
transactions that writer holds open on this thread (:func:`commit_open_turns`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from ciyuan.store.migrations import Migration, Refusal, apply_migrations

__all__ = ["BUSY_TIMEOUT_MS", "begin_immediate", "commit_open_turns", "id_chunks", "immediate",
           "open_migrated", "synchronous", "turn_closed", "turn_opened", "writer_connection"]

#: How long a write waits for another process's write lock before failing: 10 s rides out
#: a long batch elsewhere without hanging a caller for ever.
BUSY_TIMEOUT_MS = 10_000
#: Ids per ``IN (...)`` query, well under SQLite's bound on host parameters (32,766).
_IN_CHUNK = 500


def synchronous(durable_at_commit: bool) -> str:
    """The ``PRAGMA synchronous`` statement of a writer connection: ``FULL`` (each commit
    forced to disk), or ``NORMAL`` for a store whose caller forces commits to disk itself
    with :class:`~ciyuan.store.group_sync.GroupSync` before it acts on them."""
    return f"PRAGMA synchronous={'FULL' if durable_at_commit else 'NORMAL'}"


def writer_connection(path: str | Path, *, durable_at_commit: bool = True,
                      foreign_keys: bool = False) -> sqlite3.Connection:
    """A writer connection to ``path``: autocommit (transactions are explicit), usable from
    any thread, WAL, :func:`synchronous`, the busy timeout, and foreign keys if asked."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(synchronous(durable_at_commit))
        if foreign_keys:
            conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # other processes' writes
    except BaseException:
        conn.close()
        raise
    return conn


def open_migrated(path: str | Path, migrations: Sequence[Migration], *, table: str,
                  refuse: Refusal) -> sqlite3.Connection:
    """A :func:`writer_connection` to ``path`` with ``migrations`` applied and recorded in
    ``table``; closed again if any step fails."""
    conn = writer_connection(path)
    try:
        with _transaction(conn):
            apply_migrations(conn, migrations, table=table, refuse=refuse)
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def immediate(lock: threading.Lock, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Under ``lock``, one ``BEGIN IMMEDIATE`` transaction on ``conn``: committed when the
    block ends, rolled back if it raises."""
    with lock, _transaction(conn):
        yield conn


class _Turn(Protocol):
    def commit(self) -> None: ...


#: Turn transactions open (:mod:`ciyuan.store.sqlite_writer`), by the thread that opened
#: them. They hold the file's write lock until the loop's next turn, so another connection
#: writing from that thread would wait for itself: it commits them first.
_OPEN_TURNS: dict[int, list[_Turn]] = {}
_OPEN_TURNS_LOCK = threading.Lock()


def turn_opened(turn: _Turn) -> None:
    with _OPEN_TURNS_LOCK:
        _OPEN_TURNS.setdefault(threading.get_ident(), []).append(turn)


def turn_closed(turn: _Turn, thread: int) -> None:
    with _OPEN_TURNS_LOCK:
        open_there = _OPEN_TURNS.get(thread, [])
        if turn in open_there:
            open_there.remove(turn)


def commit_open_turns() -> None:
    """Commit this thread's open turn transactions (before a write that needs their lock)."""
    with _OPEN_TURNS_LOCK:
        turns = list(_OPEN_TURNS.get(threading.get_ident(), ()))
    for turn in turns:
        turn.commit()


@contextmanager
def begin_immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One ``BEGIN IMMEDIATE`` transaction on ``conn`` (the caller holds the connection's
    lock): committed when the block ends, rolled back if it raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    commit_open_turns()
    with begin_immediate(conn):
        yield conn


def id_chunks(ids: Iterable[str]) -> list[list[str]]:
    """The distinct ``ids`` in order, in runs of at most ``_IN_CHUNK`` (one query each)."""
    unique = sorted(set(ids))
    return [unique[i:i + _IN_CHUNK] for i in range(0, len(unique), _IN_CHUNK)]
