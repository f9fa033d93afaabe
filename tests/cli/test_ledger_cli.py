"""``ciyuan ledger verify`` and ``ciyuan ledger balance`` on SQLite and PostgreSQL.

PostgreSQL runs when ``CIYUAN_TEST_PG`` names a server; each test gets a fresh schema in
that database (dropped afterwards), addressed through the URL's ``options`` parameter.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from ciyuan.cli.main import cli
from ciyuan.ledger import Account, AccountKind, Transfer, TransferFlags
from ciyuan.store.open import open_ledger_store

USD = 10**9
PG_SKIP = ("PostgreSQL CLI tests are off: set CIYUAN_TEST_PG=postgresql://postgres@127.0.0.1:"
           "5432/test to run them")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A ledger with a topped-up budget, a reservation and a spend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ciyuan.db'}"
        yield from _with_history(url)
        return
    base = os.environ.get("CIYUAN_TEST_PG", "")
    if not base:
        pytest.skip(PG_SKIP)
    schema = f"cli_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            url = f"{base}{'&' if '?' in base else '?'}options=" + quote(
                f"-csearch_path={schema}", safe="")
            yield from _with_history(url)
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def _with_history(url: str) -> Iterator[str]:
    store = open_ledger_store(url)
    try:
        store.create_accounts([
            Account("funding", AccountKind.FUNDING, "USD", "platform"),
            Account("budget:t1", AccountKind.BUDGET, "USD", "t1",
                    debits_must_not_exceed_credits=True),
            Account("revenue", AccountKind.PLATFORM_REVENUE, "USD", "platform")])
        assert store.submit([
            Transfer("top", "funding", "budget:t1", 10 * USD),
            Transfer("hold", "budget:t1", "revenue", 2 * USD, flags=TransferFlags.PENDING),
            Transfer("call-1", "budget:t1", "revenue", 1_500_000_000),
        ]) == ["ok"] * 3
    finally:
        store.close()
    yield url


def tamper(url: str, statement: str) -> None:
    """Change the journal behind the store's back, as someone with database access can."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.execute("DROP TRIGGER journal_no_update")
        conn.execute(statement)
        conn.commit()
        conn.close()
        return
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("DROP TRIGGER journal_no_update ON journal")
        pg.execute(statement.encode())


def test_verify_ok_in_text_and_json(db_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", db_url, "ledger", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: 3 journal entries verified")
    result = runner.invoke(cli, ["ledger", "verify", "--json"], env={"CIYUAN_DB": db_url})
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True and report["entries"] == 3 and report["first_bad_seq"] is None


def test_verify_names_the_first_bad_entry(db_url: str) -> None:
    tamper(db_url, "UPDATE journal SET amount = 1 WHERE id = 'hold'")
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", db_url, "ledger", "verify"])
    assert result.exit_code == 1
    assert "journal entry 2 (transfer 'hold') does not match" in result.output
    result = runner.invoke(cli, ["--db", db_url, "ledger", "verify", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert (report["ok"], report["first_bad_seq"], report["first_bad_id"]) == (False, 2, "hold")
    assert "content" in report["reason"]


def test_verify_names_an_account_whose_balance_was_changed(db_url: str) -> None:
    tamper(db_url, "UPDATE accounts SET credits_posted = 99 WHERE id = 'revenue'")
    result = CliRunner().invoke(cli, ["--db", db_url, "ledger", "verify"])
    assert result.exit_code == 1
    assert "account 'revenue'" in result.output and "replay of the journal" in result.output


def test_balance_in_text_and_json(db_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", db_url, "ledger", "balance", "budget:t1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == {
        "account": "budget:t1", "kind": "budget", "unit": "USD", "scale": 9, "owner": "t1",
        "debits_pending": 2 * USD, "debits_posted": 1_500_000_000, "credits_pending": 0,
        "credits_posted": 10 * USD, "net_posted": 8_500_000_000, "credit_limit": 0,
        "available": 6_500_000_000}
    result = runner.invoke(cli, ["--db", db_url, "ledger", "balance", "budget:t1"])
    assert result.exit_code == 0, result.output
    assert "8.500000000 USD" in result.output and "6.500000000 USD" in result.output


def test_balance_of_an_unknown_account(db_url: str) -> None:
    result = CliRunner().invoke(cli, ["--db", db_url, "ledger", "balance", "nobody"])
    assert result.exit_code == 2
    assert "error [ledger-account-not-found]" in result.output


def test_a_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    result = CliRunner().invoke(cli, ["--db", url, "ledger", "verify"])
    assert result.exit_code == 2 and "error [store-not-found]" in result.output
    assert not (tmp_path / "missing.db").exists()


def test_an_unreachable_postgresql_server_is_a_clear_error() -> None:
    url = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"
    result = CliRunner().invoke(cli, ["--db", url, "ledger", "balance", "x"])
    assert result.exit_code == 1 and "error [store-unavailable]" in result.output
