"""The invoice store contract, run on SQLite and (with CIYUAN_TEST_PG) on PostgreSQL.

Each PostgreSQL test gets a schema of its own (dropped afterwards), e.g.
``CIYUAN_TEST_PG=postgresql://postgres@127.0.0.1:5432/test``.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from ciyuan.invoice import BillingPeriod, Document, InvoiceLine, LineKey
from ciyuan.invoice.errors import (
    InvoiceConflictError,
    InvoiceImmutableError,
    InvoiceNotFoundError,
    InvoiceSchemaError,
)
from ciyuan.store.invoice_postgres import PostgresInvoiceStore
from ciyuan.store.invoice_protocol import InvoiceStore
from ciyuan.store.invoice_sqlite import SqliteInvoiceStore

PG_URL = os.environ.get("CIYUAN_TEST_PG", "")
ISSUED = dt.datetime(2026, 2, 5, tzinfo=dt.UTC)


class Location:
    """Where one test's store lives; opens stores there and runs raw SQL for tamper tests."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind, self.path, self.schema = kind, tmp_path / "ciyuan.db", f"inv_{uuid.uuid4().hex}"

    def open(self) -> InvoiceStore:
        if self.kind == "sqlite":
            return SqliteInvoiceStore(self.path)
        return PostgresInvoiceStore(PG_URL, schema=self.schema)

    def execute(self, statement: str) -> None:
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.path)
            try:
                with conn:
                    conn.execute(statement)
            finally:
                conn.close()
            return
        import psycopg
        from psycopg import sql

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
            conn.execute(statement.encode())

    def drop(self) -> None:
        if self.kind == "postgresql":
            import psycopg
            from psycopg import sql

            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(self.schema)))


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Location]:
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("set CIYUAN_TEST_PG=postgresql://postgres@127.0.0.1:5432/test to run the "
                    "PostgreSQL invoice store tests")
    where = Location(request.param, tmp_path)
    yield where
    where.drop()


@pytest.fixture
def store(location: Location) -> Iterator[InvoiceStore]:
    opened = location.open()
    yield opened
    opened.close()


def draft(tenant: str = "acme", seq: int = 1, amount: str = "25.00", month: str = "2026-01",
          zone: str = "UTC", kind: str = "invoice") -> Document:
    value = Decimal(amount)
    line = InvoiceLine(LineKey("gpt-4o", "input", "token", Decimal("0.0000025")),
                       value / Decimal("0.0000025"), value, value, Decimal(0), value, value,
                       "gpt-4o · input")
    return Document(id=f"CY:{tenant}:{month}:{seq}", kind=kind,  # type: ignore[arg-type]
                    issuer="CY", tenant=tenant, period=BillingPeriod.parse(month, zone),
                    currency="USD", lines=(line,), sequence_in_period=seq, created_at=ISSUED)


def test_issue_numbers_stores_and_reads_back(store: InvoiceStore) -> None:
    first = store.issue(draft("acme"), ISSUED)
    second = store.issue(draft("globex"), ISSUED)
    credit = store.issue(draft("acme", 2, "-1.00", kind="credit_note"), ISSUED)
    assert [first.number, second.number, credit.number] == [
        "CY-2026-000001", "CY-2026-000002", "CY-CN-2026-000001"]
    assert first.is_issued and first.issued_at == ISSUED
    assert store.get("CY-2026-000002") == second
    assert store.documents("CY", "acme", "2026-01") == [first, credit]
    assert [d.number for d in store.listing("2026-01", "acme")] == [
        "CY-2026-000001", "CY-CN-2026-000001"]
    assert store.listing("2026-02") == []
    with pytest.raises(InvoiceNotFoundError):
        store.get("CY-2026-000009")


def test_a_retry_returns_the_stored_document_and_a_different_one_conflicts(
        store: InvoiceStore) -> None:
    first = store.issue(draft(), ISSUED)
    assert store.issue(draft(), ISSUED + dt.timedelta(hours=1)) == first
    with pytest.raises(InvoiceConflictError, match="run the command again"):
        store.issue(draft(amount="30.00"), ISSUED)
    assert store.issue(draft("globex"), ISSUED).number == "CY-2026-000002"  # no gap


def test_numbers_restart_each_year_in_the_issuers_time_zone(store: InvoiceStore) -> None:
    shanghai_new_year = dt.datetime(2026, 12, 31, 17, tzinfo=dt.UTC)
    assert store.issue(draft(zone="Asia/Shanghai"), shanghai_new_year).number == "CY-2027-000001"
    assert store.issue(draft("b"), shanghai_new_year).number == "CY-2026-000001"


def test_issued_documents_cannot_be_changed_or_deleted(store: InvoiceStore,
                                                       location: Location) -> None:
    store.issue(draft(), ISSUED)
    for statement in ("UPDATE invoice_documents SET total = '0'",
                      "DELETE FROM invoice_documents"):
        with pytest.raises(Exception, match="immutable"):
            location.execute(statement)
    assert store.get("CY-2026-000001").total == Decimal("25.00")


def test_documents_survive_reopening(location: Location) -> None:
    first = location.open()
    try:
        issued = first.issue(draft(), ISSUED)
    finally:
        first.close()
    again = location.open()
    try:
        assert again.get(issued.number) == issued
        assert again.issue(draft("b"), ISSUED).number == "CY-2026-000002"
    finally:
        again.close()


def test_concurrent_issuers_share_one_gapless_sequence(location: Location,
                                                       store: InvoiceStore) -> None:
    numbers: list[str] = []
    errors: list[BaseException] = []

    def worker(n: int) -> Callable[[], None]:
        def run() -> None:
            own = location.open()
            try:
                for k in range(5):
                    numbers.append(own.issue(draft(f"t{n}-{k}"), ISSUED).number)
            except BaseException as error:  # surfaced below
                errors.append(error)
            finally:
                own.close()
        return run

    threads = [threading.Thread(target=worker(n)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(numbers) == [f"CY-2026-{k:06d}" for k in range(1, 31)]


def test_a_database_from_a_newer_ciyuan_is_refused(location: Location,
                                                   store: InvoiceStore) -> None:
    table = "_invoice_migrations" if location.kind == "sqlite" else "ciyuan_invoice_migrations"
    location.execute(f"INSERT INTO {table} (name) VALUES ('9999-from-the-future')")
    with pytest.raises(InvoiceSchemaError, match="upgrade"):
        location.open()


def test_an_issued_document_cannot_be_issued_again(store: InvoiceStore) -> None:
    issued = store.issue(draft(), ISSUED)
    with pytest.raises(InvoiceImmutableError, match="credit note"):
        store.issue(issued, ISSUED)


def test_issue_and_credit_post_to_the_ledger_of_the_same_database(location: Location,
                                                                  store: InvoiceStore) -> None:
    from invoice_helpers import AFTER_GRACE, record

    from ciyuan.invoice import Invoicer
    from ciyuan.price import default_pricer
    from ciyuan.store.memory_usage import MemoryUsageStore
    from ciyuan.store.protocol import LedgerStore

    ledger: LedgerStore
    if location.kind == "sqlite":
        from ciyuan.store import SqliteLedgerStore

        ledger = SqliteLedgerStore(location.path)
    else:
        from ciyuan.store.postgres_ledger import PostgresLedgerStore

        ledger = PostgresLedgerStore(PG_URL, schema=location.schema)
    usage = MemoryUsageStore([record(1, input_tokens=2_000_000, cost_nano=10**9)])
    try:
        invoicer = Invoicer(usage, store, default_pricer(), ledger=ledger)
        invoice = invoicer.issue("acme", "2026-01", AFTER_GRACE)
        assert invoice is not None and invoice.total == Decimal("5.00")
        invoicer.credit(invoice.number, reason="test", amount=Decimal("1.25"), now=AFTER_GRACE)
        receivable = ledger.balance("receivable:acme:USD")
        assert receivable.debits_posted - receivable.credits_posted == 3_750_000_000
        assert ledger.balance("payable:openai:USD").credits_posted == 10**9
        assert ledger.verify().ok
    finally:
        ledger.close()
        usage.close()
