"""Issuing: numbering, ledger postings, credit notes, plans, crash repair."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from invoice_helpers import AFTER_GRACE, JAN, record

from ciyuan.invoice import Invoicer, InvoiceSettings, TaxRule, post_document
from ciyuan.invoice.errors import CreditNoteInvalidError, InvoiceNotFoundError
from ciyuan.price import pricer_from_config
from ciyuan.store import SqliteLedgerStore
from ciyuan.store.invoice_sqlite import SqliteInvoiceStore
from ciyuan.store.memory_usage import MemoryUsageStore

TAXED = InvoiceSettings(tax=TaxRule("VAT", Decimal("0.06")))


def _net(ledger: SqliteLedgerStore, account: str) -> int:
    balance = ledger.balance(account)
    return balance.debits_posted - balance.credits_posted


def _zero_sum(ledger: SqliteLedgerStore) -> None:
    ids = {a for e in ledger.journal()
           for a in (e.transfer.debit_account_id, e.transfer.credit_account_id)}
    assert sum(b.net_posted for b in ledger.balances(ids).values()) == 0


@pytest.fixture
def taxed(invoicer: Invoicer) -> Invoicer:
    return replace(invoicer, settings=TAXED)


def test_numbers_are_gapless_per_issuer_series_and_year(usage: MemoryUsageStore,
                                                        taxed: Invoicer) -> None:
    for n, tenant in enumerate(("acme", "globex", "initech")):
        usage.add(record(n, tenant=tenant, input_tokens=1_000_000))
    numbers = [d.number for t in taxed.tenants("2026-01")
               if (d := taxed.issue(t, "2026-01", AFTER_GRACE)) is not None]
    assert numbers == ["CY-2026-000001", "CY-2026-000002", "CY-2026-000003"]
    note = taxed.credit("CY-2026-000002", reason="duplicate", now=AFTER_GRACE)
    assert note.number == "CY-CN-2026-000001"


def test_issuing_posts_a_balanced_record_to_the_ledger(usage: MemoryUsageStore, taxed: Invoicer,
                                                       ledger: SqliteLedgerStore) -> None:
    usage.add(record(1, input_tokens=1_234_567, cost_nano=1_000_000_000))
    usage.add(record(2, provider="deepseek", input_tokens=10, cost_nano=7))
    doc = taxed.issue("acme", "2026-01", AFTER_GRACE)
    assert doc is not None
    assert doc.subtotal == Decimal("3.09") and doc.tax_amount == Decimal("0.19")
    assert _net(ledger, "receivable:acme:USD") == 3_280_000_000
    assert ledger.balance("tax:USD").net_posted == 190_000_000
    assert ledger.balance("payable:openai:USD").net_posted == 1_000_000_000
    assert ledger.balance("payable:deepseek:USD").net_posted == 7
    assert -_net(ledger, "revenue:USD") == to_int(doc.subtotal_exact) - 1_000_000_007
    _zero_sum(ledger)
    entries = len(list(ledger.journal()))
    post_document(ledger, doc)  # posting again changes nothing
    assert taxed.issue("acme", "2026-01", AFTER_GRACE) is None
    assert len(list(ledger.journal())) == entries
    assert ledger.verify().ok


def to_int(amount: Decimal) -> int:
    return int(amount * 10**9)


def test_a_crash_between_issue_and_posting_is_repaired(usage: MemoryUsageStore, taxed: Invoicer,
                                                       invoices: SqliteInvoiceStore,
                                                       ledger: SqliteLedgerStore) -> None:
    usage.add(record(1, input_tokens=1_000_000))
    draft = taxed.draft("acme", "2026-01", AFTER_GRACE)
    assert draft is not None
    invoices.issue(draft, AFTER_GRACE)  # stored, then "crashed" before posting
    assert ledger.balances(["receivable:acme:USD"]) == {}
    assert taxed.issue("acme", "2026-01", AFTER_GRACE) is None
    assert _net(ledger, "receivable:acme:USD") == 2_650_000_000


def test_a_full_credit_note_mirrors_the_invoice(usage: MemoryUsageStore, taxed: Invoicer,
                                                ledger: SqliteLedgerStore) -> None:
    usage.add(record(1, input_tokens=1_000_001))
    invoice = taxed.issue("acme", "2026-01", AFTER_GRACE)
    assert invoice is not None
    note = taxed.credit(invoice.number, reason="billed in error", now=AFTER_GRACE)
    assert note.kind == "credit_note" and note.refers_to == invoice.number
    assert note.total == -invoice.total and note.residual == -invoice.residual
    for name in ("receivable:acme:USD", "revenue:USD", "rounding:USD", "tax:USD"):
        assert ledger.balance(name).net_posted == 0, name
    assert taxed.issue("acme", "2026-01", AFTER_GRACE) is None  # a credit is not re-billed
    with pytest.raises(CreditNoteInvalidError, match="exceeds"):
        taxed.credit(invoice.number, reason="again", amount=Decimal("0.01"), now=AFTER_GRACE)
    with pytest.raises(CreditNoteInvalidError, match="not an issued invoice"):
        taxed.credit(note.number, reason="credit a credit", now=AFTER_GRACE)


def test_a_partial_credit_note_carries_its_tax(usage: MemoryUsageStore, taxed: Invoicer,
                                               ledger: SqliteLedgerStore) -> None:
    usage.add(record(1, input_tokens=4_000_000))
    invoice = taxed.issue("acme", "2026-01", AFTER_GRACE)
    assert invoice is not None and invoice.total == Decimal("10.60")
    note = taxed.credit(invoice.number, reason="goodwill", amount=Decimal("2.50"),
                        now=AFTER_GRACE)
    assert (note.subtotal, note.tax_amount, note.total) == (
        Decimal("-2.50"), Decimal("-0.15"), Decimal("-2.65"))
    assert _net(ledger, "receivable:acme:USD") == 7_950_000_000
    with pytest.raises(CreditNoteInvalidError, match="minor unit"):
        taxed.credit(invoice.number, reason="x", amount=Decimal("0.001"), now=AFTER_GRACE)
    with pytest.raises(CreditNoteInvalidError, match="partly credited"):
        taxed.credit(invoice.number, reason="rest", now=AFTER_GRACE)
    with pytest.raises(InvoiceNotFoundError):
        taxed.credit("CY-2026-999999", reason="x", now=AFTER_GRACE)


PLANS = {"plans": {"team": {"currency": "USD", "charges": [
    {"kind": "two_part", "name": "team", "fee": "20.00", "included": 10_000_000,
     "overage_unit_price": "3.00"},
    {"kind": "minimum_commitment", "name": "floor", "minimum": "50.00"}]}}}


def test_plan_fees_at_open_and_true_ups_only_when_final(usage: MemoryUsageStore,
                                                        invoices: SqliteInvoiceStore) -> None:
    usage.add(record(1, input_tokens=11_000_000))
    settings = InvoiceSettings(tenant_plans={"acme": "team"})
    invoicer = Invoicer(usage, invoices, pricer_from_config(PLANS), settings)
    early = invoicer.draft("acme", "2026-01", dt.datetime(2026, 1, 20, tzinfo=dt.UTC))
    assert early is not None and not early.final
    assert {ln.key.category: ln.amount for ln in early.lines if ln.amount} == {
        "subscription": Decimal("20.00"), "overage": Decimal("3.00")}
    final = invoicer.draft("acme", "2026-01", AFTER_GRACE)
    assert final is not None and final.final and final.plan == "team"
    assert final.total == Decimal("50.00")  # the minimum commitment tops it up at close


def test_shanghai_months_take_usage_by_local_time(usage: MemoryUsageStore,
                                                  invoices: SqliteInvoiceStore) -> None:
    usage.add(record(1, dt.datetime(2026, 1, 31, 17, tzinfo=dt.UTC), input_tokens=1_000_000))
    usage.add(record(2, JAN + dt.timedelta(hours=1), input_tokens=2_000_000))
    invoicer = Invoicer(usage, invoices, pricer_from_config({}),
                        InvoiceSettings(time_zone="Asia/Shanghai"))
    january = invoicer.draft("acme", "2026-01", AFTER_GRACE)
    february = invoicer.draft("acme", "2026-02", AFTER_GRACE)
    assert january is not None and february is not None
    assert (january.total, february.total) == (Decimal("5.00"), Decimal("2.50"))
