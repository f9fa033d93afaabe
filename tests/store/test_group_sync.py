"""GroupSync: one fsync of the WAL covers every commit made before it started."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from ciyuan.store.errors import StoreSyncError
from ciyuan.store.group_sync import GroupSync
from ciyuan.store.sqlite_ledger import SqliteLedgerStore
from ciyuan.store.sqlite_receipts import SqliteReceiptChainStore
from ciyuan.store.sqlite_usage import SqliteUsageStore


class _Recorded(GroupSync):
    """Records when each fsync starts and ends; each takes ``delay`` seconds."""

    def __init__(self, database: Path, delay: float = 0.02) -> None:
        super().__init__(database)
        self.delay = delay
        self.spans: list[tuple[float, float]] = []
        self.fail = False
        self._guard = threading.Lock()

    def _fsync(self) -> int | None:
        begin = time.monotonic()
        size = super()._fsync()
        time.sleep(self.delay)
        with self._guard:
            self.spans.append((begin, time.monotonic()))
        if self.fail:
            raise OSError(5, "Input/output error")
        return size


def _database(tmp_path: Path) -> Path:
    path = tmp_path / "g.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.close()
    return path


def test_concurrent_waits_share_fsyncs_and_none_overlap(tmp_path: Path) -> None:
    sync = _Recorded(_database(tmp_path))

    async def main() -> None:
        await asyncio.gather(*(sync.wait() for _ in range(50)))

    asyncio.run(main())
    sync.close()
    assert sync.waits == 50
    assert 1 <= sync.syncs <= 2  # the first starts at once; all the others share the next
    assert len(sync.spans) == sync.syncs
    for (_, end), (begin, _) in zip(sync.spans, sync.spans[1:], strict=False):
        assert begin >= end  # one at a time


def test_a_wait_that_arrives_during_an_fsync_is_covered_by_one_that_starts_later(
        tmp_path: Path) -> None:
    sync = _Recorded(_database(tmp_path), delay=0.05)
    returned: dict[str, float] = {}

    async def later() -> None:
        await asyncio.sleep(0.01)  # the first fsync is running now
        arrived = time.monotonic()
        await sync.wait()
        returned["arrived"] = arrived
        returned["at"] = time.monotonic()

    async def main() -> None:
        await asyncio.gather(sync.wait(), later())

    asyncio.run(main())
    sync.close()
    assert sync.syncs == 2
    second_begin, second_end = sync.spans[1]
    assert second_begin >= returned["arrived"]  # began after the commit it covers
    assert returned["at"] >= second_end


def test_a_failed_fsync_is_a_typed_error_and_the_next_wait_tries_again(
        tmp_path: Path) -> None:
    sync = _Recorded(_database(tmp_path), delay=0)

    async def main() -> None:
        sync.fail = True
        with pytest.raises(StoreSyncError, match="fsync of .*g.db-wal failed"):
            await sync.wait()
        sync.fail = False
        await sync.wait()

    asyncio.run(main())
    sync.close()
    assert sync.syncs == 2


def test_a_cancelled_waiter_does_not_cancel_the_others(tmp_path: Path) -> None:
    sync = _Recorded(_database(tmp_path), delay=0.05)

    async def main() -> None:
        first = asyncio.create_task(sync.wait())
        second = asyncio.create_task(sync.wait())
        await asyncio.sleep(0.01)
        first.cancel()
        await second  # still completes
        assert first.cancelled()

    asyncio.run(main())
    sync.close()


def test_no_wal_file_means_nothing_to_sync(tmp_path: Path) -> None:
    sync = GroupSync(tmp_path / "absent.db")
    asyncio.run(sync.wait())
    sync.close()
    assert sync.syncs == 1


def _synchronous(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA synchronous").fetchone()[0])


def test_stores_commit_without_fsync_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    full, normal = 2, 1
    for durable, expected in ((True, full), (False, normal)):
        stores: list[SqliteLedgerStore | SqliteUsageStore | SqliteReceiptChainStore] = [
            SqliteLedgerStore(path, durable_at_commit=durable),
            SqliteUsageStore(path, durable_at_commit=durable),
            SqliteReceiptChainStore(path, durable_at_commit=durable)]
        for store in stores:
            assert _synchronous(store._conn) == expected
            store.close()


def test_the_wal_kept_open_is_opened_again_once_sqlite_removed_it(tmp_path: Path) -> None:
    """The fsync thread keeps the WAL open between fsyncs; when the database's last
    connection closes SQLite removes the file, and the next fsync must reach the new one."""
    import os

    path = _database(tmp_path)
    wal = Path(f"{path}-wal")
    sync = GroupSync(path)
    first = sqlite3.connect(path, isolation_level=None)
    first.execute("INSERT INTO t VALUES (1)")
    assert wal.exists()
    sync._fsync()
    assert sync._wal_fd is not None
    assert os.fstat(sync._wal_fd).st_ino == wal.stat().st_ino
    first.close()  # the last connection: SQLite checkpoints and removes the WAL
    assert not wal.exists()
    second = sqlite3.connect(path, isolation_level=None)
    second.execute("INSERT INTO t VALUES (2)")  # a new WAL file
    sync._fsync()
    assert os.fstat(sync._wal_fd).st_ino == wal.stat().st_ino
    second.close()
    sync.close()
    assert sync._wal_fd is None
    sync.close()  # closing again is harmless


def test_the_wal_length_is_measured_at_most_once_an_interval(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ciyuan.store.group_sync as group_sync

    path = _database(tmp_path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("INSERT INTO t VALUES (1)")
    sync = GroupSync(path)
    monkeypatch.setattr(group_sync, "WAL_MEASURE_INTERVAL_S", 3600.0)
    first = sync._fsync()
    assert isinstance(first, int) and first > 0  # the frames of the insert
    assert sync._fsync() is None  # synced, not measured again within the interval
    monkeypatch.setattr(group_sync, "WAL_MEASURE_INTERVAL_S", 0.0)
    assert sync._fsync() == first
    conn.close()
    sync.close()
