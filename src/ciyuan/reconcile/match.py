"""Match a provider's rows against our usage records.

Per-request exports: a row matches the record whose ``upstream_request_id`` (or id) is the
row's request id (or its response id); failing that, the unmatched record of the same model
with the same token counts (input, cached input, output) that started nearest in time within
the window. Rows left over are ``missing``; if a *pending* (write-ahead) record of the same
model started within the window, the provider served it and it is named for completion.
Records of ours in the export's time range that no row claimed are ``extra``; so is a
*pending* record no row claimed that started at least one window before the export's end:
the provider never served it (a crash before the upstream call), and it is named to be closed
as failed, its reservation released.

Bucket exports (OpenAI's Usage API): our records are summed per bucket (and per model when
the buckets are grouped by model) and compared with the bucket's totals.

Model names compare case-insensitively, without a dated snapshot suffix (``gpt-4o-2024-08-06``
is ``gpt-4o``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce

from ciyuan.core.records import UsageRecord
from ciyuan.core.usage import Usage
from ciyuan.invoice.amounts import from_nano, to_nano
from ciyuan.reconcile.exports import ProviderRow
from ciyuan.reconcile.report import Item, Status

__all__ = ["CostOf", "MatchOptions", "match_buckets", "match_requests", "model_key"]

CostOf = Callable[[ProviderRow], Decimal | None]
_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{4})$")


def model_key(name: str) -> str:
    return _DATED.sub("", name.strip().lower())


@dataclass(frozen=True)
class MatchOptions:
    #: How far a provider's timestamp may be from our record's start (the provider may stamp
    #: the end of a long streamed call; five minutes covers the longest generations).
    window: dt.timedelta = dt.timedelta(minutes=5)
    #: Cost differences up to this many nano-units count as equal.
    tolerance_nano: int = 0
    currency: str = "USD"


def _cost_nano(records: Iterable[UsageRecord]) -> int:
    return sum(r.upstream_cost_nano for r in records)


def _differences(row: ProviderRow, ours: Usage, provider_cost: Decimal | None, our_nano: int,
                 options: MatchOptions) -> tuple[str, ...]:
    out = [f"{name}: provider {getattr(row.usage, name)} ≠ ours {getattr(ours, name)}"
           for name in sorted(row.fields) if getattr(row.usage, name) != getattr(ours, name)]
    if provider_cost is not None and abs(to_nano(provider_cost) - our_nano) \
            > options.tolerance_nano:
        out.append(f"cost: provider {provider_cost} ≠ ours {from_nano(our_nano)}")
    return tuple(out)


def _compare(key: str, row: ProviderRow, records: Sequence[UsageRecord], cost: Decimal | None,
             options: MatchOptions) -> Item:
    usages = [r.usage for r in records if r.usage is not None]
    if not usages:
        return Item("missing", key, row.model, row.at, row.usage, provider_cost=cost,
                    currency=options.currency, request_id=row.request_id)
    ours = reduce(lambda a, b: a + b, usages)
    nano = _cost_nano(records)
    diffs = _differences(row, ours, cost, nano, options)
    status: Status = "mismatched" if diffs else "matched"
    return Item(status, key, row.model, row.at, row.usage, ours, tuple(r.id for r in records),
                cost, from_nano(nano), diffs, currency=options.currency,
                request_id=row.request_id)


def _near(row: ProviderRow, candidates: Iterable[UsageRecord], options: MatchOptions,
          ) -> UsageRecord | None:
    low, high = row.at - options.window, (row.end or row.at) + options.window
    fitting = [r for r in candidates if low <= r.started_at <= high]
    return min(fitting, key=lambda r: (abs(r.started_at - row.at), r.id), default=None)


def _shape(model: str, usage: Usage) -> tuple[str, int, int, int]:
    return model_key(model), usage.input_tokens, usage.cached_input_tokens, usage.output_tokens


def _ids(row: ProviderRow) -> set[str]:
    """The ids a row names: its request id and the others it carries (our record id)."""
    return {i for i in (row.request_id, *row.alt_ids) if i}


def match_requests(rows: Sequence[ProviderRow], records: Sequence[UsageRecord],
                   pending: Sequence[UsageRecord], cost_of: CostOf, options: MatchOptions,
                   start: dt.datetime, end: dt.datetime) -> list[Item]:
    """Items for a per-request export; records in ``[start, end]`` left over are extra."""
    by_id: dict[str, UsageRecord] = {}
    by_shape: dict[tuple[str, int, int, int], list[UsageRecord]] = {}
    for record in records:
        for key in (record.upstream_request_id, record.id):
            if key:
                by_id.setdefault(key, record)
        if record.usage is not None:
            by_shape.setdefault(_shape(record.model, record.usage), []).append(record)
    used: set[str] = set()
    items: list[Item] = []
    # a record a row names by id is that row's: the nearest-in-time fallback of an earlier
    # row that names nothing of ours (a call made around the gateway) never takes it
    named = {i for row in rows for i in _ids(row)}
    for row in sorted(rows, key=lambda r: (r.at, r.request_id)):
        ids = _ids(row)
        found = next((by_id[i] for i in sorted(ids) if i in by_id
                      and by_id[i].id not in used), None)
        if found is None:
            found = _near(row, (r for r in by_shape.get(_shape(row.model, row.usage), ())
                                if r.id not in used and r.id not in named
                                and (not r.upstream_request_id
                                     or r.upstream_request_id in ids)),
                          options)
        key = row.request_id or f"{row.at.isoformat()}/{row.model}"
        if found is not None:
            used.add(found.id)
            items.append(_compare(key, row, [found], cost_of(row), options))
            continue
        mine = [p for p in pending if p.id in ids and p.id not in used]
        served = mine[0] if mine else _near(
            row, (p for p in pending if p.id not in used and p.id not in named
                  and model_key(p.model) == model_key(row.model)), options)
        if served is not None:
            used.add(served.id)
        items.append(Item("missing", key, row.model, row.at, row.usage,
                          provider_cost=cost_of(row), pending=served, currency=options.currency,
                          note="a pending record of ours matches it" if served else "",
                          request_id=row.request_id))
    items += [_extra(r, options) for r in records
              if r.id not in used and start <= r.started_at <= end]
    items += [Item("extra", p.id, p.model, p.started_at, records=(p.id,), pending=p,
                   currency=options.currency,
                   note="a pending record the provider never served: close it as failed")
              for p in pending if p.id not in used
              and start - options.window <= p.started_at <= end - options.window]
    return items


def _extra(record: UsageRecord, options: MatchOptions, key: str = "") -> Item:
    return Item("extra", key or record.id, record.model, record.started_at,
                our_usage=record.usage, records=(record.id,),
                our_cost=from_nano(record.upstream_cost_nano), currency=options.currency)


def _bucket_of(instant: dt.datetime, low: dt.datetime, width: dt.timedelta) -> dt.datetime:
    return low + width * ((instant - low) // width) if width else low


def match_buckets(rows: Sequence[ProviderRow], records: Sequence[UsageRecord],
                  cost_of: CostOf, options: MatchOptions) -> list[Item]:
    """Items for an export of usage buckets (one per bucket result, plus extras).

    Buckets are taken to have the width of the first one and to be aligned to the earliest;
    our records in a bucket the provider left out (empty buckets are often omitted) are extra.
    """
    if not rows:
        return []
    low, high = min(r.at for r in rows), max(r.end or r.at for r in rows)
    width = (rows[0].end or rows[0].at) - rows[0].at
    by_start: dict[dt.datetime, list[int]] = {}
    for i, row in enumerate(rows):
        by_start.setdefault(row.at, []).append(i)
    assigned: dict[int, list[UsageRecord]] = {i: [] for i in range(len(rows))}
    groups: dict[tuple[dt.datetime, str], list[UsageRecord]] = {}
    for record in (r for r in records if low <= r.started_at < high):
        bucket = _bucket_of(record.started_at, low, width)
        index = next((i for i in by_start.get(bucket, ()) if not rows[i].model
                      or model_key(rows[i].model) == model_key(record.model)), None)
        if index is None:
            groups.setdefault((bucket, record.model), []).append(record)
        else:
            assigned[index].append(record)
    items = [_compare(f"{row.at.isoformat()}/{row.model or '*'}", row, assigned[i],
                      cost_of(row), options) for i, row in enumerate(rows)]
    for (bucket, model), members in sorted(groups.items()):
        usages = [m.usage for m in members if m.usage is not None]
        items.append(Item("extra", f"{bucket.isoformat()}/{model}", model, bucket,
                          our_usage=reduce(lambda a, b: a + b, usages) if usages else None,
                          records=tuple(m.id for m in members),
                          our_cost=from_nano(_cost_nano(members)), currency=options.currency))
    return items
