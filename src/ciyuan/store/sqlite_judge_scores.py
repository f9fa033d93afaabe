"""SQLite judge-score store: WAL, one writer connection, ``BEGIN IMMEDIATE`` per write.

It shares the database file with the usage and ledger stores; its table (``judge_scores``)
and migration history (``_judge_score_migrations``) have their own names.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Iterable
from pathlib import Path

from ciyuan.quality.live import JudgeScore
from ciyuan.store.judge_score_schema import (
    JUDGE_SCORE_COLUMNS,
    JUDGE_SCORE_MIGRATIONS,
    JudgeScoreSchemaError,
    score_from_row,
    score_values,
)
from ciyuan.store.migrations import refusal
from ciyuan.store.sqlite_connect import id_chunks, immediate, open_migrated
from ciyuan.store.usage_schema import from_us, to_us

__all__ = ["SqliteJudgeScoreStore"]

_COLS = ", ".join(JUDGE_SCORE_COLUMNS)
_INSERT = (f"INSERT INTO judge_scores ({_COLS}) VALUES "
           f"({', '.join('?' * len(JUDGE_SCORE_COLUMNS))}) "
           "ON CONFLICT (record_id, judge, rubric) DO NOTHING")


class SqliteJudgeScoreStore:
    """The :class:`~ciyuan.store.judge_scores.JudgeScoreStore` on one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()  # the one writer
        self._conn = open_migrated(path, JUDGE_SCORE_MIGRATIONS, table="_judge_score_migrations",
                                   refuse=refusal(JudgeScoreSchemaError, "judge-score"))

    def add(self, score: JudgeScore) -> JudgeScore:
        with immediate(self._lock, self._conn) as conn:
            conn.execute(_INSERT, score_values(score, to_us))
            row = conn.execute(
                f"SELECT {_COLS} FROM judge_scores WHERE record_id = ? AND judge = ? "
                "AND rubric = ?", (score.record_id, score.judge, score.rubric)).fetchone()
        return score_from_row(row, from_us)

    def list(self, tenant: str | None, *,
             record_ids: Iterable[str] | None = None) -> builtins.list[JudgeScore]:
        where, params = "1 = 1", builtins.list[object]()
        if tenant is not None:
            where, params = "tenant = ?", [tenant]
        chunks: builtins.list[builtins.list[str] | None] = [None]
        if record_ids is not None:
            chunks = [*id_chunks(record_ids)]
        found: builtins.list[tuple[int, JudgeScore]] = []
        with self._lock:
            for chunk in chunks:
                extra = "" if chunk is None else \
                    f" AND record_id IN ({','.join('?' * len(chunk))})"
                rows = self._conn.execute(
                    f"SELECT seq, {_COLS} FROM judge_scores WHERE {where}{extra}",
                    (*params, *(chunk or ()))).fetchall()
                found.extend((row[0], score_from_row(row[1:], from_us)) for row in rows)
        return [s for _, s in sorted(found, key=lambda item: item[0])]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
