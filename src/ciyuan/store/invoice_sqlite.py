"""SQLite invoice store: WAL, one writer connection, ``BEGIN IMMEDIATE`` per issue.

Shares the database file with the ledger and usage stores (own tables, own migration
history). Issuing reads the document slot, takes the next number of the series and inserts
the document in one IMMEDIATE transaction: no other process can take a number in between,
and a failure rolls the number back (gapless).
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from ciyuan.invoice.document import Document
from ciyuan.invoice.errors import InvoiceNotFoundError, InvoiceSchemaError
from ciyuan.invoice.numbering import series
from ciyuan.store.invoice_schema import (
    COLUMNS,
    SQLITE_MIGRATIONS,
    check_draft,
    conflict,
    document_row,
    issued,
    load,
    number_year,
    same_content,
)
from ciyuan.store.migrations import refusal
from ciyuan.store.sqlite_connect import immediate, open_migrated

__all__ = ["SqliteInvoiceStore"]

_INSERT = (f"INSERT INTO invoice_documents ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(COLUMNS))})")
_NEXT = ("INSERT INTO invoice_sequences (series, year, last) VALUES (?, ?, 1) "
         "ON CONFLICT (series, year) DO UPDATE SET last = last + 1 RETURNING last")


class SqliteInvoiceStore:
    """The :class:`~ciyuan.store.invoice_protocol.InvoiceStore` on one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        self._conn = open_migrated(path, SQLITE_MIGRATIONS, table="_invoice_migrations",
                                   refuse=refusal(InvoiceSchemaError, "invoice"))

    def issue(self, document: Document, issued_at: dt.datetime) -> Document:
        check_draft(document)
        with immediate(self._lock, self._conn) as conn:
            row = conn.execute("SELECT body FROM invoice_documents WHERE id = ?",
                               (document.id,)).fetchone()
            if row is not None:
                stored = load(row[0])
                if same_content(stored, document):
                    return stored
                raise conflict(document)
            year = number_year(document, issued_at)
            seq = conn.execute(_NEXT, (series(document.issuer, document.kind), year)
                               ).fetchone()[0]
            out = issued(document, issued_at, seq)
            conn.execute(_INSERT, document_row(out, seq))
        return out

    def _bodies(self, sql: str, params: tuple[object, ...]) -> list[Document]:
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [load(row[0]) for row in rows]

    def documents(self, issuer: str, tenant: str, period_label: str) -> list[Document]:
        return self._bodies("SELECT body FROM invoice_documents WHERE issuer = ? AND tenant = ? "
                            "AND period = ? ORDER BY sequence_in_period",
                            (issuer, tenant, period_label))

    def get(self, number: str) -> Document:
        found = self._bodies("SELECT body FROM invoice_documents WHERE number = ?", (number,))
        if not found:
            raise InvoiceNotFoundError(f"no issued invoice or credit note {number!r}; "
                                       "`ciyuan invoice --month YYYY-MM` shows them",
                                       number=number)
        return found[0]

    def listing(self, period_label: str | None = None,
                tenant: str | None = None) -> list[Document]:
        where, params = ["1 = 1"], []
        if period_label is not None:
            where.append("period = ?")
            params.append(period_label)
        if tenant is not None:
            where.append("tenant = ?")
            params.append(tenant)
        return self._bodies(f"SELECT body FROM invoice_documents WHERE {' AND '.join(where)} "
                            "ORDER BY series, year, seq", tuple(params))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
