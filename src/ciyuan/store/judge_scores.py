"""The judge-score store interface: live judgements linked to usage records.

Implementations: SQLite (default) and PostgreSQL, checked by one contract suite
(``tests/store/test_judge_score_store.py``).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Protocol

from ciyuan.quality.live import JudgeScore

__all__ = ["JudgeScoreStore", "open_judge_score_store"]


class JudgeScoreStore(Protocol):
    def add(self, score: JudgeScore) -> JudgeScore:
        """Store a score; the stored one is returned (the first, when the same call was
        already judged by the same judge and rubric)."""
        ...

    def list(self, tenant: str | None, *,
             record_ids: Iterable[str] | None = None) -> builtins.list[JudgeScore]:
        """Scores of one tenant's calls (``None``: all tenants), of ``record_ids`` when
        given, in the order stored."""
        ...

    def close(self) -> None: ...


def open_judge_score_store(db_url: str) -> JudgeScoreStore:
    """The judge-score store at ``db_url`` (SQLite or PostgreSQL), migrated."""
    if db_url.startswith(("postgresql://", "postgres://")):
        from ciyuan.store.postgres_judge_scores import PostgresJudgeScoreStore

        return PostgresJudgeScoreStore(db_url)
    from ciyuan.store.open import sqlite_path
    from ciyuan.store.sqlite_judge_scores import SqliteJudgeScoreStore

    return SqliteJudgeScoreStore(sqlite_path(db_url))
