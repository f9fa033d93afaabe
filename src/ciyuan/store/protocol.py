"""The ledger store interface: what every ledger backend (SQLite now, PostgreSQL later) does."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from ciyuan.ledger import Account, Balance, JournalEntry, Result, Transfer, VerifyReport

__all__ = ["MAX_BATCH", "LedgerStore"]

#: Transfers (or accounts) per call: TigerBeetle's batch size; bounds one write transaction.
MAX_BATCH = 8190


class LedgerStore(Protocol):
    """Durable ledger: accounts, transfers, balances and the hash-chained journal.

    ``now_ns`` defaults to the store's clock; tests pass it explicitly.
    """

    def create_accounts(self, accounts: Sequence[Account]) -> list[Result]:
        """``ok`` per new or identical account, ``exists-with-different-fields`` otherwise."""
        ...

    def submit(self, transfers: Sequence[Transfer], now_ns: int | None = None) -> list[Result]:
        """Apply a batch atomically per linked chain; one result per transfer, in order."""
        ...

    def expire(self, now_ns: int | None = None) -> int:
        """Release every pending transfer whose timeout has passed; how many were released."""
        ...

    def balances(self, account_ids: Iterable[str]) -> dict[str, Balance]:
        """Balances of the accounts that exist among ``account_ids``."""
        ...

    def balance(self, account_id: str) -> Balance:
        """One account's balance; ``LedgerAccountNotFoundError`` if there is no such account."""
        ...

    def accounts(self, account_ids: Iterable[str]) -> dict[str, Account]: ...

    def transfers(self, transfer_ids: Iterable[str]) -> dict[str, Transfer]:
        """Stored transfers by id (expiry entries are not transfers)."""
        ...

    def journal(self) -> Iterable[JournalEntry]:
        """Every journal entry in order."""
        ...

    def verify(self) -> VerifyReport:
        """Recompute the hash chain and name the first entry that does not match."""
        ...

    def close(self) -> None: ...
