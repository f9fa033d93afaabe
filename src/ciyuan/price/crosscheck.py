"""Cross-check our price book against LiteLLM's JSON, model by model, category by category.

For every model we price in USD and LiteLLM lists (under the version's ``litellm`` key), the
EFFECTIVE prices per million tokens of input, cached input, cache writes (5 min, 1 h), output
and reasoning are compared — a category without its own price is billed at its fallback
(cached input and cache writes at the input price, 1-hour writes at the 5-minute price,
reasoning at the output price), on both sides — and likewise for each long-context tier and
for input/output in the batch tier. Every difference must be explained in docs/prices.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from ciyuan.core.money import format_amount
from ciyuan.price.book import PriceBook, PriceVersion
from ciyuan.price.litellm import version_from_entry

__all__ = ["COMPARED", "CrossCheckRow", "Difference", "crosscheck", "summarize"]

COMPARED = ("input", "cached_input", "cache_write", "cache_write_1h", "output", "reasoning")
Status = Literal["equal", "different", "not-listed", "no-usd-price"]


@dataclass(frozen=True, slots=True)
class Difference:
    field: str
    ours: Decimal | None  # per million tokens
    theirs: Decimal | None

    def __str__(self) -> str:
        def show(v: Decimal | None) -> str:
            return "—" if v is None else format_amount(v)

        return f"{self.field}: ours {show(self.ours)}, LiteLLM {show(self.theirs)}"


@dataclass(frozen=True)
class CrossCheckRow:
    model: str
    litellm_key: str | None
    status: Status
    version_id: str | None = None
    differences: tuple[Difference, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"model": self.model, "litellm_key": self.litellm_key, "status": self.status,
                "price_book_version": self.version_id,
                "differences": [str(d) for d in self.differences]}


#: what a category missing from a sheet is billed at, on both sides
_FALLBACK = (("cached_input", "input"), ("cache_write", "input"),
             ("cache_write_1h", "cache_write"), ("reasoning", "output"))


def _sheet(prices: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """The effective price of each compared category, fallbacks applied."""
    found = {k: prices[k] for k in COMPARED if k in prices}
    if "thinking_output" in prices and "reasoning" not in found:
        found["reasoning"] = prices["thinking_output"]  # LiteLLM's nearest counterpart
    for category, fallback in _FALLBACK:
        if category not in found and fallback in found:
            found[category] = found[fallback]
    return found


def _compare(prefix: str, ours: Mapping[str, Decimal],
             theirs: Mapping[str, Decimal]) -> list[Difference]:
    out = []
    for field in sorted(set(ours) | set(theirs)):
        a, b = ours.get(field), theirs.get(field)
        if a is None or b is None or a != b:
            out.append(Difference(f"{prefix}{field}", a, b))
    return out


def _differences(ours: PriceVersion, theirs: PriceVersion) -> list[Difference]:
    diffs = _compare("", _sheet(ours.prices), _sheet(theirs.prices))
    our_tiers = {t.above_input_tokens: t for t in ours.tiers if t.max_output_tokens is None}
    their_tiers = {t.above_input_tokens: t for t in theirs.tiers}
    for threshold in sorted(set(our_tiers) | set(their_tiers)):
        a = _sheet({**ours.prices, **our_tiers[threshold].prices}) if threshold in our_tiers \
            else {}
        b = _sheet({**theirs.prices, **their_tiers[threshold].prices}) \
            if threshold in their_tiers else {}
        diffs += _compare(f"above {threshold:,}: ", a, b)
    if "batch" in ours.service_tiers and "batch" in theirs.service_tiers:
        a = ours.service_tiers["batch"].apply(ours.prices, tiered=False)
        b = theirs.service_tiers["batch"].apply(theirs.prices, tiered=False)
        pick = ("input", "output")
        diffs += _compare("batch ", {k: a[k] for k in pick if k in a},
                          {k: b[k] for k in pick if k in b})
    return diffs


def _latest_usd(book: PriceBook, model: str, at: dt.datetime) -> PriceVersion | None:
    versions = book.versions(model, "USD")
    if not versions:
        return None
    in_force = [v for v in versions if v.covers(at)]
    return in_force[-1] if in_force else versions[-1]


def crosscheck(book: PriceBook, litellm: Mapping[str, Any], at: dt.datetime) -> list[CrossCheckRow]:
    """One row per model of ``book``: equal, different (with the differences), or why not."""
    rows = []
    for model in book.models():
        version = _latest_usd(book, model, at)
        if version is None:
            rows.append(CrossCheckRow(model, None, "no-usd-price"))
            continue
        key = version.litellm or model
        entry = litellm.get(key)
        theirs = (version_from_entry(key, entry, "litellm", at, at.date(), "litellm")
                  if isinstance(entry, Mapping) else None)
        if theirs is None:
            rows.append(CrossCheckRow(model, key, "not-listed", version.version_id))
            continue
        diffs = tuple(_differences(version, theirs))
        rows.append(CrossCheckRow(model, key, "different" if diffs else "equal",
                                  version.version_id, diffs))
    return rows


def summarize(rows: list[CrossCheckRow]) -> dict[str, int]:
    counts: dict[str, int] = {"equal": 0, "different": 0, "not-listed": 0, "no-usd-price": 0}
    for row in rows:
        counts[row.status] += 1
    return counts
