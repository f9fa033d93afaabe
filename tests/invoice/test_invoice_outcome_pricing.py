"""End to end: usage records and outcome reports in real stores (SQLite, and PostgreSQL with
CIYUAN_TEST_PG), invoices under a pay-for-quality and a pay-for-outcome plan, a supplementary
invoice once a dispute window closes, and the settlement's margin per basis."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from invoice_helpers import record

from ciyuan.core.outcomes import Outcome
from ciyuan.core.records import UsageRecord
from ciyuan.invoice import Invoicer, InvoiceSettings
from ciyuan.price import pricer_from_config
from ciyuan.store.invoice_protocol import InvoiceStore, open_invoice_store
from ciyuan.store.open import open_ledger_store
from ciyuan.store.outcomes import OutcomeStore, open_outcome_store
from ciyuan.store.protocol import LedgerStore
from ciyuan.store.usage import UsageStore, open_usage_store
from pg_database import fresh_database_url

UTC = dt.UTC
PLANS: dict[str, Any] = {
    "graded": {"currency": "USD", "charges": [
        {"kind": "per_token"},
        {"kind": "pay_for_quality", "name": "quality", "floor": "0.5", "cap": "1.2",
         "tiers": [{"min_score": "0", "multiplier": "0.5"},
                   {"min_score": "0.6", "multiplier": "1"},
                   {"min_score": "0.9", "multiplier": "1.2"}]}]},
    "outcomes": {"currency": "USD", "charges": [
        {"kind": "per_token"},
        {"kind": "pay_for_outcome", "name": "outcomes", "price": "0.40",
         "partial_share": "0.5", "dispute_days": 7}]},
}
SETTINGS = InvoiceSettings(tenant_plans={"acme": "graded", "globex": "outcomes"})
FIRST_RUN = dt.datetime(2026, 2, 4, tzinfo=UTC)   # January's end + 3 days of grace
SECOND_RUN = dt.datetime(2026, 2, 7, tzinfo=UTC)  # after the 30 January call's window


def day(d: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 1, d, hour, tzinfo=UTC)


def report(n: int, tenant: str, call: int, outcome: str, at: dt.datetime,
           score: str | None = None) -> Outcome:
    return Outcome(id=f"o-{n}", tenant=tenant, record_id=f"call-{call}", task="",
                   outcome=outcome, reported_at=at,  # type: ignore[arg-type]
                   score=Decimal(score) if score is not None else None)


def acme() -> tuple[list[UsageRecord], list[Outcome]]:
    """Four 1M-token gpt-4o calls (2.50 USD list each, 2.00 USD upstream cost each)."""
    calls = [record(n, day(n), tenant="acme", input_tokens=1_000_000,
                    cost_nano=2_000_000_000) for n in (1, 2, 3, 4)]
    reports = [report(1, "acme", 1, "accepted", day(2), "0.95"),   # × 1.2 = 3.00
               report(2, "acme", 2, "accepted", day(3), "0.7"),    # × 1   = 2.50
               report(3, "acme", 3, "partial", day(4), "0.3")]     # × 0.5 = 1.25
    return calls, reports                                           # call 4: no score, 2.50


def globex() -> tuple[list[UsageRecord], list[Outcome]]:
    """Six gpt-4o-mini calls (0.021 USD list each, 0.02 USD upstream cost each)."""
    days = {11: 5, 12: 6, 13: 7, 14: 10, 15: 20, 16: 30}
    calls = [record(n, day(d), tenant="globex", model="gpt-4o-mini", input_tokens=100_000,
                    output_tokens=10_000, cost_nano=20_000_000) for n, d in days.items()]
    reports = [
        report(11, "globex", 11, "accepted", day(6)),
        report(12, "globex", 11, "rejected", day(25)),  # after call 11's window: ignored
        report(13, "globex", 12, "partial", day(7)),
        report(14, "globex", 13, "rejected", day(8)),
        report(15, "globex", 14, "accepted", day(11)),
        report(16, "globex", 14, "rejected", day(13)),  # disputed within the window
        report(17, "globex", 16, "accepted", day(31)),  # window open until 6 February
        report(18, "acme", 15, "accepted", day(21)),    # another tenant's: never counts
    ]                                                   # call 15: no outcome, nothing
    return calls, reports


@dataclass
class Stores:
    usage: UsageStore
    invoices: InvoiceStore
    ledger: LedgerStore
    outcomes: OutcomeStore

    def close(self) -> None:
        for store in (self.usage, self.invoices, self.ledger, self.outcomes):
            store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database_url(request.param, tmp_path, "outcome_pricing",
                            "the PostgreSQL outcome-pricing test") as url:
        yield url


@pytest.fixture
def stores(db_url: str) -> Iterator[Stores]:
    opened = Stores(open_usage_store(db_url), open_invoice_store(db_url),
                    open_ledger_store(db_url), open_outcome_store(db_url))
    for calls, reports in (acme(), globex()):
        for done in calls:
            opened.usage.begin(replace(done, status="pending", completed_at=None, usage=None,
                                       usage_method="", upstream_cost_nano=0))
            opened.usage.complete(done)
        for outcome in reports:
            opened.outcomes.add(outcome)
    yield opened
    opened.close()


def _invoicer(stores: Stores) -> Invoicer:
    return Invoicer(stores.usage, stores.invoices, pricer_from_config({"plans": PLANS}),
                    SETTINGS, stores.ledger, outcomes=stores.outcomes)


def _lines(doc: Any) -> dict[str, tuple[Decimal, Decimal]]:
    return {f"{ln.key.category}@{ln.key.unit_price}": (ln.quantity, ln.amount)
            for ln in doc.lines if ln.amount or ln.key.category.startswith("outcome")}


def test_a_pay_for_quality_invoice(stores: Stores) -> None:
    invoice = _invoicer(stores).issue("acme", "2026-01", FIRST_RUN)
    assert invoice is not None and invoice.plan == "graded"
    assert invoice.total == Decimal("9.25")  # 3.00 + 2.50 + 1.25 + 2.50
    quality = {ln.key.tier: ln.amount for ln in invoice.lines if ln.key.category == "quality"}
    assert quality == {"quality tier 3": Decimal("0.50"), "quality tier 2": Decimal("0.00"),
                       "quality tier 1": Decimal("-1.25"),
                       "": Decimal("0.00")}  # call 4, no score: the missing multiplier 1
    assert stores.ledger.balance("receivable:acme:USD").debits_posted == 9_250_000_000


def test_a_pay_for_outcome_invoice_and_its_supplement(stores: Stores) -> None:
    invoicer = _invoicer(stores)
    first = invoicer.issue("globex", "2026-01", FIRST_RUN)
    assert first is not None and first.plan == "outcomes"
    assert _lines(first) == {
        "outcome_accepted@0.40": (Decimal(1), Decimal("0.40")),  # call 11 (late dispute: no)
        "outcome_partial@0.200": (Decimal(1), Decimal("0.20")),  # call 12
        "outcome_rejected@0": (Decimal(2), Decimal("0.00")),     # calls 13 and 14
        "outcome_unresolved@0": (Decimal(1), Decimal("0.00")),   # call 15
        "outcome_pending@0": (Decimal(1), Decimal("0.00")),      # call 16, window open
    }
    tokens = [ln for ln in first.lines if ln.key.unit == "token"]
    assert {ln.key.category for ln in tokens} == {"input", "output"}
    assert all(ln.amount == 0 and ln.quantity > 0 for ln in tokens)  # covered, still shown
    assert first.total == Decimal("0.60")
    supplement = invoicer.issue("globex", "2026-01", SECOND_RUN)
    assert supplement is not None and supplement.number == "CY-2026-000002"
    assert supplement.total == Decimal("0.40")  # call 16 accepted, once its window closed
    assert _lines(supplement) == {"outcome_accepted@0.40": (Decimal(1), Decimal("0.40")),
                                  "outcome_pending@0": (Decimal(-1), Decimal("0.00"))}
    assert invoicer.issue("globex", "2026-01", SECOND_RUN) is None


def test_the_settlement_shows_the_platform_margin(stores: Stores) -> None:
    invoicer = _invoicer(stores)
    for tenant in ("acme", "globex"):
        invoicer.issue(tenant, "2026-01", FIRST_RUN)
        invoicer.issue(tenant, "2026-01", SECOND_RUN)
    statement = invoicer.statement("2026-01", now=SECOND_RUN)
    parties = {p.party: p.amount for p in statement.parties}
    assert parties == {"consumer:acme": Decimal("-9.25"), "consumer:globex": Decimal("-1.00"),
                       "provider:openai": Decimal("8.12"), "platform": Decimal("2.13"),
                       "rounding": Decimal("0")}
    assert statement.total_nano == 0
    margins = {(m.tenant, m.basis): (m.charge, m.provider_cost, m.margin)
               for m in statement.margins}
    assert margins == {("acme", "quality"): (Decimal("9.25"), Decimal("8.00"), Decimal("1.25")),
                       ("globex", "outcome"): (Decimal("1.00"), Decimal("0.12"),
                                               Decimal("0.88"))}
    for m in statement.margins:
        assert m.charge - m.provider_cost == m.margin
    assert sum(m.margin for m in statement.margins) == parties["platform"]
    assert statement.to_json()["margins"][1] == {
        "tenant": "globex", "basis": "outcome", "charge": "1",
        "provider_cost": "0.12", "margin": "0.88"}


CONFIG = """
[invoice.tenants.acme]
plan = "graded"

[invoice.tenants.globex]
plan = "outcomes"

[plans.graded]
currency = "USD"

[[plans.graded.charges]]
kind = "per_token"

[[plans.graded.charges]]
kind = "pay_for_quality"
name = "quality"
floor = "0.5"
cap = "1.2"
tiers = [
  { min_score = "0", multiplier = "0.5" },
  { min_score = "0.6", multiplier = "1" },
  { min_score = "0.9", multiplier = "1.2" },
]

[plans.outcomes]
currency = "USD"

[[plans.outcomes.charges]]
kind = "per_token"

[[plans.outcomes.charges]]
kind = "pay_for_outcome"
name = "outcomes"
price = "0.40"
partial_share = "0.5"
dispute_days = 7
"""


def test_ciyuan_invoice_bills_both_plans_and_prints_the_margins(
        stores: Stores, db_url: str, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from ciyuan.cli.main import cli

    config = tmp_path / "ciyuan.toml"
    config.write_text(CONFIG, "utf-8")

    def run(*args: str) -> Any:
        result = CliRunner().invoke(cli, ["--db", db_url, "--config", str(config), "invoice",
                                          "--month", "2026-01", *args])
        assert result.exit_code == 0, result.output
        return result

    first = json.loads(run("--issue", "--as-of", FIRST_RUN.isoformat(), "--json").output)
    totals = {d["tenant"]: d["totals"]["total"] for d in first["documents"]}
    assert totals == {"acme": "9.25", "globex": "0.60"}
    second = json.loads(run("--issue", "--settlement", "--as-of", SECOND_RUN.isoformat(),
                            "--json").output)
    assert [(d["tenant"], d["totals"]["total"]) for d in second["documents"]] == [
        ("globex", "0.40")]
    margins = {(m["tenant"], m["basis"]): m["margin"] for m in second["settlement"]["margins"]}
    assert margins == {("acme", "quality"): "1.25", ("globex", "outcome"): "0.88"}
    assert second["settlement"]["total_nano"] == 0
    table = run("--settlement", "--as-of", SECOND_RUN.isoformat()).output
    assert "platform margin" in table and "0.88" in table and "2.13" in table


def test_rejected_outcomes_bill_nothing_and_the_margin_goes_negative(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rejected.db'}"
    opened = Stores(open_usage_store(url), open_invoice_store(url), open_ledger_store(url),
                    open_outcome_store(url))
    try:
        calls, _ = globex()
        for done in calls[:2]:
            opened.usage.begin(replace(done, status="pending", completed_at=None, usage=None,
                                       usage_method="", upstream_cost_nano=0))
            opened.usage.complete(done)
            opened.outcomes.add(report(int(done.id.split("-")[1]), "globex",
                                       int(done.id.split("-")[1]), "rejected", day(8)))
        invoicer = _invoicer(opened)
        invoice = invoicer.issue("globex", "2026-01", FIRST_RUN)
        assert invoice is not None and invoice.total == 0
        assert [c.amount_nano for c in invoice.provider_costs] == [40_000_000]
        assert opened.ledger.balance("payable:openai:USD").credits_posted == 40_000_000
        (margin,) = invoicer.statement("2026-01", now=FIRST_RUN).margins
        assert (margin.charge, margin.provider_cost, margin.margin) == (
            Decimal(0), Decimal("0.04"), Decimal("-0.04"))
    finally:
        opened.close()


def test_an_outcome_plan_without_an_outcome_store_is_refused(stores: Stores) -> None:
    from ciyuan.invoice.errors import InvoiceConfigError

    invoicer = replace(_invoicer(stores), outcomes=None)
    with pytest.raises(InvoiceConfigError, match="outcome") as caught:
        invoicer.draft("globex", "2026-01", FIRST_RUN)
    assert caught.value.code == "invoice-config-invalid"
    with pytest.raises(InvoiceConfigError, match="no outcome store"):
        invoicer.draft("acme", "2026-01", FIRST_RUN)  # pay-for-quality, no score source

    class Constant:
        def scores(self, records: Any) -> dict[str, Decimal]:
            return {r.id: Decimal("0.95") for r in records}

    judged = replace(invoicer, quality=Constant())  # another score source is enough
    draft = judged.draft("acme", "2026-01", FIRST_RUN)
    assert draft is not None and draft.total == Decimal("12.00")  # 4 × 2.50 × 1.2
