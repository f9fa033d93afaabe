"""Reconciliation results as values: one :class:`Item` per provider row, bucket or unmatched
record of ours, the :class:`Proposal` that would settle it, and the :class:`Report`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from ciyuan.core.money import MONEY_CONTEXT, exact_sum
from ciyuan.core.records import UsageRecord
from ciyuan.core.usage import Usage
from ciyuan.ledger import Transfer

__all__ = ["STATUSES", "Item", "Proposal", "Report", "Status"]

Status = Literal["matched", "missing", "extra", "mismatched"]
#: matched: both agree; missing: the provider billed it, we did not record it (completed);
#: extra: we recorded it, the provider did not bill it; mismatched: counts or cost differ.
STATUSES: tuple[Status, ...] = ("matched", "missing", "extra", "mismatched")
_COUNTS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens",
           "reasoning_tokens", "requests")


@dataclass(frozen=True)
class Item:
    """One comparison. ``key`` is the provider's request id (or bucket key, or our record
    id for ``extra``); costs are what the provider bills (``provider_cost``) and what our
    records say it bills (``our_cost``, the sum of ``upstream_cost_nano``)."""

    status: Status
    key: str
    model: str
    at: dt.datetime
    provider_usage: Usage | None = None
    our_usage: Usage | None = None
    records: tuple[str, ...] = ()
    provider_cost: Decimal | None = None
    our_cost: Decimal | None = None
    differences: tuple[str, ...] = ()
    pending: UsageRecord | None = None
    currency: str = "USD"
    note: str = ""
    request_id: str = ""

    @property
    def amount(self) -> Decimal | None:
        """Provider cost minus ours: what our payable to the provider is short by."""
        if self.status == "extra":
            return -self.our_cost if self.our_cost is not None else None
        if self.provider_cost is None:
            return None
        return MONEY_CONTEXT.subtract(self.provider_cost, self.our_cost or Decimal(0))

    def to_json(self) -> dict[str, Any]:
        def counts(usage: Usage | None) -> dict[str, int] | None:
            return None if usage is None else {k: getattr(usage, k) for k in _COUNTS}

        def money(value: Decimal | None) -> str | None:
            return None if value is None else format(value, "f")

        return {"status": self.status, "key": self.key, "model": self.model,
                "at": self.at.isoformat(), "records": list(self.records),
                "pending_record": self.pending.id if self.pending else None,
                "provider": counts(self.provider_usage), "ours": counts(self.our_usage),
                "provider_cost": money(self.provider_cost), "our_cost": money(self.our_cost),
                "amount": money(self.amount), "currency": self.currency,
                "differences": list(self.differences), "note": self.note}


@dataclass(frozen=True)
class Proposal:
    """What would settle one item: ledger transfers and/or a pending record completed."""

    key: str
    description: str
    transfers: tuple[Transfer, ...] = ()
    completion: UsageRecord | None = None

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "description": self.description,
                "transfers": [{"id": t.id, "debit": t.debit_account_id,
                               "credit": t.credit_account_id, "amount_nano": t.amount,
                               "code": t.code, "pending_id": t.pending_id,
                               "flags": int(t.flags)} for t in self.transfers],
                "complete_record": None if self.completion is None else {
                    "id": self.completion.id, "status": self.completion.status,
                    "upstream_request_id": self.completion.upstream_request_id,
                    "upstream_cost_nano": self.completion.upstream_cost_nano}}


@dataclass(frozen=True)
class Report:
    provider: str
    source: str
    start: dt.datetime
    end: dt.datetime
    items: tuple[Item, ...]
    proposals: tuple[Proposal, ...] = ()
    applied: bool = False
    #: transfer id → "applied" | "already applied" | "nothing to release" (after apply)
    outcomes: Mapping[str, str] = field(default_factory=dict)

    def count(self, status: Status) -> int:
        return sum(1 for item in self.items if item.status == status)

    def amount(self, status: Status) -> Decimal:
        return exact_sum(i.amount for i in self.items
                         if i.status == status and i.amount is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider, "source": self.source,
            "start": self.start.isoformat(), "end": self.end.isoformat(),
            "summary": {s: {"count": self.count(s), "amount": format(self.amount(s), "f")}
                        for s in STATUSES},
            "applied": self.applied, "outcomes": dict(self.outcomes),
            "items": [i.to_json() for i in self.items],
            "proposals": [p.to_json() for p in self.proposals],
        }
