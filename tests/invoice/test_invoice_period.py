"""Billing periods: calendar months in a stated time zone, grace before finalizing."""

from __future__ import annotations

import datetime as dt

import pytest

from ciyuan.invoice import DEFAULT_GRACE, BillingPeriod
from ciyuan.invoice.errors import InvoicePeriodInvalidError

UTC = dt.UTC


def test_a_month_in_utc() -> None:
    period = BillingPeriod.parse("2026-01")
    assert (period.start, period.end) == (dt.datetime(2026, 1, 1, tzinfo=UTC),
                                          dt.datetime(2026, 2, 1, tzinfo=UTC))
    assert period.label == "2026-01"


def test_a_shanghai_month_starts_at_local_midnight() -> None:
    period = BillingPeriod.parse("2026-01", "Asia/Shanghai")
    assert period.start == dt.datetime(2025, 12, 31, 16, tzinfo=UTC)
    assert period.end == dt.datetime(2026, 1, 31, 16, tzinfo=UTC)
    assert period.contains(dt.datetime(2025, 12, 31, 16, tzinfo=UTC))
    assert not period.contains(period.end)


def test_december_rolls_into_the_next_year_and_dst_is_respected() -> None:
    december = BillingPeriod(2025, 12, "America/New_York")
    assert december.end == dt.datetime(2026, 1, 1, 5, tzinfo=UTC)
    march = BillingPeriod(2026, 3, "America/New_York")  # DST starts on 2026-03-08
    assert march.start.hour == 5 and march.end.hour == 4


def test_containing_uses_the_local_calendar() -> None:
    late = dt.datetime(2026, 1, 31, 17, tzinfo=UTC)  # 2026-02-01 01:00 in Shanghai
    assert BillingPeriod.containing(late, "Asia/Shanghai").label == "2026-02"
    assert BillingPeriod.containing(late).label == "2026-01"


def test_final_only_after_the_grace_period() -> None:
    period = BillingPeriod.parse("2026-01")
    assert dt.timedelta(days=3) == DEFAULT_GRACE
    assert period.final_at() == dt.datetime(2026, 2, 4, tzinfo=UTC)
    assert not period.is_final(dt.datetime(2026, 2, 3, 23, 59, tzinfo=UTC))
    assert period.is_final(dt.datetime(2026, 2, 4, tzinfo=UTC))
    assert period.is_final(dt.datetime(2026, 2, 1, tzinfo=UTC), grace=dt.timedelta(0))


@pytest.mark.parametrize("text", ["2026-1", "2026-13", "Jan 2026", "2026-00", ""])
def test_bad_months_say_how_to_write_one(text: str) -> None:
    with pytest.raises(InvoicePeriodInvalidError, match="YYYY-MM"):
        BillingPeriod.parse(text)


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(InvoicePeriodInvalidError, match="IANA"):
        BillingPeriod.parse("2026-01", "Mars/Olympus")
