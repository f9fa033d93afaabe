"""Fixtures for ledger tests: a ledger per backend with standard accounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ledgers import MemoryLedger, make_ledger, standard_accounts

from ciyuan.store import SqliteLedgerStore


@pytest.fixture(params=["memory", "sqlite"])
def ledger(request: pytest.FixtureRequest,
           tmp_path: Path) -> Iterator[MemoryLedger | SqliteLedgerStore]:
    store = make_ledger(request.param, tmp_path)
    assert set(store.create_accounts(standard_accounts())) == {"ok"}
    yield store
    if isinstance(store, SqliteLedgerStore):
        store.close()
