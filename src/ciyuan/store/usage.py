"""The usage-record store interface (write-ahead, completion, queries).

Implementations: SQLite (default) and PostgreSQL, checked by one contract suite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ciyuan.core.records import UsageRecord

if TYPE_CHECKING:
    from ciyuan.store.sqlite_writer import SqliteWriter

__all__ = ["TaskRecords", "UsageStore", "open_usage_store"]


class UsageStore(Protocol):
    """Durable usage records; every method is idempotent on the record id."""

    def begin(self, record: UsageRecord) -> UsageRecord:
        """Write the pending (write-ahead) record durably before the upstream call.

        Returns the stored record: the same one if the id already exists (a retry), so the
        caller can tell a retried request from a new one.
        """
        ...

    def complete(self, record: UsageRecord) -> UsageRecord:
        """Store the completed (or failed, or reconciled) record for an existing id.

        Completing an already-completed id returns the stored value unchanged.
        """
        ...

    def get(self, record_ids: Iterable[str]) -> dict[str, UsageRecord]: ...

    def pending(self, started_before: dt.datetime) -> list[UsageRecord]:
        """Records still pending that started before the instant (crash recovery)."""
        ...

    def query(
        self,
        start: dt.datetime,
        end: dt.datetime,
        tenant: str | None = None,
        statuses: tuple[str, ...] = ("completed", "reconciled"),
    ) -> Iterator[UsageRecord]:
        """Records with ``start <= started_at < end``, in started_at order."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class TaskRecords(Protocol):
    """Finding a tenant's records by task (``X-Ciyuan-Task``): outcome reports name a task.

    Every store here implements it beside :class:`UsageStore`; it is its own Protocol so that
    stand-in usage stores need not.
    """

    def task_records(self, tenant: str, task: str, *, limit: int) -> list[UsageRecord]:
        """At most ``limit`` records of ``tenant`` with that non-empty task, in started_at
        order (any status)."""
        ...


def open_usage_store(db_url: str, *, durable_at_commit: bool = True,
                     writer: SqliteWriter | None = None) -> UsageStore:
    """The usage-record store at ``db_url`` (SQLite or PostgreSQL); ``durable_at_commit``
    and ``writer`` as for :func:`~ciyuan.store.open.open_ledger_store`."""
    if db_url.startswith(("postgresql://", "postgres://")):
        from ciyuan.store.postgres_usage import PostgresUsageStore

        return PostgresUsageStore(db_url)
    from ciyuan.store.open import sqlite_path
    from ciyuan.store.sqlite_usage import SqliteUsageStore

    return SqliteUsageStore(sqlite_path(db_url), durable_at_commit=durable_at_commit,
                            writer=writer)
