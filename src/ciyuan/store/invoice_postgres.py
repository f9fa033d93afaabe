"""PostgreSQL invoice store (psycopg 3): the same contract as the SQLite one.

One connection per store, used by one thread at a time, autocommit with an explicit
transaction per call. The next number is an ``INSERT … ON CONFLICT DO UPDATE … RETURNING``
on the series row, which holds that row's lock until commit: concurrent issuers of one series
queue there, and a transaction that fails (e.g. another process took the same document slot,
a unique violation) rolls its number back, so numbers stay gapless.

``schema`` puts the tables in a schema of their own (created if missing; tests use one per
test); by default the connection's ``search_path`` decides.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import psycopg

from ciyuan.invoice.document import Document
from ciyuan.invoice.errors import InvoiceNotFoundError, InvoiceSchemaError
from ciyuan.invoice.numbering import series
from ciyuan.store.invoice_schema import (
    COLUMNS,
    POSTGRES_MIGRATIONS,
    check_draft,
    conflict,
    document_row,
    issued,
    load,
    number_year,
    same_content,
)
from ciyuan.store.migrations import refusal
from ciyuan.store.postgres_connect import connect_migrated

__all__ = ["PostgresInvoiceStore"]

_INSERT = (f"INSERT INTO invoice_documents ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join(['%s'] * len(COLUMNS))})")
_NEXT = ("INSERT INTO invoice_sequences (series, year, last) VALUES (%s, %s, 1) "
         "ON CONFLICT (series, year) DO UPDATE SET last = invoice_sequences.last + 1 "
         "RETURNING last")
_BODY = "SELECT body FROM invoice_documents"


class PostgresInvoiceStore:
    """The :class:`~ciyuan.store.invoice_protocol.InvoiceStore` on PostgreSQL."""

    def __init__(self, dsn: str, *, schema: str | None = None) -> None:
        self._lock = threading.Lock()
        self._conn = connect_migrated(dsn, schema, POSTGRES_MIGRATIONS,
                                      table="ciyuan_invoice_migrations",
                                      refuse=refusal(InvoiceSchemaError, "invoice"))

    def _stored(self, document_id: str) -> Document | None:
        row = self._conn.execute(f"{_BODY} WHERE id = %s", (document_id,)).fetchone()
        return None if row is None else load(row[0])

    def issue(self, document: Document, issued_at: dt.datetime) -> Document:
        check_draft(document)
        with self._lock:
            try:
                with self._conn.transaction():
                    stored = self._stored(document.id)
                    if stored is None:
                        year = number_year(document, issued_at)
                        row = self._conn.execute(
                            _NEXT, (series(document.issuer, document.kind), year)).fetchone()
                        assert row is not None
                        out = issued(document, issued_at, int(row[0]))
                        self._conn.execute(_INSERT, document_row(out, int(row[0])))
                        return out
            except psycopg.errors.UniqueViolation:
                stored = self._stored(document.id)  # another process took the slot first
                if stored is None:
                    raise
        if same_content(stored, document):
            return stored
        raise conflict(document)

    def _bodies(self, query: str, params: tuple[Any, ...]) -> list[Document]:
        with self._lock:
            rows = self._conn.execute(query, params).fetchall()
        return [load(row[0]) for row in rows]

    def documents(self, issuer: str, tenant: str, period_label: str) -> list[Document]:
        return self._bodies(f"{_BODY} WHERE issuer = %s AND tenant = %s AND period = %s "
                            "ORDER BY sequence_in_period", (issuer, tenant, period_label))

    def get(self, number: str) -> Document:
        found = self._bodies(f"{_BODY} WHERE number = %s", (number,))
        if not found:
            raise InvoiceNotFoundError(f"no issued invoice or credit note {number!r}; "
                                       "`ciyuan invoice --month YYYY-MM` shows them",
                                       number=number)
        return found[0]

    def listing(self, period_label: str | None = None,
                tenant: str | None = None) -> list[Document]:
        where, params = ["TRUE"], []
        if period_label is not None:
            where.append("period = %s")
            params.append(period_label)
        if tenant is not None:
            where.append("tenant = %s")
            params.append(tenant)
        return self._bodies(f"{_BODY} WHERE {' AND '.join(where)} ORDER BY series, year, seq",
                            tuple(params))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
