"""What both invoice stores share: the tables (as named, ordered migrations), the rule for
retries, and row ↔ document mapping.

``invoice_documents`` holds one row per issued document: the searchable fields as columns and
the whole document as its JSON (``ciyuan.invoice.codec``). Triggers refuse UPDATE and
DELETE: an issued document never changes (corrections are credit notes).
``invoice_sequences`` holds the last number per series and year; a number is taken in the
transaction that inserts the document, so a failure leaves no gap. The tables keep their own
migration history (``_invoice_migrations`` / ``ciyuan_invoice_migrations``) beside the ledger's
and the usage store's.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import Any

from ciyuan.invoice.codec import from_json, to_json
from ciyuan.invoice.document import Document
from ciyuan.invoice.errors import InvoiceConflictError, InvoiceImmutableError
from ciyuan.invoice.numbering import format_number, series
from ciyuan.invoice.period import time_zone
from ciyuan.store.migrations import Migration

__all__ = [
    "COLUMNS",
    "POSTGRES_MIGRATIONS",
    "SQLITE_MIGRATIONS",
    "check_draft",
    "conflict",
    "document_row",
    "issued",
    "load",
    "number_year",
    "same_content",
]

COLUMNS = ("id", "number", "issuer", "series", "year", "seq", "kind", "tenant", "period",
           "sequence_in_period", "currency", "total", "issued_at", "body")

_TABLE = """
    CREATE TABLE invoice_documents (
        id TEXT PRIMARY KEY,
        number TEXT NOT NULL UNIQUE,
        issuer TEXT NOT NULL,
        series TEXT NOT NULL,
        year INTEGER NOT NULL,
        seq INTEGER NOT NULL CHECK (seq >= 1),
        kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
        tenant TEXT NOT NULL,
        period TEXT NOT NULL,
        sequence_in_period INTEGER NOT NULL,
        currency TEXT NOT NULL,
        total TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (series, year, seq),
        UNIQUE (issuer, tenant, period, sequence_in_period)
    )"""
_SEQUENCES = """
    CREATE TABLE invoice_sequences (
        series TEXT NOT NULL,
        year INTEGER NOT NULL,
        last INTEGER NOT NULL CHECK (last >= 1),
        PRIMARY KEY (series, year)
    )"""
_INDEX = "CREATE INDEX invoice_documents_period ON invoice_documents (tenant, period)"

SQLITE_MIGRATIONS = (
    Migration("0001-invoice-documents", (_TABLE, _INDEX, """
        CREATE TRIGGER invoice_documents_no_update BEFORE UPDATE ON invoice_documents
        BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable; issue a credit note'); END""",
        """
        CREATE TRIGGER invoice_documents_no_delete BEFORE DELETE ON invoice_documents
        BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable; issue a credit note'); END
    """)),
    Migration("0002-invoice-sequences", (_SEQUENCES,)),
)

POSTGRES_MIGRATIONS = (
    Migration("0001-invoice-documents", (_TABLE, _INDEX, """
        CREATE FUNCTION invoice_documents_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'issued invoices are immutable; issue a credit note'; END $$""",
        """
        CREATE TRIGGER invoice_documents_no_change BEFORE UPDATE OR DELETE ON invoice_documents
        FOR EACH ROW EXECUTE FUNCTION invoice_documents_immutable()
    """)),
    Migration("0002-invoice-sequences", (_SEQUENCES,)),
)


def _content(doc: Document) -> dict[str, Any]:
    body = to_json(doc)
    for key in ("status", "number", "issued_at", "created_at"):
        body.pop(key)
    return body


def same_content(a: Document, b: Document) -> bool:
    """Whether two documents bill the same (ignoring number, status and times)."""
    return _content(a) == _content(b)


def number_year(doc: Document, issued_at: dt.datetime) -> int:
    """The year a document issued at ``issued_at`` is numbered in (the period's zone)."""
    return issued_at.astimezone(time_zone(doc.period.time_zone)).year


def issued(doc: Document, issued_at: dt.datetime, seq: int) -> Document:
    """``doc`` as issued with the ``seq``-th number of its series and year."""
    assert issued_at.tzinfo is not None
    number = format_number(doc.issuer, doc.kind, number_year(doc, issued_at), seq)
    return replace(doc, status="issued", number=number, issued_at=issued_at.astimezone(dt.UTC))


def document_row(doc: Document, seq: int) -> tuple[object, ...]:
    """Column values (in :data:`COLUMNS` order) of an issued document."""
    assert doc.is_issued and doc.issued_at is not None
    body = json.dumps(to_json(doc), ensure_ascii=False, sort_keys=True)
    return (doc.id, doc.number, doc.issuer, series(doc.issuer, doc.kind),
            number_year(doc, doc.issued_at), seq, doc.kind, doc.tenant, doc.period.label,
            doc.sequence_in_period, doc.currency, format(doc.total, "f"),
            doc.issued_at.isoformat(), body)


def load(body: str) -> Document:
    return from_json(json.loads(body))


def conflict(doc: Document) -> InvoiceConflictError:
    return InvoiceConflictError(
        f"document {doc.sequence_in_period} of {doc.tenant} for {doc.period.label} was issued "
        "by another process with other content meanwhile; run the command again to bill what "
        "is left", id=doc.id)


def check_draft(doc: Document) -> None:
    """Only drafts are issued; an issued document never changes."""
    if doc.is_issued:
        raise InvoiceImmutableError(
            f"{doc.number} is already issued and cannot change; correct it with a credit "
            "note", number=doc.number)
