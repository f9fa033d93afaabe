"""The outcome-report store interface: append-only, idempotent on ``(tenant, id)``.

Implementations: SQLite (default) and PostgreSQL, checked by one contract suite
(``tests/store/test_outcome_store.py``).
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Iterable
from typing import Protocol

from ciyuan.core.outcomes import Outcome

__all__ = ["OutcomeStore", "open_outcome_store"]


class OutcomeStore(Protocol):
    """Durable outcome reports; a report is never changed, a correction is a new report."""

    def add(self, outcome: Outcome) -> Outcome:
        """Store a report; the stored one is returned.

        The same ``(tenant, id)`` again with the same body is a no-op that returns the first
        report (its ``reported_at`` included); with another body it raises
        :class:`~ciyuan.store.outcome_schema.OutcomeConflictError` and stores nothing.
        """
        ...

    def list(self, tenant: str | None, *, start: dt.datetime | None = None,
             end: dt.datetime | None = None, record_ids: Iterable[str] | None = None,
             task: str | None = None) -> builtins.list[Outcome]:
        """Reports with ``start <= reported_at < end`` (either bound optional) of one tenant
        (``None``: all tenants), about one of ``record_ids`` and/or in ``task`` when given,
        in the order received (``reported_at``, then arrival)."""
        ...

    def close(self) -> None: ...


def open_outcome_store(db_url: str) -> OutcomeStore:
    """The outcome store at ``db_url`` (SQLite or PostgreSQL), migrated. Close it when done."""
    if db_url.startswith(("postgresql://", "postgres://")):
        from ciyuan.store.postgres_outcomes import PostgresOutcomeStore

        return PostgresOutcomeStore(db_url)
    from ciyuan.store.open import sqlite_path
    from ciyuan.store.sqlite_outcomes import SqliteOutcomeStore

    return SqliteOutcomeStore(sqlite_path(db_url))
