"""SQLite receipt-chain store: one row per tenant in ``receipt_chain_heads``.

``advance`` runs in one write transaction (``BEGIN IMMEDIATE``, or a savepoint of the
gateway's turn transaction: :mod:`ciyuan.store.sqlite_writer`): the database's write lock
serializes every worker process on the file, so reading the head, signing the next receipt
and storing the new head happen as one step and each tenant's chain stays a single line.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from ciyuan.receipt.chain import ChainHead
from ciyuan.store.sqlite_identity import apply_identity_migrations
from ciyuan.store.sqlite_writer import SqliteWriter

__all__ = ["SqliteReceiptChainStore"]

T = TypeVar("T")


class SqliteReceiptChainStore:
    """The :class:`~ciyuan.receipt.chain.ReceiptChainStore` on one SQLite file."""

    def __init__(self, path: str | Path, *, durable_at_commit: bool = True,
                 writer: SqliteWriter | None = None) -> None:
        # a writer given is shared with the other stores of a gateway (sqlite_writer)
        self._own_writer = writer is None
        self._writer = writer or SqliteWriter(path, durable_at_commit=durable_at_commit)
        self._lock = self._writer.lock
        self._conn = self._writer.conn
        with self._writer.transaction() as conn:
            apply_identity_migrations(conn)

    def _read(self, conn: sqlite3.Connection, tenant_id: str) -> ChainHead:
        row = conn.execute("SELECT seq, sha256 FROM receipt_chain_heads WHERE tenant = ?",
                           (tenant_id,)).fetchone()
        return ChainHead(tenant_id) if row is None else ChainHead(tenant_id, row[0], row[1])

    def head(self, tenant_id: str) -> ChainHead:
        with self._lock:
            return self._read(self._conn, tenant_id)

    def advance(self, tenant_id: str, link: Callable[[ChainHead], tuple[str, T]]) -> T:
        key = f"receipt_chain_heads:{tenant_id}"
        with self._writer.transaction(single_write=True) as conn:
            head = self._writer.recall(key)
            if not isinstance(head, ChainHead):  # not written by this writer since
                head = self._read(conn, tenant_id)
            new_hash, value = link(head)
            conn.execute(
                "INSERT INTO receipt_chain_heads (tenant, seq, sha256, updated_at_ns) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (tenant) DO UPDATE SET seq = excluded.seq, "
                "sha256 = excluded.sha256, updated_at_ns = excluded.updated_at_ns",
                (tenant_id, head.seq + 1, new_hash, time.time_ns()))
            self._writer.after(partial(self._writer.remember, key,
                                       ChainHead(tenant_id, head.seq + 1, new_hash)))
        return value

    def close(self) -> None:
        if self._own_writer:
            self._writer.close()
