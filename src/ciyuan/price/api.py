"""The façade: resolve a model name and a time to a price version, and rate usage with it."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from ciyuan.catalog.models import Catalog, load_catalog
from ciyuan.core.errors import InputError, UnknownModelError, closest
from ciyuan.core.usage import Usage
from ciyuan.price.book import PriceBook, PriceVersion
from ciyuan.price.engine import Plan, get_plan, parse_plans, rate_call
from ciyuan.price.fx import FxTable
from ciyuan.price.lines import Call, Rating
from ciyuan.price.load import load_fx_table, load_price_book
from ciyuan.price.state import PeriodState

__all__ = ["Pricer", "as_instant", "default_pricer", "pricer_from_config", "rate"]

Instant = dt.datetime | dt.date | str | None
_NO_SIGNALS: Mapping[str, Decimal] = MappingProxyType({})


def as_instant(at: Instant) -> dt.datetime:
    """An aware UTC datetime from a datetime, a date (UTC midnight), an ISO string or None (now).

    Naive datetimes are taken as UTC.
    """
    if isinstance(at, dt.datetime) and at.tzinfo is dt.UTC:
        return at
    if at is None:
        return dt.datetime.now(dt.UTC)
    if isinstance(at, str):
        text = at.strip().replace("Z", "+00:00")
        try:
            parsed: dt.date = (dt.datetime.fromisoformat(text) if "T" in text or " " in text
                               else dt.date.fromisoformat(text))
        except ValueError:
            raise InputError(f"at: {at!r} is not an ISO date or time; write 2026-01-31 or "
                             f"2026-01-31T16:45:00+08:00", field="at") from None
        at = parsed
    if isinstance(at, dt.datetime):
        return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
    return dt.datetime(at.year, at.month, at.day, tzinfo=dt.UTC)


@dataclass
class Pricer:
    """A catalog, a price book, an FX table and named plans, ready to rate."""

    catalog: Catalog
    book: PriceBook
    fx: FxTable
    plans: Mapping[str, Plan] = field(default_factory=dict)
    _resolved: dict[str, str] = field(default_factory=dict, repr=False)

    def resolve(self, model: str) -> str:
        """The name the book knows ``model`` by: the catalog id of an alias, or as written."""
        hit = self._resolved.get(model)
        if hit is not None:
            return hit
        if model in self.catalog:
            model_id = self.catalog.get(model).id
            found = model_id if model_id in self.book or model not in self.book else model
        elif model in self.book:
            found = model
        else:
            names = [n for m in self.catalog for n in (m.id, *m.aliases)] + self.book.models()
            suggestions = closest(model, names)
            hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
            raise UnknownModelError(
                f"unknown model {model!r}.{hint} Run `ciyuan models` for the priced models.",
                model=model, suggestions=suggestions)
        self._resolved[model] = found
        return found

    def version(self, model: str, at: dt.datetime, currency: str | None = None,
                convert: bool = False) -> PriceVersion:
        """The price version in force; with ``convert``, FX-converted into ``currency``."""
        name = self.resolve(model)
        if currency is None or currency in self.book.currencies(name) or not convert:
            return self.book.at(name, at, currency)
        native = self.book.at(name, at)
        rate = self.fx.rate(native.currency, currency, at.date())
        return native.scaled(rate.factor(native.currency, currency), currency,
                             f"[converted from {native.currency}: {rate.describe()}]")

    def rate(self, usage: Usage, *, model: str, at: Instant = None, plan: str | Plan | None = None,
             state: PeriodState | None = None, service_tier: str | None = None,
             currency: str | None = None, convert: bool = False,
             signals: Mapping[str, Decimal] | None = None) -> Rating:
        """Rate ``usage`` of ``model`` at ``at`` under ``plan`` (default: list price)."""
        instant = as_instant(at)
        version = self.version(model, instant, currency, convert)
        chosen = plan if isinstance(plan, Plan) else get_plan(self.plans, plan)
        call = Call(usage, version.model, instant, version, service_tier,
                    signals if signals is not None else _NO_SIGNALS)
        return rate_call(call, chosen, state)


def pricer_from_config(config: Mapping[str, Any], catalog: Catalog | None = None) -> Pricer:
    """A pricer for a parsed ciyuan.toml: its [prices], [[fx]] and [plans] on top of ours."""
    plans = config.get("plans", {})
    return Pricer(catalog=catalog or load_catalog(config),
                  book=load_price_book(config), fx=load_fx_table(config),
                  plans=parse_plans(plans) if isinstance(plans, Mapping) else {})


@functools.cache
def default_pricer() -> Pricer:
    """The shipped catalog, price book and FX table (built once per process)."""
    return Pricer(catalog=load_catalog(), book=load_price_book(), fx=load_fx_table())


def rate(usage: Usage, *, model: str, at: Instant = None, plan: str | Plan | None = None,
         state: PeriodState | None = None, service_tier: str | None = None,
         currency: str | None = None, convert: bool = False) -> Rating:
    """Rate ``usage`` of ``model`` at ``at`` with the shipped price book.

    >>> from ciyuan.core.usage import Usage
    >>> str(rate(Usage(input_tokens=1_234_567), model="gpt-4o-mini", at="2026-01-01").total)
    '0.18518505'
    """
    return default_pricer().rate(usage, model=model, at=at, plan=plan, state=state,
                                 service_tier=service_tier, currency=currency, convert=convert)
