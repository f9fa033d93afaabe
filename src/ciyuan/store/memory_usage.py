"""An in-memory :class:`~ciyuan.store.usage.UsageStore`: the same contract, no durability.

For tests and examples (the invoice how-to). It follows the SQL stores' rules exactly
(``ciyuan.store.usage_schema``): ``begin`` needs a pending record and returns the stored one
on a retry; ``complete`` moves pending → final once and returns the stored record when the
same final status comes again; an unknown id is ``usage-record-not-found``. A lock makes it
safe to share between threads.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator

from ciyuan.core.records import UsageRecord
from ciyuan.store.usage_schema import (
    UsageRecordNotFoundError,
    check_begin,
    completion_applies,
)

__all__ = ["MemoryUsageStore"]


class MemoryUsageStore:
    """Usage records in a dict, keyed by id."""

    def __init__(self, records: Iterable[UsageRecord] = ()) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, UsageRecord] = {}
        self._closed = False
        for record in records:
            self.add(record)

    def add(self, record: UsageRecord) -> UsageRecord:
        """Store ``record`` as is, whatever its status (a test shortcut for begin+complete);
        an existing id keeps its stored record."""
        with self._lock:
            self._check_open()
            return self._records.setdefault(record.id, record)

    def _check_open(self) -> None:
        assert not self._closed, "the usage store is closed"

    def begin(self, record: UsageRecord) -> UsageRecord:
        check_begin(record)
        with self._lock:
            self._check_open()
            return self._records.setdefault(record.id, record)

    def complete(self, record: UsageRecord) -> UsageRecord:
        with self._lock:
            self._check_open()
            stored = self._records.get(record.id)
            if stored is None:
                raise UsageRecordNotFoundError(
                    f"no usage record {record.id!r}; write it with begin() first",
                    id=record.id)
            if not completion_applies(stored, record):
                return stored
            self._records[record.id] = record
            return record

    def get(self, record_ids: Iterable[str]) -> dict[str, UsageRecord]:
        with self._lock:
            self._check_open()
            return {i: self._records[i] for i in set(record_ids) if i in self._records}

    def pending(self, started_before: dt.datetime) -> list[UsageRecord]:
        with self._lock:
            self._check_open()
            found = [r for r in self._records.values()
                     if r.status == "pending" and r.started_at < started_before]
        return sorted(found, key=lambda r: (r.started_at, r.id))

    def task_records(self, tenant: str, task: str, *, limit: int) -> list[UsageRecord]:
        assert limit > 0
        with self._lock:
            self._check_open()
            found = [r for r in self._records.values()
                     if task and r.tenant == tenant and r.task == task]
        return sorted(found, key=lambda r: (r.started_at, r.id))[:limit]

    def query(self, start: dt.datetime, end: dt.datetime, tenant: str | None = None,
              statuses: tuple[str, ...] = ("completed", "reconciled"),
              ) -> Iterator[UsageRecord]:
        """Records with ``start <= started_at < end``, in (started_at, id) order; a snapshot
        taken when iteration starts."""
        with self._lock:
            self._check_open()
            found = [r for r in self._records.values()
                     if start <= r.started_at < end and r.status in statuses
                     and (tenant is None or r.tenant == tenant)]
        yield from sorted(found, key=lambda r: (r.started_at, r.id))

    def close(self) -> None:
        with self._lock:
            self._closed = True
