"""Dated exchange rates. Conversion is never implicit: a caller asks for it by name.

Rates are quoted as units of ``quote`` per one unit of ``base`` (``USD/CNY 7.0014``), with the
day they were fixed and where they come from. A lookup takes the latest rate on or before the
day asked. Converting base → quote is an exact multiplication; quote → base divides and keeps
34 significant digits (IEEE decimal128), the one place rating may carry a rounded digit, and
the line that used it says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from ciyuan.core.money import CURRENCIES, format_amount
from ciyuan.price.errors import NoFxRateError, PriceBookError
from ciyuan.price.parse import price_value

__all__ = ["FX_DIVISION_DIGITS", "FxRate", "FxTable", "parse_fx"]

#: Significant digits kept when converting by division (quote → base).
FX_DIVISION_DIGITS = 34
_DIVISION = Context(prec=FX_DIVISION_DIGITS, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class FxRate:
    base: str
    quote: str
    on: dt.date
    rate: Decimal  # quote per one base
    source: str

    def factor(self, from_currency: str, to_currency: str) -> Decimal:
        """Multiply an amount in ``from_currency`` by this to get ``to_currency``."""
        if (from_currency, to_currency) == (self.base, self.quote):
            return self.rate
        assert (from_currency, to_currency) == (self.quote, self.base)
        return _DIVISION.divide(Decimal(1), self.rate)

    def describe(self) -> str:
        return (f"1 {self.base} = {format_amount(self.rate)} {self.quote} on "
                f"{self.on.isoformat()} ({self.source})")


class FxTable:
    """Rates by currency pair, ordered by day."""

    def __init__(self, rates: Iterable[FxRate]) -> None:
        self._rates: dict[tuple[str, str], list[FxRate]] = {}
        for rate in rates:
            self._rates.setdefault((rate.base, rate.quote), []).append(rate)
        for group in self._rates.values():
            group.sort(key=lambda r: r.on)

    def __len__(self) -> int:
        return sum(len(g) for g in self._rates.values())

    def rates(self) -> list[FxRate]:
        return [r for group in self._rates.values() for r in group]

    def rate(self, from_currency: str, to_currency: str, on: dt.date) -> FxRate:
        """The latest rate between the two currencies fixed on or before ``on``."""
        group = self._rates.get((from_currency, to_currency)) or self._rates.get(
            (to_currency, from_currency), [])
        usable = [r for r in group if r.on <= on]
        if not usable:
            days = ", ".join(r.on.isoformat() for r in group) or "none"
            raise NoFxRateError(
                f"no {from_currency}/{to_currency} rate on or before {on.isoformat()} "
                f"(rates on: {days}); add one under [[fx]] in ciyuan.toml (base, quote, date, "
                f"rate, source)", field="fx", pair=f"{from_currency}/{to_currency}")
        return usable[-1]


def parse_fx(entries: Iterable[Mapping[str, Any]], where: str) -> list[FxRate]:
    rates = []
    for i, raw in enumerate(entries):
        here = f"{where}: fx[{i}]"
        missing = [k for k in ("base", "quote", "date", "rate", "source") if k not in raw]
        if missing:
            raise PriceBookError(f"{here}: missing {', '.join(missing)}", field=here)
        for key in ("base", "quote"):
            if raw[key] not in CURRENCIES:
                raise PriceBookError(f"{here}.{key} {raw[key]!r}: use one of "
                                     f"{', '.join(CURRENCIES)}", field=f"{here}.{key}")
        day = raw["date"]
        if isinstance(day, str):
            try:
                day = dt.date.fromisoformat(day)
            except ValueError:
                raise PriceBookError(f"{here}.date {day!r} is not YYYY-MM-DD",
                                     field=here) from None
        if not isinstance(day, dt.date):
            raise PriceBookError(f"{here}.date must be a date", field=here)
        rate = price_value(raw["rate"], f"{here}.rate")
        if rate <= 0:
            raise PriceBookError(f"{here}.rate must be positive", field=here)
        rates.append(FxRate(base=str(raw["base"]), quote=str(raw["quote"]), on=day, rate=rate,
                            source=str(raw["source"])))
    return rates
