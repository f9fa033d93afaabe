"""PostgreSQL receipt-chain store: one row per tenant in ``receipt_chain_heads``.

``advance`` locks the tenant's row (``SELECT … FOR UPDATE``) for the length of one
transaction: gateway workers on any host that share the database extend each tenant's chain
one receipt at a time, while different tenants never wait for each other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from ciyuan.receipt.chain import ChainHead
from ciyuan.receipt.model import GENESIS_SHA256
from ciyuan.store.postgres_identity import apply_identity_migrations, pg_connect

__all__ = ["PostgresReceiptChainStore"]

T = TypeVar("T")


class PostgresReceiptChainStore:
    """The :class:`~ciyuan.receipt.chain.ReceiptChainStore` on PostgreSQL."""

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        self._lock = threading.Lock()
        self._conn = pg_connect(url, schema)
        apply_identity_migrations(self._conn)

    def head(self, tenant_id: str) -> ChainHead:
        with self._lock:
            row = self._conn.execute("SELECT seq, sha256 FROM receipt_chain_heads WHERE "
                                     "tenant = %s", (tenant_id,)).fetchone()
        return ChainHead(tenant_id) if row is None else ChainHead(tenant_id, row[0], row[1])

    def advance(self, tenant_id: str, link: Callable[[ChainHead], tuple[str, T]]) -> T:
        with self._lock, self._conn.transaction():
            conn = self._conn
            conn.execute("INSERT INTO receipt_chain_heads (tenant, seq, sha256, updated_at_ns) "
                         "VALUES (%s, 0, %s, %s) ON CONFLICT (tenant) DO NOTHING",
                         (tenant_id, GENESIS_SHA256, time.time_ns()))
            row = conn.execute("SELECT seq, sha256 FROM receipt_chain_heads WHERE tenant = %s "
                               "FOR UPDATE", (tenant_id,)).fetchone()
            assert row is not None
            head = ChainHead(tenant_id, row[0], row[1])
            new_hash, value = link(head)
            conn.execute("UPDATE receipt_chain_heads SET seq = %s, sha256 = %s, "
                         "updated_at_ns = %s WHERE tenant = %s",
                         (head.seq + 1, new_hash, time.time_ns(), tenant_id))
        return value

    def close(self) -> None:
        with self._lock:
            self._conn.close()
