"""Wallets: prepaid credit, top-ups, credit lines, and the wallet's leg of a reservation.

Service tests run on SQLite and, with ``CIYUAN_TEST_PG`` set, on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from ciyuan.billing import Billing, Level, LevelKind, Scope, from_nano, to_nano
from ciyuan.billing.errors import (
    BudgetLevelExceededError,
    WalletInsufficientError,
    WalletInvalidError,
)
from ciyuan.core.money import FloatMoneyError
from ciyuan.store import LedgerStore, SqliteLedgerStore

PG_URL = os.environ.get("CIYUAN_TEST_PG", "")
AT = dt.datetime(2026, 11, 5, 8, tzinfo=dt.UTC)
USD = 10**9


@pytest.fixture(params=["sqlite", "postgres"])
def billing(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Billing]:
    schema = ""
    store: LedgerStore
    if request.param == "sqlite":
        store = SqliteLedgerStore(tmp_path / "ledger.db")
    else:
        if not PG_URL:
            pytest.skip("PostgreSQL billing tests need CIYUAN_TEST_PG="
                        "postgresql://postgres@127.0.0.1:5432/test")
        from ciyuan.store.postgres_ledger import PostgresLedgerStore

        schema = f"test_wallets_{os.getpid()}_{uuid.uuid4().hex[:10]}"
        store = PostgresLedgerStore(PG_URL, schema=schema)
    yield Billing(store, now=lambda: AT)
    store.close()
    if schema:
        import psycopg
        from psycopg import sql

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def test_money_enters_as_exact_nano_units() -> None:
    assert to_nano("100.00") == 100 * USD
    assert to_nano("0.000000001") == 1
    assert to_nano(Decimal("2.5")) == 2_500_000_000
    assert from_nano(185_185_050) == Decimal("0.18518505")
    with pytest.raises(WalletInvalidError, match="9 decimal places"):
        to_nano("0.0000000001")
    assert to_nano("0.0000000015", rounding="half-even") == 2
    with pytest.raises(FloatMoneyError):
        to_nano(0.1)  # type: ignore[arg-type]


def test_top_ups_are_idempotent_and_credit_lines_are_fixed(billing: Billing) -> None:
    opened = billing.open_wallet("acme", "USD", credit_limit_nano=5 * USD)
    assert (opened.balance_nano, opened.available_nano) == (0, 5 * USD)
    assert billing.open_wallet("acme", "USD", credit_limit_nano=5 * USD) == opened
    with pytest.raises(WalletInvalidError, match="fixed per wallet"):
        billing.open_wallet("acme", "USD", credit_limit_nano=9 * USD)
    billing.top_up("acme", "USD", 20 * USD, "payment-1")
    status = billing.top_up("acme", "USD", 20 * USD, "payment-1")  # a retried webhook
    assert (status.balance_nano, status.available_nano) == (20 * USD, 25 * USD)
    with pytest.raises(WalletInvalidError, match="positive"):
        billing.top_up("acme", "USD", 0, "payment-2")
    assert billing.wallet("nobody", "USD") is None


def test_the_wallet_is_held_with_the_budgets_and_may_use_its_credit_line(
        billing: Billing) -> None:
    billing.open_wallet("acme", "USD", credit_limit_nano=2 * USD)
    billing.top_up("acme", "USD", 3 * USD, "p1")
    billing.set_budget(Level(LevelKind.TENANT, "acme"), "month", 100 * USD, "USD")
    scope = Scope("acme", key="k1")
    r = billing.reserve(scope, "r1", 4 * USD, "USD")  # 3 prepaid + 1 of the credit line
    assert [h.label for h in r.holds] == ["tenant-month", "wallet"]
    with pytest.raises(WalletInsufficientError, match="wallet:acme:USD"):
        billing.reserve(scope, "r2", 2 * USD, "USD")
    # the refused chain held nothing in the budget either
    assert billing.status(scope)[0].reserved_nano == 4 * USD
    billing.settle(r, 4 * USD)
    wallet = billing.wallet("acme", "USD")
    assert wallet is not None
    assert (wallet.balance_nano, wallet.reserved_nano, wallet.available_nano) == (
        -USD, 0, USD)
    billing.top_up("acme", "USD", 10 * USD, "p2")
    billing.settle(billing.reserve(scope, "r3", 2 * USD, "USD"), USD)
    assert billing.status(scope)[0].spent_nano == 5 * USD


def test_the_budget_refuses_before_the_wallet(billing: Billing) -> None:
    billing.open_wallet("acme", "USD")
    billing.set_budget(Level(LevelKind.TENANT, "acme"), "day", USD, "USD")
    with pytest.raises(BudgetLevelExceededError):
        billing.reserve(Scope("acme"), "r", 2 * USD, "USD")


def test_a_wallet_in_another_currency_is_not_held(billing: Billing) -> None:
    billing.open_wallet("acme", "CNY")
    billing.top_up("acme", "CNY", USD, "p")
    assert billing.reserve(Scope("acme"), "r", 5 * USD, "USD").holds == ()
    with pytest.raises(WalletInsufficientError):
        billing.reserve(Scope("acme"), "r-cny", 5 * USD, "CNY")
