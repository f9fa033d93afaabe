"""What both outcome stores share: columns, row mapping, the idempotency rule, errors, DDL.

One report is one row of ``outcomes``, append-only (triggers refuse UPDATE and DELETE). A
report's identity is ``(tenant, id)``: the id is the client's idempotency key, and two tenants
choosing the same key must neither collide nor learn of each other. ``seq`` numbers rows in
the order the store received them, which breaks ties between reports of the same instant.

Money is integer nano-units (``value_nano``, BIGINT, NULL when no value was given), as in
every ciyuan table; the score is kept exactly as integer billionths (``score_nano``).
Timestamps are UTC: SQLite keeps integer microseconds (``reported_at_us``), PostgreSQL
``timestamptz``. The tables keep their own migration history (``_outcome_migrations`` /
``ciyuan_outcome_migrations``) beside the usage and ledger tables in the same database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from ciyuan.core.errors import CiyuanError, InputError
from ciyuan.core.money import from_nano, to_nano_units
from ciyuan.core.outcomes import Outcome
from ciyuan.store.migrations import Migration

__all__ = [
    "OUTCOME_COLUMNS",
    "OUTCOME_MIGRATIONS",
    "POSTGRES_OUTCOME_MIGRATIONS",
    "OutcomeConflictError",
    "OutcomeSchemaError",
    "outcome_from_row",
    "outcome_values",
    "stored_or_conflict",
]

#: Columns of ``outcomes`` in order (``seq`` apart); the timestamp is named for SQLite.
OUTCOME_COLUMNS: tuple[str, ...] = (
    "tenant", "id", "record_id", "task", "outcome", "reported_at_us", "value_nano",
    "currency", "score_nano", "note",
)


class OutcomeConflictError(InputError):
    code = "outcome-conflict"
    summary = ("An outcome report reuses an idempotency key (report id) with a different body;"
               " send the same body to retry, or use a new key for a new report. HTTP 409.")


class OutcomeSchemaError(CiyuanError):
    code = "outcome-schema-newer"
    summary = "The outcome tables have migrations this ciyuan does not know; upgrade ciyuan."


def _nano(value: Decimal | None) -> int | None:
    # Outcome validation bounds the places to 9, so this rounding mode never acts.
    return None if value is None else to_nano_units(value, "half-even")


def _decimal(value: int | None) -> Decimal | None:
    return None if value is None else from_nano(int(value))


def outcome_values(o: Outcome, timestamp: Callable[[dt.datetime], object]) -> tuple[object, ...]:
    """The report as column values in :data:`OUTCOME_COLUMNS` order."""
    return (o.tenant, o.id, o.record_id, o.task, o.outcome, timestamp(o.reported_at),
            _nano(o.value), o.currency, _nano(o.score), o.note)


def outcome_from_row(row: Sequence[Any], timestamp: Callable[[Any], dt.datetime]) -> Outcome:
    """A report from column values in :data:`OUTCOME_COLUMNS` order."""
    tenant, id_, record_id, task, outcome, at, value, currency, score, note = row
    return Outcome(id=id_, tenant=tenant, record_id=record_id, task=task, outcome=outcome,
                   reported_at=timestamp(at), value=_decimal(value), currency=currency,
                   score=_decimal(score), note=note)


def stored_or_conflict(stored: Outcome, new: Outcome) -> Outcome:
    """``stored`` when ``new`` is the same report again; else an idempotency conflict."""
    if stored.same_report(new):
        return stored
    raise OutcomeConflictError(
        f"outcome report {new.id!r} was already received with another body (outcome "
        f"{stored.outcome}, reported {stored.reported_at.isoformat()}); send the same body to "
        "retry, or a new Idempotency-Key for a new report", id=new.id)


def _table(postgres: bool) -> str:
    seq = "seq BIGSERIAL PRIMARY KEY" if postgres else "seq INTEGER PRIMARY KEY"
    at = "reported_at TIMESTAMPTZ" if postgres else "reported_at_us INTEGER"
    integer = "BIGINT" if postgres else "INTEGER"
    text = 'TEXT COLLATE "C"' if postgres else "TEXT"
    return f"""
        CREATE TABLE outcomes (
            {seq},
            tenant {text} NOT NULL,
            id {text} NOT NULL,
            record_id {text} NOT NULL,
            task {text} NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'partial')),
            {at} NOT NULL,
            value_nano {integer} CHECK (value_nano >= 0),
            currency TEXT NOT NULL,
            score_nano {integer} CHECK (score_nano BETWEEN 0 AND 1000000000),
            note TEXT NOT NULL,
            UNIQUE (tenant, id),
            CHECK (record_id <> '' OR task <> '')
        )"""


def _indexes(at: str) -> tuple[str, ...]:
    return (f"CREATE INDEX outcomes_tenant ON outcomes (tenant, {at}, seq)",
            "CREATE INDEX outcomes_record ON outcomes (record_id) WHERE record_id <> ''",
            "CREATE INDEX outcomes_task ON outcomes (tenant, task) WHERE task <> ''")


_SQLITE_GUARDS = (
    "CREATE TRIGGER outcomes_no_update BEFORE UPDATE ON outcomes "
    "BEGIN SELECT RAISE(ABORT, 'outcome reports are append-only'); END",
    "CREATE TRIGGER outcomes_no_delete BEFORE DELETE ON outcomes "
    "BEGIN SELECT RAISE(ABORT, 'outcome reports are append-only'); END",
)
_PG_GUARDS = (
    "CREATE FUNCTION outcomes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'outcome reports are append-only'; END $$",
    "CREATE TRIGGER outcomes_no_change BEFORE UPDATE OR DELETE ON outcomes "
    "FOR EACH ROW EXECUTE FUNCTION outcomes_append_only()",
)

#: SQLite: named, ordered, recorded in ``_outcome_migrations``.
OUTCOME_MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001-outcomes", (_table(False), *_indexes("reported_at_us"), *_SQLITE_GUARDS)),
)
#: PostgreSQL: the same migrations, recorded in ``ciyuan_outcome_migrations``.
POSTGRES_OUTCOME_MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001-outcomes", (_table(True), *_indexes("reported_at"), *_PG_GUARDS)),
)
