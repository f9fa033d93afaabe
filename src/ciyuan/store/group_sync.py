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
``fsync`` s) are split in two. SQLite's automatic checkpoint runs on the committing
connection, the event loop, and copies the whole WAL there: every 1,000 pages a stall of
several milliseconds, the slowest commits by far. So the bulk is copied in a thread of its
own: each time an ``fsync`` finds the WAL's frames grown by ``CHECKPOINT_STEP_BYTES``
since the last copy (:func:`wal_length`: the frames since the WAL last started over, read
from the WAL's own headers; the file's size only says the largest it has been), a passive
checkpoint (it never blocks the writer) runs on its own connection. But a checkpoint in
another thread never lets SQLite start the WAL over under load — the writer adds frames
while it runs, and SQLite starts over only when a write transaction begins with every frame
copied — so the writer's own automatic checkpoint stays, at ``WRITER_CHECKPOINT_PAGES``:
right after a commit, with no other write running, it copies what the thread has not (the
frames of the last megabyte or so) and the next transaction starts the WAL over. A file
once grown past ``WAL_KEPT_BYTES`` is cut back to it then (``journal_size_limit``).

The ``-shm`` file, where SQLite keeps the exact frame counts, is never opened here: POSIX
drops every lock a process holds on a file when the process closes any descriptor of it, so
reading ``-shm`` through a descriptor of our own would drop the WAL locks of this process's
connections (two gateway workers on one file lost writes so, in a version that did).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import struct
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from ciyuan.store.errors import StoreSyncError

if TYPE_CHECKING:
    from ciyuan.store.sqlite_writer import SqliteWriter

__all__ = ["CHECKPOINT_STEP_BYTES", "WAL_KEPT_BYTES", "WAL_MEASURE_INTERVAL_S",
           "WRITER_CHECKPOINT_PAGES", "GroupSync", "wal_length"]

#: The checkpoint thread copies the WAL back each time it has grown this much since the
#: last copy
CHECKPOINT_STEP_BYTES = 3 * 1024 * 1024
#: The writer's own automatic checkpoint (SQLite's default threshold): copies what the
#: thread has not, right after a commit, so that the WAL starts over
WRITER_CHECKPOINT_PAGES = 1000
#: What the writer cuts the WAL file back to when it starts the WAL over: more than one
#: round's length, so that the rounds of a steady load write the file over in place (an
#: ``fsync`` of a growing file costs more), while a WAL once grown large is trimmed
WAL_KEPT_BYTES = 8 * 1024 * 1024
#: How often at most an ``fsync`` also measures the WAL's length for the checkpoint's pace
#: (a bisection, about a dozen reads): under a steady load the WAL grows by a few hundred
#: KiB in this time, well within a step
WAL_MEASURE_INTERVAL_S = 0.02


class GroupSync:
    """Shares one ``fsync`` of ``<database>-wal`` among every call waiting for one."""

    def __init__(self, database: str | Path, writer: SqliteWriter | None = None, *,
                 per_turn: bool = True) -> None:
        self._wal = Path(f"{database}-wal")
        self._writer = writer
        self._per_turn = per_turn
        self._database = str(database)
        self._thread = _Worker(self._fsync, "ciyuan-fsync")
        self._wal_fd: int | None = None  # the WAL, kept open in the fsync thread
        self._measured_at: float | None = None  # when _fsync last measured the WAL
        self._checkpoints: ThreadPoolExecutor | None = None
        self._checkpointer: sqlite3.Connection | None = None  # used in that thread only
        self._checkpointing = False
        self._copied_at = 0  # the WAL's length at the last copy (0: none since it started over)
        if writer is not None:
            self._checkpoints = ThreadPoolExecutor(1, thread_name_prefix="ciyuan-checkpoint")
            writer.automatic_checkpoint(WRITER_CHECKPOINT_PAGES, kept_bytes=WAL_KEPT_BYTES)
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

        def done(wal_bytes: int | None, error: BaseException | None) -> None:
            self._running = False
            self.syncs += 1
            _settle(waiters, None if error is None else StoreSyncError(
                f"fsync of {self._wal} failed: {error}", path=str(self._wal)))
            if self._next:
                self._start(loop)
            if error is None and wal_bytes is not None:
                self._maybe_checkpoint(loop, wal_bytes)

        self._thread.run(loop, done)

    def _fsync(self) -> int | None:
        """Force the WAL to disk (in the fsync thread); the bytes of its frames since it
        last started over, measured at most every ``WAL_MEASURE_INTERVAL_S`` (None: not
        measured this time). The WAL stays open between calls, and is opened again once
        SQLite has removed it (it does when the database's last connection closes); SQLite
        locks only the database file and ``-shm``, never the WAL, so closing a descriptor
        of it drops no lock."""
        fd = self._wal_fd
        if fd is not None and os.fstat(fd).st_nlink == 0:  # removed: a new one may follow
            os.close(fd)
            fd = self._wal_fd = None
        if fd is None:
            try:
                fd = self._wal_fd = os.open(self._wal, os.O_RDONLY)
            except FileNotFoundError:
                return 0  # no WAL: every commit is already in the database file
        os.fdatasync(fd)  # the data and what finds it (the size), as SQLite syncs its WAL
        now = time.monotonic()
        if self._measured_at is not None and now - self._measured_at < WAL_MEASURE_INTERVAL_S:
            return None
        self._measured_at = now
        return wal_length(fd)

    def _maybe_checkpoint(self, loop: asyncio.AbstractEventLoop, wal_bytes: int) -> None:
        """After an ``fsync`` found ``wal_bytes`` of frames in the WAL: copy them back once
        they have grown a step since the last copy (fewer: the WAL started over)."""
        if wal_bytes < self._copied_at:
            self._copied_at = 0
        if wal_bytes >= self._copied_at + CHECKPOINT_STEP_BYTES:
            self._checkpoint(loop, wal_bytes)

    def _checkpoint(self, loop: asyncio.AbstractEventLoop, wal_bytes: int) -> None:
        if self._checkpoints is None or self._checkpointing:
            return
        self._checkpointing = True
        job = loop.run_in_executor(self._checkpoints, self._copy_back)

        def done(job: asyncio.Future[None]) -> None:
            self._checkpointing = False
            self.checkpoints += 1
            if job.exception() is None:  # a failed one loses nothing: the WAL keeps it all
                self._copied_at = wal_bytes

        job.add_done_callback(done)

    def _copy_back(self) -> None:
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(self._database, isolation_level=None,
                                                 check_same_thread=False)
        self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        self._thread.close()
        if self._wal_fd is not None:
            os.close(self._wal_fd)
            self._wal_fd = None
        if self._checkpoints is not None:
            self._checkpoints.shutdown(wait=True)
        if self._checkpointer is not None:
            self._checkpointer.close()


#: The WAL file's header (https://www.sqlite.org/fileformat.html#the_write_ahead_log): big-
#: endian, the magic number at byte 0, the page size at byte 8 and the two salts at bytes
#: 16-23; each frame is a 24-byte header (its salts at bytes 8-15) and a page.
_WAL_HEADER = struct.Struct(">I4xI4x8s8x")
_FRAME_HEADER_BYTES = 24
_WAL_MAGIC = (0x377F0682, 0x377F0683)


def wal_length(fd: int) -> int:
    """Bytes of the frames the WAL open at ``fd`` holds since it last started over.

    SQLite writes the WAL again from its start after a checkpoint, and every frame carries
    the salts of the header it was written under, so the frames of this round are the
    leading ones with the header's salts (found by bisection, a few reads of 8 bytes); the
    stale frames of earlier rounds after them do not count. The file's size alone would say
    the largest the WAL has ever been. An unreadable header counts as the whole file."""
    size = os.fstat(fd).st_size
    header = os.pread(fd, _WAL_HEADER.size, 0)
    if len(header) < _WAL_HEADER.size:
        return size
    magic, page, salts = _WAL_HEADER.unpack(header)
    if magic not in _WAL_MAGIC:
        return size
    frame = int(page) + _FRAME_HEADER_BYTES
    low, high = 0, max(0, (size - 32) // frame)  # frames [0, low) are of this round
    while low < high:
        middle = (low + high) // 2
        if os.pread(fd, 8, 32 + middle * frame + 8) == salts:
            low = middle + 1
        else:
            high = middle
    return low * frame


class _Worker:
    """A thread of its own that runs ``job`` each time :meth:`run` asks, one run at a time,
    and hands the result to a callback on the asking loop. Woken through a pipe: a thread
    pool's hand-off (futures, locks, a queue) cost about five times the CPU here (52-68
    against 10 µs a round trip, one core; docs/performance.md)."""

    def __init__(self, job: Callable[[], int | None], name: str) -> None:
        self._job = job
        self._name = name
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: Callable[[int | None, BaseException | None], None] | None = None

    def run(self, loop: asyncio.AbstractEventLoop,
            done: Callable[[int | None, BaseException | None], None]) -> None:
        """Run the job once; ``done(result, error)`` is then called on ``loop``. Not again
        before ``done`` has been called."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._main, name=self._name, daemon=True)
            self._thread.start()
        self._loop, self._done = loop, done
        os.write(self._wake_w, _RUN)

    def _main(self) -> None:
        while os.read(self._wake_r, 1) == _RUN:
            result: int | None = None
            error: BaseException | None = None
            try:
                result = self._job()
            except Exception as exc:  # handed to the waiters as a StoreSyncError
                error = exc
            loop, done = self._loop, self._done
            assert loop is not None and done is not None
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting
                loop.call_soon_threadsafe(done, result, error)

    def close(self) -> None:
        """Stop the thread (after the run in progress) and close the pipe; idempotent."""
        if self._wake_w < 0:
            return
        if self._thread is not None:
            os.write(self._wake_w, _STOP)
            self._thread.join()
            self._thread = None
        os.close(self._wake_r)
        os.close(self._wake_w)
        self._wake_r = self._wake_w = -1


_RUN, _STOP = b"r", b"s"


def _settle(waiters: list[asyncio.Future[None]], error: StoreSyncError | None) -> None:
    """Wake every waiter still waiting (a cancelled one has gone)."""
    for future in waiters:
        if not future.done():
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)
