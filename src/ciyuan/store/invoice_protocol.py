"""The invoice store interface: issued documents (immutable) and their gapless numbers.

Implementations: :class:`~ciyuan.store.invoice_sqlite.SqliteInvoiceStore` and
:class:`~ciyuan.store.invoice_postgres.PostgresInvoiceStore`, checked by one contract suite
(``tests/invoice/test_invoice_store.py``). Drafts are never stored: they are recomputed.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from ciyuan.invoice.document import Document

__all__ = ["InvoiceStore", "open_invoice_store"]


class InvoiceStore(Protocol):
    def issue(self, document: Document, issued_at: dt.datetime) -> Document:
        """Number and store a draft in one transaction; the issued document.

        The number is the next of the document's series for the year of ``issued_at`` in the
        period's time zone (gapless). Issuing a draft whose id is already stored returns the
        stored document when the content is the same (a retry) and raises
        ``invoice-conflict`` otherwise (another process issued that slot first).
        """
        ...

    def documents(self, issuer: str, tenant: str, period_label: str) -> list[Document]:
        """The issued documents of one tenant and period, in the order they were issued."""
        ...

    def get(self, number: str) -> Document:
        """The document with ``number``; ``invoice-not-found`` otherwise."""
        ...

    def listing(self, period_label: str | None = None,
                tenant: str | None = None) -> list[Document]:
        """Issued documents, optionally of one period and/or tenant, by number."""
        ...

    def close(self) -> None: ...


def open_invoice_store(db_url: str) -> InvoiceStore:
    """The invoice store of a database URL (``sqlite:///…`` or ``postgresql://…``), migrated
    to this ciyuan's schema. Close it when done."""
    from ciyuan.store.open import sqlite_path

    if db_url.startswith(("postgresql://", "postgres://")):
        from ciyuan.store.invoice_postgres import PostgresInvoiceStore

        return PostgresInvoiceStore(db_url)
    from ciyuan.store.invoice_sqlite import SqliteInvoiceStore

    return SqliteInvoiceStore(sqlite_path(db_url))
