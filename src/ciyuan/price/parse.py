"""Price-book TOML → :class:`PriceVersion` objects, with errors that name the entry and key.

Format (one array of tables per model; every price is a quoted decimal string)::

    [[prices."gpt-4o"]]
    currency = "USD"
    effective_from = "2024-10-01"          # UTC midnight, or an RFC 3339 instant
    effective_to = "2025-01-01"            # optional, exclusive
    source = "https://openai.com/api/pricing/"
    retrieved = "2026-11-22"
    input = "2.50"                         # per million tokens
    cached_input = "1.25"
    output = "10.00"
    per_request = "0.01"                   # per-unit fees: per_image, per_audio_second
    tiers = [{ above_input_tokens = 200000, input = "5.00", output = "15.00" }]
    service_tiers = { batch = "0.5", priority = { input = "4.25", output = "17.00" } }
    off_peak = [{ start = "16:30", end = "00:30", time_zone = "UTC", multiplier = "0.5" }]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ciyuan.core.money import CURRENCIES, InvalidAmountError, decimal
from ciyuan.price.book import (
    TOKEN_CATEGORIES,
    UNIT_CATEGORIES,
    ContextTier,
    OffPeakWindow,
    Override,
    PriceVersion,
)
from ciyuan.price.errors import PriceBookError, PriceFloatError

__all__ = ["parse_instant", "parse_prices", "parse_version", "price_value"]

_PRICE_KEYS = {**{c: c for c in TOKEN_CATEGORIES},
               **{f"per_{c}": c for c in UNIT_CATEGORIES}}
_META_KEYS = {"currency", "effective_from", "effective_to", "source", "retrieved", "note",
              "tiers", "service_tiers", "off_peak", "litellm"}


def price_value(value: object, where: str) -> Decimal:
    """A price from TOML: a quoted decimal string (or int). TOML floats are refused."""
    if isinstance(value, float | Decimal):  # Decimal: ciyuan.toml is read with parse_float
        raise PriceFloatError(
            f"{where} = {value} is a TOML float; write prices as strings so no digit is lost: "
            f"{where.rsplit('.', 1)[-1]} = \"{value}\"", field=where)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PriceBookError(f"{where}: expected a price such as \"2.50\", got {value!r}",
                             field=where)
    try:
        price = decimal(value, field=where)
    except InvalidAmountError as exc:
        raise PriceBookError(exc.message, field=where) from None
    if price < 0:
        raise PriceBookError(f"{where} = {value!r} is negative; prices are ≥ 0", field=where)
    return price


def parse_instant(value: object, where: str) -> dt.datetime:
    """A date (UTC midnight) or an RFC 3339 instant with offset, as an aware UTC datetime."""
    if isinstance(value, dt.datetime):
        instant = value
    elif isinstance(value, dt.date):
        instant = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise PriceBookError(
                f"{where} = {value!r} is not a date; write \"YYYY-MM-DD\" (UTC) or "
                f"\"YYYY-MM-DDTHH:MM:SS+08:00\"", field=where) from None
    else:
        raise PriceBookError(f"{where}: expected a date, got {value!r}", field=where)
    if instant.tzinfo is None:
        if instant.time() != dt.time(0):
            raise PriceBookError(
                f"{where} = {value!r} has a time but no UTC offset; add one (\"+00:00\")",
                field=where)
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(dt.UTC)


def _date(value: object, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise PriceBookError(f"{where} = {value!r} is not a date; write \"YYYY-MM-DD\"", field=where)


def _prices(raw: Mapping[str, Any], where: str, allowed: set[str]) -> dict[str, Decimal]:
    prices: dict[str, Decimal] = {}
    for key, value in raw.items():
        if key in _PRICE_KEYS:
            prices[_PRICE_KEYS[key]] = price_value(value, f"{where}.{key}")
        elif key not in allowed:
            raise PriceBookError(
                f"{where}: unknown key {key!r}; price keys are {', '.join(_PRICE_KEYS)}",
                field=f"{where}.{key}")
    return prices


def _override(value: object, where: str) -> Override:
    if isinstance(value, Mapping):
        if "multiplier" in value:
            return Override(multiplier=price_value(value["multiplier"], f"{where}.multiplier"))
        return Override(prices=_prices(value, where, set()))
    return Override(multiplier=price_value(value, where))


def _tiers(raw: object, where: str) -> tuple[ContextTier, ...]:
    if not isinstance(raw, list):
        raise PriceBookError(f"{where}: expected an array of tables", field=where)
    tiers = []
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("above_input_tokens"), int):
            raise PriceBookError(f"{here}: needs above_input_tokens = <integer>", field=here)
        limit = item.get("max_output_tokens")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise PriceBookError(f"{here}.max_output_tokens must be an integer", field=here)
        tiers.append(ContextTier(
            above_input_tokens=item["above_input_tokens"],
            prices=_prices(item, here, {"above_input_tokens", "max_output_tokens"}),
            max_output_tokens=limit))
    return tuple(sorted(tiers, key=lambda t: (t.above_input_tokens,
                                              t.max_output_tokens is not None)))


def _time(value: object, where: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError:
        raise PriceBookError(f"{where} = {value!r} is not a time; write \"HH:MM\"",
                             field=where) from None


def _windows(raw: object, where: str) -> tuple[OffPeakWindow, ...]:
    items = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(items, list):
        raise PriceBookError(f"{where}: expected a table or an array of tables", field=where)
    windows = []
    for i, item in enumerate(items):
        here = f"{where}[{i}]"
        if not isinstance(item, Mapping) or not {"start", "end", "time_zone"} <= set(item):
            raise PriceBookError(f"{here}: needs start, end and time_zone", field=here)
        try:
            ZoneInfo(str(item["time_zone"]))
        except (ZoneInfoNotFoundError, ValueError):
            raise PriceBookError(f"{here}.time_zone {item['time_zone']!r} is not an IANA time "
                                 f"zone (e.g. \"UTC\", \"Asia/Shanghai\")", field=here) from None
        rest = {k: v for k, v in item.items() if k not in {"start", "end", "time_zone"}}
        windows.append(OffPeakWindow(
            start=_time(item["start"], f"{here}.start"), end=_time(item["end"], f"{here}.end"),
            time_zone=str(item["time_zone"]), override=_override(rest, here)))
    return tuple(windows)


def parse_version(model: str, raw: Mapping[str, Any], where: str,
                  book: str = "ciyuan") -> PriceVersion:
    """One ``[[prices."MODEL"]]`` entry."""
    for key in ("currency", "effective_from", "source", "retrieved"):
        if key not in raw:
            raise PriceBookError(f"{where}: missing {key!r}; every price version needs "
                                 f"currency, effective_from, source and retrieved",
                                 model=model, field=f"{where}.{key}")
    currency = str(raw["currency"])
    if currency not in CURRENCIES:
        raise PriceBookError(f"{where}.currency {currency!r}: use one of "
                             f"{', '.join(CURRENCIES)} (as the vendor lists it)",
                             model=model, field=f"{where}.currency")
    start = parse_instant(raw["effective_from"], f"{where}.effective_from")
    end = (parse_instant(raw["effective_to"], f"{where}.effective_to")
           if raw.get("effective_to") is not None else None)
    if end is not None and end <= start:
        raise PriceBookError(f"{where}: effective_to {end.isoformat()} is not after "
                             f"effective_from {start.isoformat()}",
                             model=model, field=f"{where}.effective_to")
    prices = _prices(raw, where, _META_KEYS)
    if not prices:
        raise PriceBookError(f"{where}: no prices; add at least input = \"...\"",
                             model=model, field=where)
    service = raw.get("service_tiers", {})
    if not isinstance(service, Mapping):
        raise PriceBookError(f"{where}.service_tiers must be a table", field=where)
    return PriceVersion(
        model=model, currency=currency, effective_from=start, effective_to=end,
        source=str(raw["source"]), retrieved=_date(raw["retrieved"], f"{where}.retrieved"),
        prices=prices,
        tiers=_tiers(raw.get("tiers", []), f"{where}.tiers"),
        service_tiers={str(k): _override(v, f"{where}.service_tiers.{k}")
                       for k, v in service.items()},
        off_peak=_windows(raw.get("off_peak", []), f"{where}.off_peak"),
        note=str(raw.get("note", "")), book=book, litellm=str(raw.get("litellm", "")),
    )


def parse_prices(table: Mapping[str, Any], where: str, book: str = "ciyuan") -> list[PriceVersion]:
    """Every version of a ``[prices]`` table (model → array of version tables)."""
    versions = []
    for model, entries in table.items():
        if isinstance(entries, Mapping):
            entries = [entries]
        if not isinstance(entries, list):
            raise PriceBookError(f"{where}: prices.\"{model}\" must be an array of tables "
                                 f"([[prices.\"{model}\"]])", model=model, field=model)
        for i, raw in enumerate(entries):
            here = f"{where}: prices.\"{model}\"[{i}]"
            if not isinstance(raw, Mapping):
                raise PriceBookError(f"{here} must be a table", model=model, field=model)
            versions.append(parse_version(model, raw, here, book))
    return versions
