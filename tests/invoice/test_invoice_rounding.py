"""One rounding rule, once per line; residuals to the rounding account; tax on unrounded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from invoice_helpers import AFTER_GRACE, JAN, record

from ciyuan.invoice import INVOICE_ROUNDING, Invoicer, round_line, to_nano
from ciyuan.invoice.amounts import from_nano
from ciyuan.store import SqliteLedgerStore
from ciyuan.store.memory_usage import MemoryUsageStore


def test_the_rule_is_half_up_to_the_minor_unit() -> None:
    assert INVOICE_ROUNDING == "half-up"
    assert round_line(Decimal("0.005"), "USD") == Decimal("0.01")
    assert round_line(Decimal("0.0049999"), "USD") == Decimal("0.00")
    assert round_line(Decimal("-0.005"), "CNY") == Decimal("-0.01")  # a credit mirrors it
    assert round_line(Decimal("0.18518505"), "USD") == Decimal("0.19")


def test_nano_units_round_trip_and_carry_half_even() -> None:
    assert to_nano(Decimal("25.00")) == 25_000_000_000
    assert to_nano(Decimal("0.0000000025")) == 2  # 2.5 nano → 2 (half-even)
    assert to_nano(Decimal("0.0000000035")) == 4
    assert from_nano(150) == Decimal("1.50E-7")


def test_ten_thousand_calls_bill_25_dollars_not_zero(usage: MemoryUsageStore,
                                                     invoicer: Invoicer) -> None:
    for n in range(10_000):
        usage.add(record(n, JAN + dt.timedelta(minutes=4 * n)))
    assert round_line(Decimal("0.0025"), "USD") == 0  # what rounding each call would do
    doc = invoicer.draft("acme", "2026-01", AFTER_GRACE)
    assert doc is not None
    assert [(ln.quantity, ln.amount) for ln in doc.lines] == [(10_000_000, Decimal("25.00"))]
    assert doc.total == Decimal("25.00") and doc.residual == 0


def test_the_residual_of_each_line_goes_to_the_rounding_account(
        usage: MemoryUsageStore, invoicer: Invoicer, ledger: SqliteLedgerStore) -> None:
    # 1,001 input tokens at $2.50/M = $0.0025025; 3 output tokens at $10/M = $0.00003
    usage.add(record(1, input_tokens=1001, output_tokens=3))
    doc = invoicer.issue("acme", "2026-01", AFTER_GRACE)
    assert doc is not None
    assert [ln.amount for ln in doc.lines] == [Decimal("0.00"), Decimal("0.00")]
    assert doc.residual == Decimal("0.0025325")
    rounding = ledger.balance("rounding:USD")
    revenue = ledger.balance("revenue:USD")
    assert rounding.debits_posted - rounding.credits_posted == 2_532_500
    assert revenue.net_posted == 2_532_500  # revenue holds what was rated


def test_tax_is_computed_on_the_unrounded_subtotal_and_rounded_once(
        usage: MemoryUsageStore, invoicer: Invoicer) -> None:
    from dataclasses import replace

    from ciyuan.invoice import TaxRule

    taxed = replace(invoicer, settings=replace(invoicer.settings,
                                               tax=TaxRule("VAT", Decimal("0.10"))))
    # three models' lines of $0.005 each: each rounds up to $0.01
    for n, model in enumerate(("gpt-4o", "gpt-4o-mini", "gpt-4.1")):
        price = {"gpt-4o": 2000, "gpt-4o-mini": 33_334, "gpt-4.1": 2500}[model]
        usage.add(record(n, input_tokens=price, model=model))
    doc = taxed.draft("acme", "2026-01", AFTER_GRACE)
    assert doc is not None and doc.tax is not None
    assert doc.tax.base_exact == doc.subtotal_exact
    assert doc.tax.amount_exact == doc.subtotal_exact * Decimal("0.10")
    assert doc.tax.amount == round_line(doc.tax.amount_exact, "USD")
    assert doc.total == doc.subtotal + doc.tax.amount
