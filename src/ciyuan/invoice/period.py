"""Billing periods: calendar months in a stated time zone, and the grace period after them.

A period is ``[start, end)`` where ``start`` is local midnight on the first of the month in
``time_zone`` and ``end`` the same on the first of the next month, both kept as aware UTC
instants (so a Shanghai January is 2025-12-31T16:00Z .. 2026-01-31T16:00Z). Usage is assigned
to a period by the instant the call started. A period is *final* once ``end + grace`` has
passed: late events are waited for that long before the final invoice; later arrivals land
on a supplementary invoice.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ciyuan.invoice.errors import InvoicePeriodInvalidError

__all__ = ["DEFAULT_GRACE", "BillingPeriod", "time_zone"]

#: How long late usage events are waited for after a period ends (Stripe allows up to 72 h;
#: three days covers a weekend of a provider's delayed usage export).
DEFAULT_GRACE = dt.timedelta(days=3)
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def time_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; a clear error if it does not exist."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvoicePeriodInvalidError(
            f"time zone {name!r} is unknown; use an IANA name such as UTC or Asia/Shanghai",
            field="time_zone", value=name) from None


@dataclass(frozen=True, order=True)
class BillingPeriod:
    """One calendar month in ``time_zone``."""

    year: int
    month: int
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        if not (1970 <= self.year <= 9998 and 1 <= self.month <= 12):
            raise InvoicePeriodInvalidError(
                f"billing period {self.year}-{self.month:02d} is not a month; write YYYY-MM "
                "such as 2026-01", field="month")
        time_zone(self.time_zone)

    @classmethod
    def parse(cls, text: str, time_zone_name: str = "UTC") -> BillingPeriod:
        """``"2026-01"`` → the period; anything else is refused with the expected form."""
        found = _MONTH.fullmatch(text.strip())
        if found is None:
            raise InvoicePeriodInvalidError(
                f"month {text!r} is not YYYY-MM; write it like 2026-01", field="month",
                value=text)
        return cls(int(found[1]), int(found[2]), time_zone_name)

    @classmethod
    def containing(cls, instant: dt.datetime, time_zone_name: str = "UTC") -> BillingPeriod:
        """The period that ``instant`` (aware) falls in."""
        local = instant.astimezone(time_zone(time_zone_name))
        return cls(local.year, local.month, time_zone_name)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def _local_start(self, year: int, month: int) -> dt.datetime:
        local = dt.datetime(year, month, 1, tzinfo=time_zone(self.time_zone))
        return local.astimezone(dt.UTC)

    @property
    def start(self) -> dt.datetime:
        """Local midnight of the first day, as an aware UTC instant."""
        return self._local_start(self.year, self.month)

    @property
    def end(self) -> dt.datetime:
        """Local midnight of the first day of the next month (exclusive), in UTC."""
        year, month = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return self._local_start(year, month)

    def final_at(self, grace: dt.timedelta = DEFAULT_GRACE) -> dt.datetime:
        """When the period may be finalized: its end plus the grace for late events."""
        return self.end + grace

    def is_final(self, now: dt.datetime, grace: dt.timedelta = DEFAULT_GRACE) -> bool:
        return now >= self.final_at(grace)

    def contains(self, instant: dt.datetime) -> bool:
        return self.start <= instant < self.end

    def __str__(self) -> str:
        return f"{self.label} ({self.time_zone})"
