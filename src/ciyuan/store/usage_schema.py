"""What both usage-record stores share: columns, row mapping, status rules, errors, DDL.

A record is one row of ``usage_records``. Usage counts, standard tokens and money are their
own integer columns (money in nano-units, BIGINT), never JSON, so SQL can aggregate them
(``SUM(charge_nano)``, ``SUM(output_tokens) GROUP BY model``); only the free-form
``metadata`` labels are a JSON object. Usage columns are NULL while a record is pending.
Timestamps are UTC: SQLite keeps integer microseconds since the epoch (``*_at_us``),
PostgreSQL ``timestamptz``.

Status rules (SPEC invariant 3, exactly once)::

    begin(pending)          new id → stored; known id → the stored record, unchanged
    complete(final)         pending → completed | failed | reconciled (once)
                            the same final status again → the stored record, unchanged
                            any other move → UsageStatusTransitionError

The usage tables live beside the ledger's in the same database file (or PostgreSQL schema)
and keep their own migration history (``_usage_migrations``), so neither store's migrations
can be mistaken for the other's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ciyuan.core.errors import CiyuanError, InputError, NotFoundError
from ciyuan.core.records import RecordStatus, UsageRecord
from ciyuan.core.usage import Usage
from ciyuan.store.migrations import Migration

__all__ = [
    "FINAL_STATUSES",
    "POSTGRES_DDL",
    "RECORD_COLUMNS",
    "USAGE_COLUMNS",
    "COMPLETION_COLUMNS",
    "USAGE_MIGRATIONS",
    "UsageRecordConflictError",
    "UsageRecordInvalidError",
    "UsageRecordNotFoundError",
    "UsageSchemaError",
    "UsageStatusTransitionError",
    "check_begin",
    "check_completion",
    "completion_applies",
    "completion_params",
    "from_us",
    "pg_column",
    "record_from_row",
    "record_values",
    "to_us",
]

FINAL_STATUSES: tuple[RecordStatus, ...] = ("completed", "failed", "reconciled")
#: Ids are idempotency keys of usage events; 200 characters hold a UUID and a prefix.
RECORD_ID_MAX_CHARS = 200
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)

#: Usage counts, one column each, named as the ``Usage`` fields.
USAGE_COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Usage))
#: Every column of ``usage_records`` in order; timestamps named for SQLite's ``*_us``
#: integers (PostgreSQL drops the suffix, see :func:`pg_column`).
RECORD_COLUMNS: tuple[str, ...] = (
    "id", "tenant", "model", "provider", "endpoint", "started_at_us", "status", "key_id",
    "team", "agent", "task", "purpose", "region", "stream", "request_sha256",
    "idempotency_key", "reservation_id", "completed_at_us", *USAGE_COLUMNS, "usage_method",
    "standard_input_tokens", "standard_output_tokens", "currency", "charge_nano",
    "upstream_cost_nano", "price_book_version", "response_sha256", "upstream_request_id",
    "error", "metadata",
)
_TIMESTAMPS = ("started_at_us", "completed_at_us")
_TENANT, _STARTED = RECORD_COLUMNS.index("tenant"), RECORD_COLUMNS.index("started_at_us")
#: What a completion writes: every column but the id and the two its ``WHERE`` matches
#: (tenant, start), which it leaves as they are, so SQLite leaves the indexes on them
#: untouched (it rewrites the entries of every index whose column is in the ``SET`` list)
COMPLETION_COLUMNS: tuple[str, ...] = tuple(
    c for c in RECORD_COLUMNS if c not in ("id", "tenant", "started_at_us"))
_COMPLETION_AT = tuple(RECORD_COLUMNS.index(c) for c in COMPLETION_COLUMNS)


class UsageRecordInvalidError(InputError, ValueError):
    code = "usage-record-invalid"
    summary = ("A usage record cannot be stored as given (begin needs status 'pending', "
               "complete a final status; ids are 1-200 characters); the message says which.")


class UsageRecordNotFoundError(NotFoundError):
    code = "usage-record-not-found"
    summary = "No usage record has that id; write it with begin() before completing it."


class UsageStatusTransitionError(InputError):
    code = "usage-status-transition"
    summary = ("A usage record may move only from pending to completed, failed or "
               "reconciled, once; a record already final keeps its status.")


class UsageRecordConflictError(InputError):
    code = "usage-record-conflict"
    summary = ("A completion names another tenant or start time than the stored record; a "
               "record id belongs to one call of one tenant.")


class UsageSchemaError(CiyuanError):
    code = "usage-schema-newer"
    summary = "The usage tables have migrations this ciyuan does not know; upgrade ciyuan."


def pg_column(name: str) -> str:
    """The PostgreSQL name of a column: timestamps (``*_at_us`` in SQLite, in this and the
    outcome and judge-score tables) are ``timestamptz`` without ``_us``."""
    return name.removesuffix("_us") if name.endswith("_at_us") else name


def to_us(instant: dt.datetime) -> int:
    """Microseconds since the epoch (exact; aware datetimes only)."""
    return (instant - _EPOCH) // _US


def from_us(value: int) -> dt.datetime:
    return _EPOCH + value * _US


def _check_id(record: UsageRecord) -> None:
    if not isinstance(record.id, str) or not 0 < len(record.id) <= RECORD_ID_MAX_CHARS:
        raise UsageRecordInvalidError(
            f"usage record id must be 1-{RECORD_ID_MAX_CHARS} characters, not {record.id!r}",
            field="id")


def check_begin(record: UsageRecord) -> None:
    """A write-ahead record must be pending and have a usable id."""
    _check_id(record)
    if record.status != "pending":
        raise UsageRecordInvalidError(
            f"begin() stores the write-ahead record, so its status must be 'pending', not "
            f"{record.status!r}; store outcomes with complete()", id=record.id)


def check_completion(record: UsageRecord) -> None:
    """A completion must have a usable id and a final status."""
    _check_id(record)
    if record.status not in FINAL_STATUSES:
        raise UsageRecordInvalidError(
            f"complete() needs a final status ({', '.join(FINAL_STATUSES)}), not "
            f"{record.status!r}", id=record.id)


def completion_params(record: UsageRecord, values: Sequence[object]) -> tuple[object, ...]:
    """Parameters of a store's guarded completion ``UPDATE … SET (COMPLETION_COLUMNS) = (…)
    WHERE id = ? AND status = 'pending' AND tenant = ? AND started_at = ?``, from the
    record's :func:`record_values`."""
    return (*(values[i] for i in _COMPLETION_AT), record.id, values[_TENANT],
            values[_STARTED])


def completion_applies(stored: UsageRecord, new: UsageRecord) -> bool:
    """Whether ``new`` must be written over ``stored`` (False: return ``stored`` as is).

    Raises on a completion that is not final, changes the tenant or start time, or moves a
    record that is already final to another status.
    """
    check_completion(new)
    if (stored.tenant, stored.started_at) != (new.tenant, new.started_at):
        raise UsageRecordConflictError(
            f"usage record {new.id!r} belongs to tenant {stored.tenant!r}, started "
            f"{stored.started_at.isoformat()}; the completion names {new.tenant!r}, "
            f"{new.started_at.isoformat()}. Use a new id for a new call", id=new.id)
    if stored.status == "pending":
        return True
    if stored.status == new.status:
        return False
    raise UsageStatusTransitionError(
        f"usage record {new.id!r} is already {stored.status}; it cannot become {new.status}. "
        "Record a correction as a new ledger transfer instead", id=new.id,
        stored=stored.status, requested=new.status)


def record_values(record: UsageRecord,
                  timestamp: Callable[[dt.datetime], object]) -> tuple[object, ...]:
    """The record as column values in :data:`RECORD_COLUMNS` order."""
    usage = record.usage.to_dict() if record.usage is not None else {}
    values: dict[str, object] = {name: usage.get(name) for name in USAGE_COLUMNS}
    values["started_at_us"] = timestamp(record.started_at)
    values["completed_at_us"] = (timestamp(record.completed_at)
                                 if record.completed_at is not None else None)
    values["metadata"] = json.dumps(dict(record.metadata), ensure_ascii=False, sort_keys=True)
    return tuple(values[name] if name in values else getattr(record, name)
                 for name in RECORD_COLUMNS)


def record_from_row(row: Sequence[Any],
                    timestamp: Callable[[Any], dt.datetime]) -> UsageRecord:
    """A record from column values in :data:`RECORD_COLUMNS` order."""
    values = dict(zip(RECORD_COLUMNS, row, strict=True))
    counts = {name: values.pop(name) for name in USAGE_COLUMNS}
    started, completed = values.pop("started_at_us"), values.pop("completed_at_us")
    metadata = values.pop("metadata")
    if not isinstance(metadata, Mapping):
        metadata = json.loads(metadata)
    values["stream"] = bool(values["stream"])
    return UsageRecord(
        **values,
        started_at=timestamp(started),
        completed_at=timestamp(completed) if completed is not None else None,
        usage=Usage(**counts) if counts["requests"] is not None else None,
        metadata=metadata,
    )


def _column_type(name: str, postgres: bool) -> str:
    """The SQL type of a column: integers are 64-bit (SQLite INTEGER, PostgreSQL BIGINT)."""
    integer = "BIGINT" if postgres else "INTEGER"
    if name == "id":  # byte order, so keyset pages and ORDER BY agree in every locale
        return 'TEXT COLLATE "C" PRIMARY KEY' if postgres else "TEXT PRIMARY KEY"
    if name == "stream":
        return "BOOLEAN NOT NULL" if postgres else "INTEGER NOT NULL"
    if name == "metadata":
        return "JSONB NOT NULL" if postgres else "TEXT NOT NULL"
    if name in _TIMESTAMPS:
        kind = "TIMESTAMPTZ" if postgres else integer
        return kind if name == "completed_at_us" else f"{kind} NOT NULL"
    if name in USAGE_COLUMNS:
        return integer  # NULL while the record is pending
    if name.endswith(("_nano", "_tokens")):
        return f"{integer} NOT NULL"
    return "TEXT NOT NULL"


_STATUS_CHECK = ("CHECK (status IN ('pending', 'completed', 'failed', 'reconciled')), "
                 "CHECK (charge_nano >= 0 AND upstream_cost_nano >= 0)")


def _table(postgres: bool) -> str:
    column = pg_column if postgres else str
    cols = ",\n    ".join(f"{column(n)} {_column_type(n, postgres)}" for n in RECORD_COLUMNS)
    return f"CREATE TABLE usage_records (\n    {cols},\n    {_STATUS_CHECK}\n)"


def _indexes(started: str) -> tuple[str, ...]:
    return (
        f"CREATE INDEX usage_records_started ON usage_records ({started}, id)",
        f"CREATE INDEX usage_records_tenant ON usage_records (tenant, {started}, id)",
        f"CREATE INDEX usage_records_pending ON usage_records ({started}) "
        "WHERE status = 'pending'",
    )


#: Outcome reports name a task (X-Ciyuan-Task) and find its records by it.
_TASK_INDEX = Migration(
    "0002-usage-records-task",
    ("CREATE INDEX usage_records_task ON usage_records (tenant, task) WHERE task <> ''",))

#: SQLite: named, ordered, recorded in ``_usage_migrations``.
USAGE_MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001-usage-records",
              (_table(False), *_indexes("started_at_us"))),
    _TASK_INDEX,
)
#: PostgreSQL: the same migrations, recorded in ``ciyuan_usage_migrations``.
POSTGRES_DDL: tuple[Migration, ...] = (
    Migration("0001-usage-records",
              (_table(True), *_indexes("started_at"))),
    _TASK_INDEX,
)
