"""Receipt chains: one per tenant, each receipt naming the SHA-256 of the one before.

A tenant's receipts carry ``seq`` 1, 2, 3 … and ``prev`` = the previous receipt's hash (the
genesis hash for ``seq`` 1). A tenant can check its own chain — nothing missing, reordered or
altered — without seeing any other tenant's receipts. ``ReceiptChainStore`` keeps each
chain's head durably so that every gateway worker extends the same chain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from ciyuan.receipt.errors import ReceiptChainError
from ciyuan.receipt.model import GENESIS_SHA256, Receipt

__all__ = [
    "ChainHead",
    "ChainReport",
    "InMemoryChainStore",
    "ReceiptChainStore",
    "verify_chain",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last receipt of a tenant's chain: its ``seq`` and hash (0 and genesis if none)."""

    tenant: str
    seq: int = 0
    sha256: str = GENESIS_SHA256


class ReceiptChainStore(Protocol):
    """The head of each tenant's receipt chain (SQLite, PostgreSQL, or in memory)."""

    def head(self, tenant_id: str) -> ChainHead:
        """The tenant's current head (``seq`` 0 and the genesis hash before any receipt)."""
        ...

    def advance(self, tenant_id: str, link: Callable[[ChainHead], tuple[str, T]]) -> T:
        """Atomically: read the head, call ``link(head)`` → ``(new_hash, value)``, store
        ``(head.seq + 1, new_hash)`` and return ``value``. Concurrent callers (threads,
        processes, hosts on one database) are serialized per tenant, so each chain stays one
        line. If ``link`` raises, the head is unchanged."""
        ...

    def close(self) -> None: ...


class InMemoryChainStore:
    """A ``ReceiptChainStore`` for one process (tests, demos): heads in a dict."""

    def __init__(self) -> None:
        self._heads: dict[str, ChainHead] = {}
        self._lock = threading.Lock()

    def head(self, tenant_id: str) -> ChainHead:
        with self._lock:
            return self._heads.get(tenant_id, ChainHead(tenant_id))

    def advance(self, tenant_id: str, link: Callable[[ChainHead], tuple[str, T]]) -> T:
        with self._lock:
            head = self._heads.get(tenant_id, ChainHead(tenant_id))
            new_hash, value = link(head)
            self._heads[tenant_id] = ChainHead(tenant_id, head.seq + 1, new_hash)
            return value

    def close(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What a chain check covered: the tenant, how many receipts, and the last head."""

    tenant: str
    count: int
    first_seq: int
    head: ChainHead


def verify_chain(receipts: Iterable[Receipt], *, after: ChainHead | None = None) -> ChainReport:
    """Check that ``receipts`` (already signature-verified, in order) form one chain.

    The first receipt must follow ``after`` when given, or be ``seq`` 1 with the genesis
    ``prev`` when its ``seq`` is 1; a chain that starts later (e.g. one month of receipts) is
    checked from its first receipt on. ``ReceiptChainError`` names the first break.
    """
    head = after
    first_seq = 0
    count = 0
    for index, receipt in enumerate(receipts):
        if head is None:
            if receipt.seq == 1 and receipt.prev_sha256 != GENESIS_SHA256:
                raise _broken(index, receipt, "is seq 1 but does not start from the genesis hash")
            first_seq = receipt.seq
        else:
            if receipt.tenant != head.tenant:
                raise _broken(index, receipt, f"is of tenant {receipt.tenant!r}, not "
                                              f"{head.tenant!r}")
            if receipt.seq != head.seq + 1:
                raise _broken(index, receipt, f"follows seq {head.seq}: receipts "
                                              f"{head.seq + 1}..{receipt.seq - 1} are missing "
                                              "or out of order")
            if receipt.prev_sha256 != head.sha256:
                raise _broken(index, receipt, "does not name the previous receipt's hash: one "
                                              "of the two was altered or replaced")
            first_seq = first_seq or receipt.seq
        head = ChainHead(receipt.tenant, receipt.seq, receipt.sha256)
        count += 1
    if head is None:
        raise ReceiptChainError("no receipts to check; give at least one")
    return ChainReport(head.tenant, count, first_seq, head)


def _broken(index: int, receipt: Receipt, why: str) -> ReceiptChainError:
    return ReceiptChainError(
        f"receipt #{index + 1} (seq {receipt.seq}, record {receipt.record_id}) {why}",
        index=index, seq=receipt.seq)
