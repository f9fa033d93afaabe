"""One writer connection for the stores a gateway call writes, and one transaction a loop turn.

A metered call writes three stores on the same SQLite file (the ledger, the usage records,
the receipt chains) in five short transactions, and each ``BEGIN IMMEDIATE … COMMIT`` costs
more than most of the statements inside it: the commit appends every page it changed to the
WAL, pages that the next call changes again. :class:`SqliteWriter` is the connection those
stores share, and under the gateway's group commit (:mod:`ciyuan.store.group_sync`) it runs
**per turn** of the event loop: the first write of a turn opens one ``BEGIN IMMEDIATE``
transaction, every write inside it is a savepoint (undone alone if it fails), and the
transaction commits at the start of the next turn, or sooner when something must see it
(the group commit's ``fsync``, another connection's write). Every call that ran in one turn
shares one commit. Nothing is acted on before its commit and ``fsync``: the gateway awaits
``GroupSync.wait``, which commits the turn first, before it forwards a call or answers one.

Outside per-turn mode (the default; other threads always) each write is its own
transaction, as in every other SQLite store here.

If a turn's commit fails, every write of that turn is gone while the stores' callers were
told each succeeded; the writer then refuses every later write with
:class:`~ciyuan.store.errors.StoreSyncError` (fail-stop, as a database does after a failed
``fsync``): the gateway must be restarted, and ``ciyuan reconcile`` settles what was left
pending.

**What the stores remember between writes** (:meth:`SqliteWriter.recall`): a value a
store read or wrote inside a write transaction — the ledger's chain head, a tenant's receipt
chain head — is still the stored one at the next write transaction if no other connection
committed in between, and SQLite says whether one did: ``PRAGMA data_version`` changes when
another connection commits (not when this one does). The writer reads it at each
``BEGIN IMMEDIATE`` (once a turn) and forgets everything remembered when it changed, so a
call's writes skip reading back what the previous ones left, while a ``ciyuan budgets set``
or a second worker on the same file is seen by the very next transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Protocol

from ciyuan.store.errors import StoreSyncError
from ciyuan.store.sqlite_connect import (
    begin_immediate,
    commit_open_turns,
    turn_closed,
    turn_opened,
    writer_connection,
)

__all__ = ["REMEMBERED_KEYS", "SqliteWriter"]

#: At most this many values remembered by the stores of one writer (then all are forgotten:
#: they are read again at their next write)
REMEMBERED_KEYS = 10_000


class _Loop(Protocol):
    def call_soon(self, callback: Callable[[], object]) -> object: ...
    def is_running(self) -> bool: ...


class SqliteWriter:
    """The writer connection of one SQLite file, shared by the stores given it."""

    def __init__(self, path: str | Path, *, durable_at_commit: bool = True) -> None:
        self.path = str(path)
        self.lock = threading.Lock()  # the one writer: held for each transaction and read
        self.conn = writer_connection(path, durable_at_commit=durable_at_commit,
                                      foreign_keys=True)
        self.conn.row_factory = sqlite3.Row
        self._loop: _Loop | None = None
        self._loop_thread = 0
        self._lost: str = ""  # why a turn's writes were lost (then every write refuses)
        self._closed = False
        #: turns committed and writes that went into them (tests and profiling read them)
        self.turns = 0
        self.writes = 0
        self._data_version = -1  # PRAGMA data_version at the last BEGIN IMMEDIATE
        self._memo: dict[str, object] = {}  # what stores remember (see the module's docstring)
        self._after: list[Callable[[], None]] = []  # to run once the open write has ended

    def automatic_checkpoint(self, pages: int, *, kept_bytes: int = -1) -> None:
        """Let SQLite checkpoint on this connection, right after a commit, once the WAL
        holds ``pages`` (a :class:`~ciyuan.store.group_sync.GroupSync` copies most of it
        in its own thread before), and cut the WAL file back to ``kept_bytes`` whenever
        this connection starts it over (-1: SQLite's default, never)."""
        with self.lock:
            self.conn.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")
            self.conn.execute(f"PRAGMA journal_size_limit={int(kept_bytes)}")

    def per_turn(self, loop: _Loop) -> None:
        """From now on, writes from ``loop``'s thread (the caller's) share a transaction per
        turn of ``loop``; idempotent."""
        if self._loop is None:
            self._loop, self._loop_thread = loop, threading.get_ident()

    @contextmanager
    def transaction(self, *, single_write: bool = False) -> Iterator[sqlite3.Connection]:
        """One write: committed when the block ends (its own transaction), or, per turn, a
        savepoint of the turn's transaction; undone if the block raises.

        ``single_write``: the block changes the database with at most one statement (reads
        around it are free), which SQLite undoes by itself if it fails, so a turn needs no
        savepoint for it (two statements fewer a write)."""
        loop = self._loop
        if (loop is None or threading.get_ident() != self._loop_thread
                or not loop.is_running()):  # another thread, or the loop has stopped
            commit_open_turns()
            with self.lock:
                if self.conn.in_transaction:  # another thread: the loop's turn goes first
                    self._commit_locked()
                self._refuse_if_lost()
                try:
                    with begin_immediate(self.conn) as conn:
                        self._observe_others()
                        yield conn
                    self._ended()
                finally:
                    self._after.clear()
            return
        with self.lock:
            self._refuse_if_lost()
            conn = self.conn
            if not conn.in_transaction:
                self._open_turn()
            if not single_write:
                conn.execute("SAVEPOINT turn_write")
            try:
                try:
                    yield conn
                except BaseException:
                    if not conn.in_transaction:  # SQLite rolled the whole transaction back
                        self._lose("a write failed and SQLite rolled back the transaction")
                    elif not single_write:
                        conn.execute("ROLLBACK TO turn_write")
                        conn.execute("RELEASE turn_write")
                    raise
                if not single_write:
                    conn.execute("RELEASE turn_write")
                self.writes += 1
                self._ended()
            finally:
                self._after.clear()

    def after(self, callback: Callable[[], None]) -> None:
        """Inside :meth:`transaction`: run ``callback`` once the block has ended without an
        error (its write is in), before the writer's lock is let go, so that no other
        thread's write comes between a write and what its store remembers of it. Nothing
        runs if the block or its end fails."""
        self._after.append(callback)

    def _ended(self) -> None:
        for callback in self._after:
            callback()

    def recall(self, key: str) -> object | None:
        """What a store noted under ``key`` with :meth:`remember`, if no other connection
        has committed since; only inside :meth:`transaction` (which checks that). It is
        taken out: the write about to change it remembers the new value once it is in."""
        return self._memo.pop(key, None)

    def recall_reading(self, key: str) -> object | None:
        """:meth:`recall` for a read outside :meth:`transaction`: checks first that no
        other connection has committed since (``PRAGMA data_version``; inside the turn's
        write transaction its ``BEGIN IMMEDIATE`` checked, and nobody else can commit).
        The caller holds :attr:`lock`."""
        if not self.conn.in_transaction:
            self._observe_others()
        return self._memo.pop(key, None)

    def remember(self, key: str, value: object) -> None:
        """Note ``value`` (the database's state as this writer left it) for the next write
        transactions; from a callback of :meth:`after` (the write is in, the lock held)."""
        if len(self._memo) >= REMEMBERED_KEYS:
            self._memo.clear()
        self._memo[key] = value

    def _observe_others(self) -> None:
        """At a ``BEGIN IMMEDIATE``: forget what stores remembered if another connection
        committed since the last one."""
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._data_version = version
            self._memo.clear()

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction (one consistent view), after an open turn is committed."""
        with self.lock:
            if self.conn.in_transaction:
                self._commit_locked()
            self._refuse_if_lost()
            self.conn.execute("BEGIN")
            try:
                yield self.conn
            finally:
                self.conn.execute("COMMIT")

    def _open_turn(self) -> None:
        commit_open_turns()  # another writer of this thread: one lock at a time
        self.conn.execute("BEGIN IMMEDIATE")
        self._observe_others()
        assert self._loop is not None
        turn_opened(self)
        self._loop.call_soon(self._commit_quietly)  # the turn ends: commit

    def commit(self) -> None:
        """Commit the open turn transaction, if any; raises
        :class:`~ciyuan.store.errors.StoreSyncError` if its writes are lost."""
        with self.lock:
            if self.conn.in_transaction:
                self._commit_locked()
            self._refuse_if_lost()

    def _commit_locked(self) -> None:
        try:
            self.conn.execute("COMMIT")
            self.turns += 1
        except sqlite3.Error as error:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self._lose(f"the commit failed: {error}")
        finally:
            self._closed_turn()

    def _commit_quietly(self) -> None:
        with suppress(StoreSyncError):  # lost: every later write and wait says so
            self.commit()

    def _closed_turn(self) -> None:
        turn_closed(self, self._loop_thread)

    def _lose(self, why: str) -> None:
        self._lost = self._lost or why
        self._memo.clear()
        self._closed_turn()

    def _refuse_if_lost(self) -> None:
        if self._lost:
            raise StoreSyncError(
                f"writes to {self.path} were lost ({self._lost}); restart the gateway, then "
                "run `ciyuan reconcile` to settle the calls left pending", path=self.path)

    def close(self) -> None:
        """Commit an open turn and close the connection (again: nothing happens)."""
        if self._closed:
            return
        with suppress(StoreSyncError):
            self.commit()
        with self.lock:
            self._closed = True
            self.conn.close()
