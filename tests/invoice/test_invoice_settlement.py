"""Settlement statements are zero-sum by construction (a property test), with the rounding
residual on the rounding account and every other share within half a minor unit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from invoice_helpers import AFTER_GRACE, record

from ciyuan.invoice import (
    BillingPeriod,
    Invoicer,
    SettlementEntry,
    SettlementTerms,
    from_nano,
    settle,
)
from ciyuan.invoice.errors import SettlementTermsError
from ciyuan.store.memory_usage import MemoryUsageStore

PERIOD = BillingPeriod.parse("2026-01")
HALF_CENT = Decimal("0.005")
TENANTS = ("acme", "globex", "initech", "umbrella")
PROVIDERS = ("openai", "deepseek", "qwen")

shares = st.decimals(min_value=0, max_value=1, places=4, allow_nan=False)
charges = st.decimals(min_value=0, max_value=10_000, places=12, allow_nan=False)
entries = st.lists(st.builds(SettlementEntry, st.sampled_from(TENANTS),
                             st.sampled_from((*PROVIDERS, "")), charges,
                             st.integers(0, 10**13)), min_size=1, max_size=20)


@settings(max_examples=200, deadline=None)
@given(entries=entries,
       revenue_share=st.dictionaries(st.sampled_from(PROVIDERS), shares),
       resellers=st.dictionaries(st.sampled_from(TENANTS),
                                 st.tuples(st.sampled_from(("r1", "r2")), shares)),
       billed=st.none() | st.dictionaries(st.sampled_from(TENANTS),
                                          st.decimals(0, 10_000, places=2)),
       currency=st.sampled_from(("USD", "CNY")))
def test_every_statement_sums_to_zero(entries: list[SettlementEntry],
                                      revenue_share: dict[str, Decimal],
                                      resellers: dict[str, tuple[str, Decimal]],
                                      billed: dict[str, Decimal] | None, currency: str) -> None:
    terms = SettlementTerms(revenue_share, resellers)
    statement = settle(PERIOD, currency, entries, terms, billed)
    assert statement.total_nano == 0
    assert sum(p.amount_nano for p in statement.parties) == 0
    rounding = [p for p in statement.parties if p.role == "rounding"]
    assert len(rounding) == 1 and statement.parties[-1] is rounding[0]
    shared = [p for p in statement.parties if p.role in ("provider", "reseller", "platform")]
    for party in shared:
        assert abs(from_nano(party.amount_nano) - party.exact) <= HALF_CENT
        assert party.amount_nano % 10**7 == 0  # whole cents (fen)
    assert abs(rounding[0].amount) <= HALF_CENT * len(shared)


def test_a_worked_statement() -> None:
    statement = settle(PERIOD, "USD", [
        SettlementEntry("acme", "openai", Decimal("100.004"), 60 * 10**9),
        SettlementEntry("acme", "deepseek", Decimal("10"), 2 * 10**9),
    ], SettlementTerms({"deepseek": Decimal("0.7")}, {"acme": ("r1", Decimal("0.1"))}))
    amounts = {p.party: p.amount for p in statement.parties}
    assert amounts == {"consumer:acme": Decimal("-110.00"), "provider:deepseek": Decimal("7.00"),
                       "provider:openai": Decimal("60.00"), "reseller:r1": Decimal("11.00"),
                       "platform": Decimal("32.00"), "rounding": Decimal("0")}


@pytest.mark.parametrize("bad", [Decimal("-0.1"), Decimal("1.5")])
def test_shares_outside_zero_to_one_are_refused(bad: Decimal) -> None:
    with pytest.raises(SettlementTermsError, match="between 0 and 1"):
        SettlementTerms({"openai": bad})
    with pytest.raises(SettlementTermsError):
        SettlementTerms(resellers={"acme": ("r1", bad)})


def test_the_statement_of_a_month_pays_what_was_invoiced(usage: MemoryUsageStore,
                                                         invoicer: Invoicer) -> None:
    usage.add(record(1, input_tokens=1_000_001, cost_nano=2 * 10**9))
    usage.add(record(2, tenant="globex", provider="deepseek", model="deepseek-chat",
                     input_tokens=3_000_000, cost_nano=10**9))
    issued = invoicer.issue("acme", "2026-01", AFTER_GRACE)
    assert issued is not None
    statement = invoicer.statement("2026-01", SettlementTerms({"deepseek": Decimal("0.9")}),
                                   AFTER_GRACE)
    parties = {p.party: p for p in statement.parties}
    assert parties["consumer:acme"].amount == -issued.subtotal
    assert parties["consumer:acme"].basis == "invoiced subtotal"
    assert parties["provider:openai"].amount == Decimal("2")
    assert statement.total_nano == 0
    assert statement.to_json()["total_nano"] == 0
