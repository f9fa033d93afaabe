"""Cumulative minus already billed: late events, supplementary invoices, no drift."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from invoice_helpers import AFTER_GRACE, JAN, record

from ciyuan.core.money import exact_sum
from ciyuan.invoice import BillingPeriod, Document, Invoicer, compose, rate_records, round_line
from ciyuan.invoice.errors import InvoicePeriodOpenError
from ciyuan.price import LIST_PLAN, default_pricer
from ciyuan.store.invoice_sqlite import SqliteInvoiceStore
from ciyuan.store.memory_usage import MemoryUsageStore

PERIOD = BillingPeriod.parse("2026-01")


def _issued(doc: Document, n: int) -> Document:
    return replace(doc, status="issued", number=f"CY-2026-{n:06d}", issued_at=AFTER_GRACE)


def _rating(records: list) -> object:
    return rate_records(records, tenant="acme", period=PERIOD, pricer=default_pricer(),
                        plan=LIST_PLAN, currency="USD", final=True)


def test_a_late_event_lands_on_a_supplementary_invoice(usage: MemoryUsageStore,
                                                       invoicer: Invoicer) -> None:
    for n in range(3):
        usage.add(record(n, JAN + dt.timedelta(days=n), input_tokens=1_000_000))
    first = invoicer.issue("acme", "2026-01", AFTER_GRACE)
    assert first is not None and first.number == "CY-2026-000001"
    assert first.total == Decimal("7.50")
    usage.add(record("late", dt.datetime(2026, 1, 31, 23, 59, tzinfo=dt.UTC),
                     input_tokens=1_000_000, output_tokens=1000))
    later = AFTER_GRACE + dt.timedelta(days=2)
    second = invoicer.issue("acme", "2026-01", later)
    assert second is not None
    assert (second.number, second.sequence_in_period, second.kind) == (
        "CY-2026-000002", 2, "invoice")
    by_category = {ln.key.category: ln for ln in second.lines}
    assert by_category["input"].quantity == 1_000_000
    assert by_category["input"].amount == Decimal("2.50")
    assert by_category["input"].cumulative_amount == Decimal("10.00")
    assert by_category["output"].amount == Decimal("0.01")
    assert invoicer.issue("acme", "2026-01", later) is None  # nothing new: nothing issued
    assert invoicer.draft("acme", "2026-01", later) is None


def test_issuing_waits_for_the_grace_period(usage: MemoryUsageStore, invoicer: Invoicer,
                                            invoices: SqliteInvoiceStore) -> None:
    usage.add(record(1))
    with pytest.raises(InvoicePeriodOpenError, match="2026-02-04T00:00:00"):
        invoicer.issue("acme", "2026-01", dt.datetime(2026, 2, 2, tzinfo=dt.UTC))
    draft = invoicer.draft("acme", "2026-01", dt.datetime(2026, 1, 15, tzinfo=dt.UTC))
    assert draft is not None and not draft.final and draft.status == "draft"
    assert invoices.listing() == []  # a draft is never stored


def test_a_lower_re_rating_becomes_a_credit_note() -> None:
    records = [record(n, JAN + dt.timedelta(hours=n), input_tokens=400_000) for n in range(3)]
    first = compose(_rating(records), [], issuer="CY", tax=None, now=AFTER_GRACE)
    assert first is not None
    issued = _issued(first, 1)
    lower = compose(_rating(records[:2]), [issued], issuer="CY", tax=None, now=AFTER_GRACE)
    assert lower is not None
    assert lower.kind == "credit_note" and lower.refers_to == "CY-2026-000001"
    assert lower.total == Decimal("-1.00") and lower.lines[0].quantity == -400_000


def test_other_tenants_usage_never_appears(usage: MemoryUsageStore, invoicer: Invoicer) -> None:
    usage.add(record(1, tenant="acme"))
    usage.add(record(2, tenant="globex", input_tokens=5_000_000))
    doc = invoicer.draft("acme", "2026-01", AFTER_GRACE)
    assert doc is not None and doc.records == 1 and doc.total == Decimal("0.00")
    assert doc.subtotal_exact == Decimal("0.0025")
    assert invoicer.tenants("2026-01") == ["acme", "globex"]


@settings(max_examples=40, deadline=None)
@given(tokens=st.lists(st.tuples(st.integers(0, 3_000_000), st.integers(0, 200_000)),
                       min_size=1, max_size=30),
       cuts=st.lists(st.integers(0, 30), max_size=4))
def test_supplementary_documents_never_drift(tokens: list[tuple[int, int]],
                                             cuts: list[int]) -> None:
    records = [record(n, JAN + dt.timedelta(hours=n), input_tokens=i, output_tokens=o)
               for n, (i, o) in enumerate(tokens)]
    issued: list[Document] = []
    for cut in [*cuts, len(records)]:  # unsorted: a shrinking run makes a credit note
        doc = compose(_rating(records[:cut]), issued, issuer="CY", tax=None, now=AFTER_GRACE)
        if doc is not None:
            issued.append(_issued(doc, len(issued) + 1))
    final = _rating(records)
    for key, accrued in final.lines.items():
        billed = exact_sum(ln.amount for d in issued for ln in d.lines if ln.key == key)
        residual = exact_sum(ln.residual for d in issued for ln in d.lines if ln.key == key)
        assert billed == round_line(accrued.amount, "USD")
        assert billed + residual == accrued.amount
