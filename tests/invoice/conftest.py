"""Fixtures of the invoice tests: stores on a temporary SQLite file, an invoicer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ciyuan.invoice import Invoicer, InvoiceSettings
from ciyuan.price import default_pricer
from ciyuan.store import SqliteLedgerStore
from ciyuan.store.invoice_sqlite import SqliteInvoiceStore
from ciyuan.store.memory_usage import MemoryUsageStore


@pytest.fixture
def usage() -> Iterator[MemoryUsageStore]:
    store = MemoryUsageStore()
    yield store
    store.close()


@pytest.fixture
def invoices(tmp_path: Path) -> Iterator[SqliteInvoiceStore]:
    store = SqliteInvoiceStore(tmp_path / "ciyuan.db")
    yield store
    store.close()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[SqliteLedgerStore]:
    store = SqliteLedgerStore(tmp_path / "ciyuan.db")
    yield store
    store.close()


@pytest.fixture
def invoicer(usage: MemoryUsageStore, invoices: SqliteInvoiceStore,
             ledger: SqliteLedgerStore) -> Invoicer:
    return Invoicer(usage, invoices, default_pricer(), InvoiceSettings(), ledger)
