"""``open_ledger_store``: the database URL picks the store; anything else is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from ciyuan.store import SqliteLedgerStore
from ciyuan.store.errors import StoreNotFoundError, StoreUnavailableError, StoreUrlError
from ciyuan.store.open import open_ledger_store, redact, sqlite_path
from ciyuan.store.postgres_ledger import PostgresLedgerStore


@pytest.mark.parametrize(("url", "path"), [
    ("sqlite:///ciyuan.db", "ciyuan.db"),
    ("sqlite:///./data/ciyuan.db", "./data/ciyuan.db"),
    ("sqlite:////var/lib/ciyuan.db", "/var/lib/ciyuan.db"),
    ("sqlite:///:memory:", ":memory:"),
])
def test_sqlite_paths(url: str, path: str) -> None:
    assert sqlite_path(url) == path


def test_sqlite_url_opens_a_sqlite_store(tmp_path: Path) -> None:
    store = open_ledger_store(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        assert isinstance(store, SqliteLedgerStore)
    finally:
        store.close()
    assert (tmp_path / "ledger.db").is_file()


@pytest.mark.parametrize(("url", "message"), [
    ("mysql://root@localhost/ciyuan", "scheme 'mysql'"),
    ("ciyuan.db", "no scheme"),
    ("sqlite://", "no file path"),
    ("sqlite:///", "no file path"),
    ("sqlite://relative.db", "three slashes"),
    ("sqlite:///no/such/dir/ciyuan.db", "does not exist"),
])
def test_unusable_urls_say_what_to_write(url: str, message: str) -> None:
    with pytest.raises(StoreUrlError, match=message) as info:
        open_ledger_store(url)
    assert info.value.code == "store-url-invalid"


def test_read_only_commands_do_not_create_a_sqlite_file(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFoundError, match="no SQLite database"):
        open_ledger_store(f"sqlite:///{tmp_path / 'missing.db'}", create=False)
    assert not (tmp_path / "missing.db").exists()


def test_passwords_are_not_repeated_in_messages() -> None:
    assert redact("mysql://me:secret@db/x") == "mysql://me:***@db/x"
    assert redact("postgresql://me@db/x") == "postgresql://me@db/x"
    with pytest.raises(StoreUrlError) as info:
        open_ledger_store("mysql://me:secret@db/x")
    assert "secret" not in str(info.value)


def test_an_unreachable_server_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailableError, match="cannot connect"):
        open_ledger_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_postgresql_url_opens_a_postgresql_store(pg_database_url: str) -> None:
    for url in (pg_database_url, pg_database_url.replace("postgresql://", "postgres://", 1)):
        store = open_ledger_store(url)
        try:
            assert isinstance(store, PostgresLedgerStore)
            assert store.verify().ok
        finally:
            store.close()
