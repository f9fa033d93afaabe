"""SqliteWriter: the gateway's stores share one connection and, per loop turn, one transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ciyuan.identity import Tenant
from ciyuan.store.errors import StoreSyncError
from ciyuan.store.group_sync import (
    CHECKPOINT_STEP_BYTES,
    WAL_KEPT_BYTES,
    WRITER_CHECKPOINT_PAGES,
    GroupSync,
    wal_length,
)
from ciyuan.store.sqlite_identity import SqliteIdentityStore
from ciyuan.store.sqlite_writer import SqliteWriter

#: About where the WAL starts over: 1,000 pages of 4 KiB (the writer's checkpoint threshold)
WAL_THRESHOLD = 4 * 1024 * 1024


def _writer(tmp_path: Path) -> SqliteWriter:
    writer = SqliteWriter(tmp_path / "w.db", durable_at_commit=False)
    with writer.transaction() as conn:
        conn.execute("CREATE TABLE t (x INTEGER UNIQUE)")
    return writer


def _seen(tmp_path: Path) -> list[int]:
    """What another connection (another process) reads: only committed rows."""
    other = sqlite3.connect(tmp_path / "w.db")
    try:
        return [row[0] for row in other.execute("SELECT x FROM t ORDER BY x")]
    finally:
        other.close()


def _insert(writer: SqliteWriter, x: int) -> None:
    with writer.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (?)", (x,))


def test_without_a_loop_each_write_commits_at_once(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    _insert(writer, 1)
    assert _seen(tmp_path) == [1] and writer.turns == 0
    writer.close()
    writer.close()  # again: nothing happens


def test_the_writes_of_one_turn_share_one_commit_at_its_end(tmp_path: Path) -> None:
    writer = _writer(tmp_path)

    async def call(x: int) -> None:
        _insert(writer, x)
        await asyncio.sleep(0)

    async def main() -> list[int]:
        writer.per_turn(asyncio.get_running_loop())
        tasks = [asyncio.create_task(call(x)) for x in range(10)]
        await asyncio.sleep(0)  # every task runs its write in this turn
        during = _seen(tmp_path)
        await asyncio.gather(*tasks)
        return during

    assert asyncio.run(main()) == []  # nothing committed while the turn ran
    assert _seen(tmp_path) == list(range(10))
    assert (writer.turns, writer.writes) == (1, 10)
    writer.close()


def test_a_failed_write_is_undone_alone(tmp_path: Path) -> None:
    writer = _writer(tmp_path)

    async def main() -> None:
        writer.per_turn(asyncio.get_running_loop())
        _insert(writer, 1)
        with pytest.raises(sqlite3.IntegrityError), writer.transaction() as conn:
            conn.execute("INSERT INTO t VALUES (2)")
            conn.execute("INSERT INTO t VALUES (1)")  # unique: this write fails
        _insert(writer, 3)
        await asyncio.sleep(0)

    asyncio.run(main())
    assert _seen(tmp_path) == [1, 3]
    writer.close()


def test_another_connection_writing_from_the_loop_commits_the_turn_first(
        tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    identity = SqliteIdentityStore(tmp_path / "w.db")  # its own connection, same file

    async def main() -> float:
        writer.per_turn(asyncio.get_running_loop())
        _insert(writer, 1)  # the turn holds the file's write lock now
        begin = time.monotonic()
        # would wait 10 s for the lock (and fail), else
        identity.create_tenant(Tenant("acme", "Acme", dt.datetime.now(dt.UTC)))
        return time.monotonic() - begin

    assert asyncio.run(main()) < 2.0
    assert _seen(tmp_path) == [1]
    identity.close()
    writer.close()


def test_other_threads_write_in_transactions_of_their_own(tmp_path: Path) -> None:
    writer = _writer(tmp_path)

    async def main() -> list[int]:
        writer.per_turn(asyncio.get_running_loop())
        _insert(writer, 1)
        seen: list[int] = []
        thread = threading.Thread(target=lambda: (_insert(writer, 2),
                                                  seen.extend(_seen(tmp_path))))
        thread.start()
        await asyncio.to_thread(thread.join)
        return seen

    # the thread committed the loop's open turn first, then its own write
    assert asyncio.run(main()) == [1, 2]
    writer.close()


def test_group_sync_commits_the_turn_before_the_fsync_that_covers_it(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    seen_at_fsync: list[list[int]] = []

    class Observed(GroupSync):
        def _fsync(self) -> int | None:
            seen_at_fsync.append(_seen(tmp_path))
            return super()._fsync()

    sync = Observed(tmp_path / "w.db", writer)

    async def call(x: int) -> None:
        _insert(writer, x)
        await sync.wait()
        assert x in _seen(tmp_path)  # committed (and forced to disk) before going on

    async def main() -> None:
        await asyncio.gather(*(call(x) for x in range(20)))

    asyncio.run(main())
    sync.close()
    assert seen_at_fsync[0] and set(seen_at_fsync[-1]) == set(range(20))
    assert sync.syncs <= 2 and writer.turns <= 2
    writer.close()


class _FailingCommit:
    """The writer's connection, with COMMIT failing as on a full disk."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT":
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def test_a_lost_turn_fails_its_waiters_and_every_later_write(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    real = writer.conn
    sync = GroupSync(tmp_path / "w.db", writer)

    async def main() -> None:
        writer.per_turn(asyncio.get_running_loop())
        writer.conn = _FailingCommit(real)  # type: ignore[assignment]
        _insert(writer, 1)
        with pytest.raises(StoreSyncError, match="disk is full"):
            await sync.wait()
        writer.conn = real
        with pytest.raises(StoreSyncError, match="restart the gateway"):
            _insert(writer, 2)
        with pytest.raises(StoreSyncError):
            await sync.wait()

    asyncio.run(main())
    sync.close()
    assert _seen(tmp_path) == []  # the lost turn was rolled back, nothing half-written
    writer.close()


def test_after_the_loop_stops_writes_commit_at_once(tmp_path: Path) -> None:
    writer = _writer(tmp_path)

    async def main() -> None:
        writer.per_turn(asyncio.get_running_loop())
        _insert(writer, 1)

    asyncio.run(main())  # the turn is committed as the loop winds down, or by the next write
    _insert(writer, 2)  # same thread, no loop running: its own transaction
    assert _seen(tmp_path) == [1, 2]
    writer.close()


def test_without_per_turn_the_group_commit_leaves_each_write_its_own_commit(
        tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    sync = GroupSync(tmp_path / "w.db", writer, per_turn=False)  # several gateway workers

    async def main() -> list[int]:
        _insert(writer, 1)
        await sync.wait()
        _insert(writer, 2)
        return _seen(tmp_path)  # committed at once, no turn held open

    assert asyncio.run(main()) == [1, 2]
    sync.close()
    assert writer.turns == 0
    writer.close()


def test_checkpoints_run_in_their_own_thread_and_keep_the_wal_bounded(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    with writer.transaction() as conn:
        conn.execute("CREATE TABLE blobs (b BLOB)")
    sync = GroupSync(tmp_path / "w.db", writer)
    piece = WAL_THRESHOLD // 4

    async def main() -> None:
        for _ in range(24):  # 6x the checkpoint threshold in all
            with writer.transaction() as conn:
                conn.execute("INSERT INTO blobs VALUES (zeroblob(?))", (piece,))
            await sync.wait()
            await asyncio.sleep(0.02)  # bounded: lets a running checkpoint finish

    asyncio.run(main())
    sync.close()
    assert writer.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == (
        WRITER_CHECKPOINT_PAGES)  # SQLite's own, on the loop's connection, finishes off
    assert writer.conn.execute("PRAGMA journal_size_limit").fetchone()[0] == WAL_KEPT_BYTES
    assert sync.checkpoints >= 1
    # each checkpoint let the writer start the WAL over: it never held all 24 pieces
    assert (tmp_path / "w.db-wal").stat().st_size < 3 * WAL_THRESHOLD
    other = sqlite3.connect(tmp_path / "w.db")
    assert other.execute("SELECT count(*) FROM blobs").fetchone()[0] == 24
    other.close()
    writer.close()


def test_a_wal_started_over_asks_for_no_checkpoint_until_it_grows_again(tmp_path: Path) -> None:
    """SQLite keeps the WAL file at its largest size after it starts over unless told to
    cut it back: small writes then must not each set off a checkpoint (they did, 40 for
    40, while the file's size was the measure and stayed over the threshold)."""
    writer = _writer(tmp_path)
    with writer.transaction() as conn:
        conn.execute("CREATE TABLE blobs (b BLOB)")
    sync = GroupSync(tmp_path / "w.db", writer)
    piece = WAL_THRESHOLD // 4

    async def main() -> int:
        for _ in range(6):  # 1.5x the writer's threshold: the WAL starts over once
            with writer.transaction() as conn:
                conn.execute("INSERT INTO blobs VALUES (zeroblob(?))", (piece,))
            await sync.wait()
            await asyncio.sleep(0.02)
        after_big = sync.checkpoints
        for i in range(40):  # small writes: a few pages each, far under a step
            with writer.transaction() as conn:
                conn.execute("INSERT INTO blobs VALUES (zeroblob(?))", (100 + i,))
            await sync.wait()
            await asyncio.sleep(0.005)
        return sync.checkpoints - after_big

    later = asyncio.run(main())
    sync.close()
    assert _wal_length(tmp_path / "w.db-wal") < WAL_THRESHOLD  # started over
    assert later <= 1
    writer.close()


def _wal_length(path: Path) -> int:
    fd = os.open(path, os.O_RDONLY)
    try:
        return wal_length(fd)
    finally:
        os.close(fd)


def test_the_wal_length_counts_the_frames_since_it_started_over(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "l.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE t (b BLOB)")
    for _ in range(20):
        conn.execute("INSERT INTO t VALUES (zeroblob(20000))")
    frame = conn.execute("PRAGMA page_size").fetchone()[0] + 24
    wal = tmp_path / "l.db-wal"
    _, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert frames == copied > 100 and _wal_length(wal) == frames * frame
    conn.execute("INSERT INTO t VALUES (1)")  # starts the WAL over, in place
    assert wal.stat().st_size >= frames * frame  # the file keeps its size ...
    assert 0 < _wal_length(wal) <= 3 * frame  # ... the round is a frame or two
    conn.close()


def test_under_steady_writes_the_wal_starts_over_and_stays_small(tmp_path: Path) -> None:
    """A checkpoint in another thread never copies the frames written while it runs, so by
    itself it never lets SQLite start the WAL over: the writer's own checkpoint finishes
    off after a commit (without it this WAL grew to 40 MiB here, and on)."""
    writer = _writer(tmp_path)
    with writer.transaction() as conn:
        conn.execute("CREATE TABLE blobs (b BLOB)")
    sync = GroupSync(tmp_path / "w.db", writer)
    seen: list[int] = []

    async def main() -> None:
        for _ in range(400):  # 40 MB in all, in 100 kB writes
            with writer.transaction() as conn:
                conn.execute("INSERT INTO blobs VALUES (zeroblob(100000))")
            await sync.wait()
            seen.append((tmp_path / "w.db-wal").stat().st_size)

    asyncio.run(main())
    sync.close()
    assert sync.checkpoints >= 40_000_000 // CHECKPOINT_STEP_BYTES // 4  # the bulk: thread
    assert max(seen) < 3 * WAL_THRESHOLD
    assert seen[-1] < 2 * WAL_THRESHOLD
    other = sqlite3.connect(tmp_path / "w.db")
    assert other.execute("SELECT count(*) FROM blobs").fetchone()[0] == 400
    other.close()
    writer.close()


def test_what_stores_remember_is_forgotten_when_another_connection_commits(
        tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    with writer.transaction():
        writer.remember("k", 1)
    _insert(writer, 1)  # this writer's own commits keep it
    with writer.transaction():
        assert writer.recall("k") == 1
        writer.remember("k", 1)  # taken out by recall: noted again
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    other.execute("INSERT INTO t VALUES (2)")
    other.close()
    with writer.transaction():  # the next BEGIN IMMEDIATE sees the other commit
        assert writer.recall("k") is None
    writer.close()


def test_what_a_write_leaves_to_run_after_it_runs_once_it_is_in_and_never_if_it_fails(
        tmp_path: Path) -> None:
    """``after`` callbacks run when the block ended well, under the writer's lock (no other
    thread's write between a write and what its store remembers of it), in turns too; a
    write that fails runs none, and leaves none for the next write."""
    writer = _writer(tmp_path)
    ran: list[tuple[str, bool]] = []

    def write(x: int, name: str) -> None:
        with writer.transaction() as conn:
            conn.execute("INSERT INTO t VALUES (?)", (x,))
            writer.after(lambda: ran.append((name, writer.lock.locked())))

    write(1, "alone")
    with pytest.raises(sqlite3.IntegrityError):
        write(1, "failed")  # unique: the insert fails before the callback is left
    with pytest.raises(RuntimeError), writer.transaction():
        writer.after(lambda: ran.append(("raised", True)))
        raise RuntimeError("the block fails after leaving its callback")
    write(2, "next")

    async def main() -> None:
        writer.per_turn(asyncio.get_running_loop())
        write(3, "in a turn")
        with pytest.raises(RuntimeError), writer.transaction(single_write=True):
            writer.after(lambda: ran.append(("raised in a turn", True)))
            raise RuntimeError("fails")
        await asyncio.sleep(0)

    asyncio.run(main())
    assert ran == [("alone", True), ("next", True), ("in a turn", True)]
    assert _seen(tmp_path) == [1, 2, 3]
    writer.close()


def test_a_single_write_that_fails_leaves_the_turns_other_writes(tmp_path: Path) -> None:
    writer = _writer(tmp_path)

    async def main() -> None:
        writer.per_turn(asyncio.get_running_loop())
        _insert(writer, 1)
        with pytest.raises(sqlite3.IntegrityError), writer.transaction(single_write=True) as c:
            c.execute("INSERT INTO t VALUES (2), (1)")  # unique: the statement is undone
        with writer.transaction(single_write=True) as conn:
            conn.execute("INSERT INTO t VALUES (3)")
        await asyncio.sleep(0)

    asyncio.run(main())
    assert _seen(tmp_path) == [1, 3] and writer.turns == 1
    writer.close()


def test_receipt_chains_stay_one_line_across_two_writers(tmp_path: Path) -> None:
    """Each store skips reading the head its own last write left, unless another
    connection wrote since: two stores taking turns on one tenant still make one chain."""
    from ciyuan.receipt.chain import ChainHead
    from ciyuan.store.sqlite_receipts import SqliteReceiptChainStore

    stores = [SqliteReceiptChainStore(tmp_path / "r.db") for _ in range(2)]
    seen: list[ChainHead] = []

    def link(head: ChainHead) -> tuple[str, None]:
        seen.append(head)
        return f"h{head.seq + 1}", None

    for i in range(8):
        stores[(i // 3) % 2].advance("acme", link)  # three on one, then the other
    assert [(h.seq, h.sha256) for h in seen[1:]] == [(i, f"h{i}") for i in range(1, 8)]
    assert stores[0].head("acme") == ChainHead("acme", 8, "h8")
    for store in stores:
        store.close()


def test_the_group_commit_leaves_this_process_s_locks_on_the_database_alone(
        tmp_path: Path) -> None:
    """POSIX drops every lock a process holds on a file when it closes any descriptor of
    that file: an ``fsync`` thread that opened and closed ``-shm`` would drop the WAL locks
    of this process's connections, and another process could then checkpoint away the
    frames an open read transaction here still reads (two gateway workers lost writes so)."""
    import subprocess
    import sys

    writer = _writer(tmp_path)
    _insert(writer, 1)
    reader = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM t").fetchone() == (1,)  # holds a read mark
    _insert(writer, 2)  # frames the reader's snapshot does not include
    sync = GroupSync(tmp_path / "w.db", writer)
    sync._fsync()  # what the fsync thread runs
    checkpoint = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                  "c.execute('PRAGMA busy_timeout=0'); "
                  "print(c.execute('PRAGMA wal_checkpoint(TRUNCATE)').fetchone()[0])")
    other = subprocess.run([sys.executable, "-c", checkpoint, str(tmp_path / "w.db")],
                           capture_output=True, text=True, timeout=60, check=True)
    assert other.stdout.strip() == "1"  # busy: this process's reader still holds its lock
    reader.execute("COMMIT")
    reader.close()
    sync.close()
    writer.close()


def test_a_ledger_retry_in_a_turn_is_undone_alone_and_run_again_with_look_ups(
        tmp_path: Path) -> None:
    """A batch naming a stored id (a retried call) meets the journal's unique index; its
    first attempt is undone with its savepoint of the turn, not the turn's other writes, and
    the batch runs again with every id looked up: each transfer is stored once."""
    from ciyuan.ledger import Account, AccountKind, Transfer
    from ciyuan.store.sqlite_ledger import SqliteLedgerStore

    writer = _writer(tmp_path)
    ledger = SqliteLedgerStore(tmp_path / "w.db", writer=writer)
    assert ledger.create_accounts([Account("funding", AccountKind.FUNDING, "USD", "p"),
                                   Account("revenue", AccountKind.PLATFORM_REVENUE, "USD",
                                           "p")]) == ["ok", "ok"]

    async def main() -> list[list[str]]:
        writer.per_turn(asyncio.get_running_loop())
        first = ledger.submit([Transfer("a", "funding", "revenue", 5)])
        _insert(writer, 1)  # another store's write in the same turn
        again = ledger.submit([Transfer("b", "funding", "revenue", 2),
                               Transfer("a", "funding", "revenue", 5)])
        await asyncio.sleep(0)
        return [list(first), list(again)]

    assert asyncio.run(main()) == [["ok"], ["ok", "ok"]]
    assert _seen(tmp_path) == [1] and writer.turns == 1
    assert [e.transfer.id for e in ledger.journal()] == ["a", "b"]
    assert ledger.balance("revenue").credits_posted == 7 and ledger.verify().ok
    writer.close()
