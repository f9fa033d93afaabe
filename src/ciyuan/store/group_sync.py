"""Group commit for SQLite: one ``fsync`` of the WAL makes every commit before it durable.

With ``synchronous=FULL`` each SQLite commit in WAL mode ends with an ``fsync`` of the WAL
file, on the committing thread. On the gateway that thread is the event loop: five commits a
call meant five waits for the disk with nothing else served meanwhile (about 0.4 ms each and
0.17 ms of CPU on the machines here). The gateway's stores instead commit with
``synchronous=NORMAL`` — the commit's frames are written to the WAL, which survives the
process being killed, but not yet forced to disk — and each call then awaits
:meth:`GroupSync.wait` before it acts on what it wrote (forwards upstream, answers the
client). ``wait`` forces the WAL to disk with one ``fsync`` in a thread of its own, shared by
every call waiting at that moment, while the loop goes on serving. So an acknowledged write
still survives power loss, as with ``FULL``; SQLite's own consistency never depended on it
(WAL with ``NORMAL`` is always consistent, SQLite's documentation says, only not durable).

A commit is covered by an ``fsync`` that *starts* after it: a call arriving while one runs
waits for the next, which starts as soon as the running one ends and covers everyone who
arrived meanwhile. An ``fsync`` starts at the end of the loop's turn (``call_soon``), so every
call that ran in that turn shares it.

With a :class:`~ciyuan.store.sqlite_writer.SqliteWriter` and ``per_turn``, the stores' writes
of one turn are one transaction (``wait`` switches the writer to per-turn mode on its first
call), and each ``fsync`` is preceded by the commit of the open turn: a waiter's writes are
committed, then forced to disk, before it goes on. ``per_turn`` is for a file with one
gateway process: with several, each holding the file's only write lock for a whole turn
makes the others wait (measured slower than a commit per write).

With a writer, checkpoints (copying the WAL back into the database file, with two
``fsync`` s) run in a thread of their own as well: SQLite's automatic checkpoint would run on
the committing thread, the event loop, every 1,000 pages (a stall of several milliseconds
each time, the slowest commits by far). After an ``fsync`` finds more than
``CHECKPOINT_WAL_BYTES`` of the WAL not yet copied back, a passive checkpoint (it never blocks
the writer) runs on its own connection; the writer's automatic checkpoint stays as a backstop
at ``BACKSTOP_CHECKPOINT_PAGES``, for a WAL that grows with no ``fsync`` asked.

What is "not yet copied back" is read from the wal-index header in ``<database>-shm``
(``mxFrame``, the last valid frame, and ``nBackfill``, the frames a checkpoint has copied;
https://www.sqlite.org/walformat.html §2.1), not from the WAL file's size: once a checkpoint
has copied everything, SQLite writes the WAL again from its start but keeps the file at its
largest size, so its size alone would ask for a checkpoint after every ``fsync``
(measured: one running all the time, a seventh of the gateway's CPU at 200 calls/s).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from ciyuan.store.errors import StoreSyncError

if TYPE_CHECKING:
    from ciyuan.store.sqlite_writer import SqliteWriter

__all__ = ["BACKSTOP_CHECKPOINT_PAGES", "CHECKPOINT_WAL_BYTES", "GroupSync",
           "wal_backlog_bytes"]

#: WAL size past which the checkpoint thread copies it into the database (SQLite's own
#: automatic checkpoint threshold: 1,000 pages of 4 KiB)
CHECKPOINT_WAL_BYTES = 4 * 1024 * 1024
#: The writer's own automatic checkpoint, kept for a WAL that grows with no fsync asked
BACKSTOP_CHECKPOINT_PAGES = 20_000


class GroupSync:
    """Shares one ``fsync`` of ``<database>-wal`` among every call waiting for one."""

    def __init__(self, database: str | Path, writer: SqliteWriter | None = None, *,
                 per_turn: bool = True) -> None:
        self._wal = Path(f"{database}-wal")
        self._shm = Path(f"{database}-shm")
        self._writer = writer
        self._per_turn = per_turn
        self._database = str(database)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="ciyuan-fsync")
        self._checkpoints: ThreadPoolExecutor | None = None
        self._checkpointer: sqlite3.Connection | None = None  # used in that thread only
        self._checkpointing = False
        if writer is not None:
            self._checkpoints = ThreadPoolExecutor(1, thread_name_prefix="ciyuan-checkpoint")
            writer.automatic_checkpoint(BACKSTOP_CHECKPOINT_PAGES)
        #: waiters of the fsync not yet begun, a future each (one cancelled leaves the rest)
        self._next: list[asyncio.Future[None]] = []
        self._running = False
        self._kicked = False  # a start is scheduled at the end of this turn
        #: fsyncs run and waits served (tests and profiling read them)
        self.syncs = 0
        self.waits = 0
        self.checkpoints = 0

    async def wait(self) -> None:
        """Return once everything committed before this call is on disk."""
        loop = asyncio.get_running_loop()
        if self._writer is not None and self._per_turn:
            self._writer.per_turn(loop)
        future = loop.create_future()
        self._next.append(future)
        self.waits += 1
        if not self._running and not self._kicked:
            self._kicked = True
            loop.call_soon(self._kick, loop)  # once this turn's calls have all written
        await future

    def _kick(self, loop: asyncio.AbstractEventLoop) -> None:
        self._kicked = False
        if not self._running and self._next:
            self._start(loop)

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        waiters, self._next = self._next, []
        if self._writer is not None:
            try:
                self._writer.commit()  # the turn's writes, before the fsync that covers them
            except StoreSyncError as error:
                _settle(waiters, error)
                return
        self._running = True
        job = loop.run_in_executor(self._executor, self._fsync)

        def done(job: asyncio.Future[int]) -> None:
            self._running = False
            self.syncs += 1
            error = job.exception()
            _settle(waiters, None if error is None else StoreSyncError(
                f"fsync of {self._wal} failed: {error}", path=str(self._wal)))
            if self._next:
                self._start(loop)
            if error is None and job.result() > CHECKPOINT_WAL_BYTES:
                self._checkpoint(loop)

        job.add_done_callback(done)

    def _fsync(self) -> int:
        """Force the WAL to disk; the bytes of it a checkpoint has still to copy back."""
        # opened each time: SQLite may remove the WAL file when its last connection closes
        try:
            fd = os.open(self._wal, os.O_RDONLY)
        except FileNotFoundError:
            return 0  # no WAL: every commit is already in the database file
        try:
            os.fsync(fd)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        backlog = wal_backlog_bytes(self._shm)
        return size if backlog is None else backlog

    def _checkpoint(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._checkpoints is None or self._checkpointing:
            return
        self._checkpointing = True
        job = loop.run_in_executor(self._checkpoints, self._copy_back)

        def done(job: asyncio.Future[None]) -> None:
            self._checkpointing = False
            self.checkpoints += 1
            job.exception()  # a failed checkpoint loses nothing: the WAL keeps every frame

        job.add_done_callback(done)

    def _copy_back(self) -> None:
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(self._database, isolation_level=None,
                                                 check_same_thread=False)
        self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        if self._checkpoints is not None:
            self._checkpoints.shutdown(wait=True)
        if self._checkpointer is not None:
            self._checkpointer.close()


#: The wal-index header (https://www.sqlite.org/walformat.html §2.1), in the machine's byte
#: order: ``szPage`` (u16) at byte 14, ``mxFrame`` (u32) at 16; ``nBackfill`` (u32) of the
#: checkpoint information that follows the header's two 48-byte copies, at byte 96.
_WAL_INDEX = struct.Struct("=14xHI76xI")
#: Each WAL frame is a page after a 24-byte frame header.
_FRAME_HEADER_BYTES = 24


def wal_backlog_bytes(shm: Path) -> int | None:
    """Bytes of WAL frames not yet copied into the database, from the wal-index header;
    ``None`` when it cannot be read (no ``-shm`` file, or one too short)."""
    try:
        with shm.open("rb") as f:
            header = f.read(_WAL_INDEX.size)
    except OSError:
        return None
    if len(header) < _WAL_INDEX.size:
        return None
    stored_page, frames, backfilled = _WAL_INDEX.unpack(header)
    page = 65536 if stored_page == 1 else int(stored_page)  # a 64 KiB page is stored as 1
    return max(0, int(frames) - int(backfilled)) * (page + _FRAME_HEADER_BYTES)


def _settle(waiters: list[asyncio.Future[None]], error: StoreSyncError | None) -> None:
    """Wake every waiter still waiting (a cancelled one has gone)."""
    for future in waiters:
        if not future.done():
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)
