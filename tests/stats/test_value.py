"""Value per token against a plain computation: record- and task-level reports, two currencies,
superseded and late reports, rejected ones, other months' calls and other tenants' reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ciyuan.core.outcomes import Outcome
from ciyuan.core.records import UsageRecord
from ciyuan.core.usage import Usage
from ciyuan.stats.value import value_figures, value_headline, value_note, value_table

AS_OF = dt.datetime(2026, 10, 5, tzinfo=dt.UTC)
MONTH_NATIVE = 10_000


def _at(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 12, tzinfo=dt.UTC)


def _call(rid: str, tenant: str, task: str, inp: int, out: int, charge_nano: int, *,
          month: int = 9, status: str = "completed", currency: str = "USD") -> UsageRecord:
    return UsageRecord(id=rid, tenant=tenant, model="m", provider="sim",
                       endpoint="chat.completions", started_at=_at(month, 3), status=status,
                       task=task, completed_at=_at(month, 3),
                       usage=Usage(input_tokens=inp, output_tokens=out), currency=currency,
                       charge_nano=charge_nano)


RECORDS = [
    _call("r1", "t1", "T", 800, 200, 2_000_000),
    _call("r2", "t1", "T", 400, 100, 1_000_000),
    _call("r3", "t1", "", 200, 100, 500_000),
    _call("r4", "t2", "", 600, 200, 900_000),
    _call("r5", "t2", "T", 300, 100, 700_000),  # another tenant's task of the same name
    _call("r6", "t1", "T", 900, 100, 4_000_000, month=8),  # August: not this month's call
    _call("r7", "t1", "T", 5000, 0, 0, status="failed"),  # not settled: not a call counted
]


def _report(oid: str, tenant: str, *, record: str = "", task: str = "", outcome: str = "accepted",
            value: str | None = None, currency: str = "", day: int = 20, month: int = 9,
            ) -> Outcome:
    return Outcome(id=oid, tenant=tenant, record_id=record, task=task,
                   outcome=outcome,  # type: ignore[arg-type]
                   reported_at=_at(month, day), value=None if value is None else Decimal(value),
                   currency=currency)


OUTCOMES = [
    _report("a", "t1", task="T", value="30", currency="USD", day=10),  # superseded by b
    _report("b", "t1", task="T", outcome="partial", value="12.5", currency="USD", day=20),
    _report("c", "t1", record="r3", task="", value="5", currency="CNY"),
    _report("d", "t2", record="r4", outcome="rejected"),  # no value: says nothing of value
    _report("e", "t1", record="r6", task="T", value="100", currency="USD"),  # August's call
    _report("f", "t2", record="r1", value="999", currency="USD"),  # t1's record: not t2's
    _report("g", "t1", record="r2", task="T", value="3", currency="USD"),  # r2 again: once
    _report("h", "t2", record="r5", task="T", outcome="rejected", value="0", currency="USD"),
    _report("i", "t2", record="r4", value="50", currency="USD", month=10, day=9),  # late
    _report("j", "t1", record="r7", value="7", currency="USD"),  # a failed call
]


def test_figures_equal_a_plain_computation() -> None:
    figures = {f.currency: f for f in value_figures(OUTCOMES, RECORDS, month="2026-09",
                                                    as_of=AS_OF,
                                                    month_native_tokens=MONTH_NATIVE)}
    assert set(figures) == {"CNY", "USD"}
    usd = figures["USD"]
    # b (task T of t1: r1, r2), g (r2), h (r5, value 0)
    assert (usd.reports, usd.calls) == (3, 3)
    native = (800 + 200) + (400 + 100) + (300 + 100)
    assert usd.native_tokens == native
    assert usd.value == Decimal("12.5") + Decimal("3") + Decimal("0")
    assert usd.spend == Decimal(2_000_000 + 1_000_000 + 700_000) / 10**9
    assert usd.per_million_native == (Decimal("15.5") * 10**6 / native).quantize(
        Decimal("0.000001"))
    assert usd.per_unit_spend == (Decimal("15.5") / Decimal("0.0037")).quantize(
        Decimal("0.000001"))
    assert usd.coverage == native / MONTH_NATIVE
    cny = figures["CNY"]
    assert (cny.reports, cny.calls, cny.native_tokens, cny.value) == (1, 1, 300, Decimal(5))
    assert cny.spend is None and cny.per_unit_spend is None  # charged in USD: not comparable
    assert cny.per_million_native == Decimal("16666.666667")  # 5 CNY over 300 tokens


def test_the_late_report_counts_once_it_is_in_force() -> None:
    later = AS_OF.replace(month=11)
    figures = {f.currency: f for f in value_figures(OUTCOMES, RECORDS, month="2026-09",
                                                    as_of=later,
                                                    month_native_tokens=MONTH_NATIVE)}
    assert figures["USD"].reports == 4 and figures["USD"].value == Decimal("65.5")
    assert figures["USD"].native_tokens == 1000 + 500 + 400 + 800


def test_a_report_without_value_supersedes_a_valued_one() -> None:
    correction = _report("k", "t1", task="T", outcome="rejected", day=25)
    figures = {f.currency: f for f in value_figures(
        [*OUTCOMES, correction], RECORDS, month="2026-09", as_of=AS_OF,
        month_native_tokens=MONTH_NATIVE)}
    assert figures["USD"].value == Decimal(3) and figures["USD"].calls == 2  # g and h remain


def test_table_headline_and_notes() -> None:
    figures = value_figures(OUTCOMES, RECORDS, month="2026-09", as_of=AS_OF,
                            month_native_tokens=MONTH_NATIVE)
    table = value_table(figures, "A")
    rows = {r[0]: dict(zip(table["columns"], r, strict=True)) for r in table["rows"]}
    assert rows["USD"]["value"] == "15.5" and rows["USD"]["flag"] == "A"
    assert rows["USD"]["spend_of_covered_calls"] == "0.0037"
    assert rows["CNY"]["value_per_unit_spend"] is None
    assert isinstance(rows["USD"]["coverage_native_tokens"], float)
    headline = value_headline(figures)
    assert headline is not None and set(headline) == {"CNY", "USD"}
    assert Decimal(headline["USD"]) == figures[1].per_million_native
    assert "4 outcome reports" in value_note(figures)


def test_not_available_without_reports_and_says_why() -> None:
    assert value_figures([], RECORDS, month="2026-09", as_of=AS_OF,
                         month_native_tokens=MONTH_NATIVE) == []
    unvalued = [o for o in OUTCOMES if o.value is None]
    assert value_figures(unvalued, RECORDS, month="2026-09", as_of=AS_OF,
                         month_native_tokens=MONTH_NATIVE) == []
    assert value_headline([]) is None
    assert value_table([], "P")["rows"] == []
    assert "no outcome report with a value" in value_note([])
    assert "without a store" in value_note(None)
