"""The served-usage log: one JSON line per request, appended, fsync'd in bounded batches.

When a record is written (``os.write`` on an ``O_APPEND`` file, so it is in the file for any
reader, and survives a ``kill -9`` of the sim-provider, at once):

* non-stream calls: after the answer is made and **before** the response body is sent;
* streams: at the end of the answer, **before** the final events (the usage chunk and
  ``data: [DONE]``; Anthropic's ``message_delta`` and ``message_stop``) are sent;
* injected 429 / 500: before the error response is sent;
* injected disconnects: just before the connection is dropped; client disconnects: when
  the sim-provider notices (its next write), with the usage of what was delivered.

So once a client holds a complete response, its record is in the file. ``fsync`` follows
after at most ``LOG_FSYNC_BATCH`` records or ``LOG_FSYNC_INTERVAL_S`` seconds, and at shutdown:
a power loss (not a process crash) can lose at most that window.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ciyuan.sim.config import LOG_FSYNC_BATCH, LOG_FSYNC_INTERVAL_S
from ciyuan.sim.errors import SimLogFormatError

__all__ = ["LOG_VERSION", "UsageLog", "read_log"]

#: Version of the record layout, written in every record as ``"v"``.
LOG_VERSION = 1
#: Longest log line read back (a record is ~600 bytes; anything near this is not ours).
MAX_LOG_LINE_BYTES = 64 * 1024


class UsageLog:
    """Appends records to ``path`` (or nowhere when ``path`` is None)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fd: int | None = None
        self._unsynced = 0
        self._syncer: asyncio.Task[None] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(self, record: dict[str, Any]) -> None:
        """Write one record now; fsync inline when the batch bound is reached."""
        if self._fd is None:
            return
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        os.write(self._fd, line.encode("utf-8"))
        self._unsynced += 1
        if self._unsynced >= LOG_FSYNC_BATCH:
            self.sync()

    def sync(self) -> None:
        if self._fd is not None and self._unsynced:
            self._unsynced = 0
            os.fsync(self._fd)

    async def _sync_every_interval(self) -> None:
        while True:
            await asyncio.sleep(LOG_FSYNC_INTERVAL_S)
            if self._unsynced:
                await asyncio.to_thread(self.sync)

    def start(self) -> None:
        """Start the timed fsync (call inside the server's event loop)."""
        if self._fd is not None and self._syncer is None:
            self._syncer = asyncio.get_running_loop().create_task(self._sync_every_interval())

    async def aclose(self) -> None:
        if self._syncer is not None:
            self._syncer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._syncer
            self._syncer = None
        self.close()

    def close(self) -> None:
        if self._fd is not None:
            self._unsynced = max(self._unsynced, 1)
            self.sync()
            os.close(self._fd)
            self._fd = None


def read_log(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a log file in order, streamed; an unterminated last line (a write cut
    off by a crash) is skipped."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            if not raw.endswith(b"\n"):
                return
            if not raw.strip():
                continue
            try:
                if len(raw) > MAX_LOG_LINE_BYTES:
                    raise ValueError("line too long")
                record = json.loads(raw)
                if not isinstance(record, dict) or "request_id" not in record:
                    raise ValueError("not a record")
            except ValueError as exc:
                raise SimLogFormatError(
                    f"{path}:{number}: not a sim-provider log record ({exc}); pass the file "
                    f"the sim-provider wrote with --log", path=str(path), line=number) from exc
            yield record
