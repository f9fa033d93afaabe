"""Budget periods: calendar days and months in an explicit IANA time zone.

A period is named by its local calendar key (``2026-11`` for a month, ``2026-11-05`` for a
day) and spans ``[start, end)`` where both ends are local midnights converted to UTC. Periods
of one zone tile time without gaps or overlaps, through DST changes too: a day in
America/New_York is 23 or 25 hours long when the clocks change. A local midnight that does
not exist (a DST jump at midnight, as in America/Santiago) starts the period at the jump.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ciyuan.billing.errors import BudgetInvalidError, UnknownTimeZoneError

__all__ = ["Period", "PeriodKind", "period_at", "period_kind", "period_of", "zone"]

_TZ_NAME = re.compile(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*")
_KEYS = {"month": re.compile(r"(\d{4})-(\d{2})"), "day": re.compile(r"(\d{4})-(\d{2})-(\d{2})")}


class PeriodKind(StrEnum):
    DAY = "day"
    MONTH = "month"


@functools.cache
def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ``UnknownTimeZoneError`` if there is none."""
    if not isinstance(name, str) or not _TZ_NAME.fullmatch(name) or len(name) > 64:
        raise UnknownTimeZoneError(
            f"{name!r} is not an IANA time zone name; write one like Asia/Shanghai or UTC",
            tz=str(name))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownTimeZoneError(
            f"unknown time zone {name!r}; write an IANA name like Asia/Shanghai, "
            "America/New_York or UTC", tz=name) from None


def period_kind(value: str) -> PeriodKind:
    """``day`` or ``month`` as a :class:`PeriodKind`; a typed error otherwise."""
    try:
        return PeriodKind(value)
    except ValueError:
        raise BudgetInvalidError(f"period must be 'day' or 'month', not {value!r}",
                                 field="period") from None


@dataclass(frozen=True)
class Period:
    """One calendar period of ``kind`` in zone ``tz``: ``start <= t < end`` (UTC)."""

    kind: PeriodKind
    key: str
    tz: str
    start: dt.datetime
    end: dt.datetime

    def __contains__(self, instant: object) -> bool:
        return isinstance(instant, dt.datetime) and self.start <= instant < self.end


def _local_midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The first instant of ``day`` in ``tz``, in UTC."""
    # fold=0: a midnight inside a DST gap takes the offset before the jump, which maps it
    # to the jump itself, the first instant that exists on ``day`` (PEP 495)
    return dt.datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(dt.UTC)


def _first_day(kind: PeriodKind, day: dt.date) -> dt.date:
    return day.replace(day=1) if kind is PeriodKind.MONTH else day


def _next_first_day(kind: PeriodKind, first: dt.date) -> dt.date:
    if kind is PeriodKind.DAY:
        return first + dt.timedelta(days=1)
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _key(kind: PeriodKind, first: dt.date) -> str:
    return first.isoformat() if kind is PeriodKind.DAY else first.isoformat()[:7]


def _period(kind: PeriodKind, first: dt.date, tz: str) -> Period:
    info = zone(tz)
    return Period(kind, _key(kind, first), tz, _local_midnight(first, info),
                  _local_midnight(_next_first_day(kind, first), info))


#: The period last found per (kind, zone): nearly every call falls in it again. Periods are
#: immutable values, so sharing them is safe; the dict is bounded by the zones in use.
_LAST: dict[tuple[PeriodKind, str], Period] = {}
_LAST_KEPT = 1_024


def period_at(kind: PeriodKind | str, at: dt.datetime, tz: str) -> Period:
    """The period of ``kind`` in zone ``tz`` that contains the instant ``at`` (aware)."""
    kind = period_kind(str(kind))
    if at.tzinfo is None:
        raise BudgetInvalidError(f"the instant {at.isoformat()} has no time zone; pass an "
                                 "aware datetime (UTC)", field="at")
    last = _LAST.get((kind, tz))
    if last is not None and at in last:
        return last
    local = at.astimezone(zone(tz)).date()
    period = _period(kind, _first_day(kind, local), tz)
    assert at in period, (at, period)
    if len(_LAST) >= _LAST_KEPT:
        _LAST.clear()
    _LAST[(kind, tz)] = period
    return period


def period_of(kind: PeriodKind | str, key: str, tz: str) -> Period:
    """The period named ``key`` (``2026-11`` or ``2026-11-05``) in zone ``tz``."""
    kind = period_kind(str(kind))
    match = _KEYS[kind].fullmatch(key)
    try:
        if match is None:
            raise ValueError(key)
        first = dt.date(*(int(g) for g in match.groups()), *(() if match.lastindex == 3
                                                              else (1,)))
    except ValueError:
        example = "2026-11-05" if kind is PeriodKind.DAY else "2026-11"
        raise BudgetInvalidError(f"{key!r} is not a {kind} key; write it like {example}",
                                 field="period") from None
    return _period(kind, first, tz)
