"""The SQLite identity store lives in the ledger's database file, beside the ledger."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from ciyuan.identity import IdentitySchemaError, Tenant
from ciyuan.store.identity import (
    IDENTITY_MIGRATIONS,
    open_identity_store,
    open_receipt_chain_store,
)
from ciyuan.store.open import open_ledger_store

NOW = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


@pytest.mark.parametrize("ledger_first", [True, False])
def test_identity_and_ledger_share_one_file(tmp_path: Path, ledger_first: bool) -> None:
    url = f"sqlite:///{tmp_path / 'ciyuan.db'}"
    opened = []
    for opener in ([open_ledger_store, open_identity_store, open_receipt_chain_store]
                   if ledger_first else
                   [open_identity_store, open_receipt_chain_store, open_ledger_store]):
        opened.append(opener(url))
    for store in opened:
        store.close()
    conn = sqlite3.connect(tmp_path / "ciyuan.db")
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        recorded = [r[0] for r in conn.execute("SELECT name FROM _identity_migrations")]
    finally:
        conn.close()
    assert {"identity_tenants", "identity_api_keys", "receipt_chain_heads",
            "_migrations", "_identity_migrations"} <= tables
    assert recorded == [m.name for m in IDENTITY_MIGRATIONS]


def test_a_newer_identity_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ciyuan.db'}"
    open_identity_store(url).close()
    conn = sqlite3.connect(tmp_path / "ciyuan.db")
    with conn:
        conn.execute("INSERT INTO _identity_migrations (name) VALUES ('9999-from-the-future')")
    conn.close()
    with pytest.raises(IdentitySchemaError, match="upgrade ciyuan"):
        open_identity_store(url)


def test_a_file_store_survives_a_new_process_view(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ciyuan.db'}"
    one, two = open_identity_store(url), open_identity_store(url)
    try:
        one.create_tenant(Tenant("acme", "Acme", NOW))
        assert two.tenant("acme").name == "Acme"  # a second connection sees the commit
    finally:
        one.close()
        two.close()
