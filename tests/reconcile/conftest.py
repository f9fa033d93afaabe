"""Fixtures of the reconciliation tests: a usage store, a ledger, a reconciler."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ciyuan.price import default_pricer
from ciyuan.reconcile import Reconciler
from ciyuan.store import SqliteLedgerStore
from ciyuan.store.memory_usage import MemoryUsageStore


@pytest.fixture
def usage() -> Iterator[MemoryUsageStore]:
    store = MemoryUsageStore()
    yield store
    store.close()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[SqliteLedgerStore]:
    store = SqliteLedgerStore(tmp_path / "ciyuan.db")
    yield store
    store.close()


@pytest.fixture
def reconciler(usage: MemoryUsageStore, ledger: SqliteLedgerStore) -> Reconciler:
    return Reconciler(usage, default_pricer(), ledger)
