"""PostgreSQL judge-score store (psycopg 3): the same contract as the SQLite one.

One connection per store, used by one thread at a time (a lock), autocommit with an explicit
transaction per call. ``add`` is ``INSERT … ON CONFLICT DO NOTHING`` then a read of the row
that won, so gateway workers judging the same call store one score. ``schema`` puts the table
in a schema of its own (tests use one per test).
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Iterable
from typing import Any

from ciyuan.quality.live import JudgeScore
from ciyuan.store.judge_score_schema import (
    JUDGE_SCORE_COLUMNS,
    POSTGRES_JUDGE_SCORE_MIGRATIONS,
    JudgeScoreSchemaError,
    score_from_row,
    score_values,
)
from ciyuan.store.migrations import refusal
from ciyuan.store.postgres_connect import connect_migrated, from_timestamptz, to_timestamptz
from ciyuan.store.usage_schema import pg_column

__all__ = ["PostgresJudgeScoreStore"]

_PG_COLS = [pg_column(c) for c in JUDGE_SCORE_COLUMNS]
_COLS = ", ".join(_PG_COLS)
_INSERT = (f"INSERT INTO judge_scores ({_COLS}) VALUES ({', '.join(['%s'] * len(_PG_COLS))}) "
           "ON CONFLICT (record_id, judge, rubric) DO NOTHING")


class PostgresJudgeScoreStore:
    """The :class:`~ciyuan.store.judge_scores.JudgeScoreStore` on PostgreSQL."""

    def __init__(self, dsn: str, *, schema: str | None = None) -> None:
        self._lock = threading.Lock()
        self._conn = connect_migrated(dsn, schema, POSTGRES_JUDGE_SCORE_MIGRATIONS,
                                      table="ciyuan_judge_score_migrations",
                                      refuse=refusal(JudgeScoreSchemaError, "judge-score"))

    def add(self, score: JudgeScore) -> JudgeScore:
        with self._lock, self._conn.transaction():
            self._conn.execute(_INSERT, score_values(score, to_timestamptz))
            row = self._conn.execute(
                f"SELECT {_COLS} FROM judge_scores WHERE record_id = %s AND judge = %s AND "
                "rubric = %s", (score.record_id, score.judge, score.rubric)).fetchone()
            assert row is not None
            return score_from_row(row, from_timestamptz)

    def list(self, tenant: str | None, *,
             record_ids: Iterable[str] | None = None) -> builtins.list[JudgeScore]:
        where, params = ["TRUE"], builtins.list[Any]()
        if tenant is not None:
            where.append("tenant = %s")
            params.append(tenant)
        if record_ids is not None:
            where.append("record_id = ANY(%s)")
            params.append(sorted(set(record_ids)))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLS} FROM judge_scores WHERE {' AND '.join(where)} ORDER BY seq",
                params).fetchall()
        return [score_from_row(row, from_timestamptz) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
