"""What both judge-score stores share: columns, row mapping, errors, DDL.

One live judgement is one row of ``judge_scores``, keyed by the judged call's usage record,
the judge model and the rubric (``UNIQUE (record_id, judge, rubric)``): the same call judged
again by the same judge and rubric is stored once. ``tenant`` is the judged call's tenant, so
a tenant reads only the scores of its own calls. The score is kept exactly as integer
billionths (``value_nano``), as the outcome store keeps scores. Timestamps are UTC: SQLite
keeps integer microseconds (``scored_at_us``), PostgreSQL ``timestamptz``. The table keeps
its own migration history (``_judge_score_migrations`` / ``ciyuan_judge_score_migrations``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from ciyuan.core.errors import CiyuanError
from ciyuan.quality.live import JudgeScore
from ciyuan.store.migrations import Migration

__all__ = ["JUDGE_SCORE_COLUMNS", "JUDGE_SCORE_MIGRATIONS", "POSTGRES_JUDGE_SCORE_MIGRATIONS",
           "JudgeScoreSchemaError", "score_from_row", "score_values"]

#: Columns of ``judge_scores`` in order (``seq`` apart); the timestamp is named for SQLite.
JUDGE_SCORE_COLUMNS: tuple[str, ...] = (
    "record_id", "tenant", "judge", "rubric", "value_nano", "passed", "judge_record_id",
    "scored_at_us", "error",
)
_NANO = 1_000_000_000


class JudgeScoreSchemaError(CiyuanError):
    code = "judge-score-schema-newer"
    summary = ("The judge-score table has migrations this ciyuan does not know; upgrade "
               "ciyuan.")


def score_values(s: JudgeScore, timestamp: Callable[[dt.datetime], object]) -> tuple[object, ...]:
    """The score as column values in :data:`JUDGE_SCORE_COLUMNS` order."""
    return (s.record_id, s.tenant, s.judge, s.rubric, round(s.value * _NANO), s.passed,
            s.judge_record_id, timestamp(s.scored_at), s.error)


def score_from_row(row: Sequence[Any], timestamp: Callable[[Any], dt.datetime]) -> JudgeScore:
    """A score from column values in :data:`JUDGE_SCORE_COLUMNS` order."""
    record_id, tenant, judge, rubric, value, passed, judge_record, at, error = row
    return JudgeScore(record_id, tenant, judge, rubric, int(value) / _NANO, bool(passed),
                      judge_record, timestamp(at), error)


def _table(postgres: bool) -> str:
    seq = "seq BIGSERIAL PRIMARY KEY" if postgres else "seq INTEGER PRIMARY KEY"
    at = "scored_at TIMESTAMPTZ" if postgres else "scored_at_us INTEGER"
    integer = "BIGINT" if postgres else "INTEGER"
    boolean = "BOOLEAN" if postgres else "INTEGER"
    text = 'TEXT COLLATE "C"' if postgres else "TEXT"
    return f"""
        CREATE TABLE judge_scores (
            {seq},
            record_id {text} NOT NULL,
            tenant {text} NOT NULL,
            judge {text} NOT NULL,
            rubric {text} NOT NULL,
            value_nano {integer} NOT NULL CHECK (value_nano BETWEEN 0 AND 1000000000),
            passed {boolean} NOT NULL,
            judge_record_id {text} NOT NULL,
            {at} NOT NULL,
            error TEXT NOT NULL,
            UNIQUE (record_id, judge, rubric)
        )"""


_INDEX = "CREATE INDEX judge_scores_tenant ON judge_scores (tenant, seq)"
#: SQLite: named, ordered, recorded in ``_judge_score_migrations``.
JUDGE_SCORE_MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001-judge-scores", (_table(False), _INDEX)),
)
#: PostgreSQL: the same migrations, recorded in ``ciyuan_judge_score_migrations``.
POSTGRES_JUDGE_SCORE_MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001-judge-scores", (_table(True), _INDEX)),
)
