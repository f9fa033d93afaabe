"""The adjustments reconciliation proposes, as values (applied only when asked).

Every transfer id is derived from the provider and the provider's request id (or bucket key,
or our record id for ``extra``): ``reconcile:<provider>:<key>:<leg>``, so applying the same
report twice changes nothing (the ledger answers ``ok`` to a retried id with the same body).

* ``mismatched``: the cost difference, revenue → provider payable (or back when we recorded
  more than the provider bills);
* ``missing`` with no record of ours: the provider's cost, revenue → payable (the platform
  bears a call nobody was billed for);
* ``missing`` served for a *pending* write-ahead record: the record is completed with status
  ``reconciled`` and the provider's counts and cost (the next invoice bills it and posts its
  cost), and the holds of its budget reservation (one a budget level and wallet), if still
  held, are voided;
* ``extra``: our recorded cost is reversed, payable → revenue (the provider did not bill it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from ciyuan.core.records import UsageRecord
from ciyuan.core.usage import Usage
from ciyuan.invoice.accounts import AccountPlan
from ciyuan.invoice.amounts import to_nano
from ciyuan.ledger import Account, Transfer, TransferFlags
from ciyuan.ledger.model import ID_MAX_CHARS
from ciyuan.reconcile.report import Item, Proposal

__all__ = ["ChargeOf", "proposal_accounts", "propose", "transfer_id"]

#: What the consumer is charged for a reconciled record (nano-units), if it can be rated.
ChargeOf = Callable[[UsageRecord, Usage], int | None]


def transfer_id(provider: str, key: str, leg: str) -> str:
    """``reconcile:<provider>:<key>:<leg>``; a key too long for an id is hashed."""
    raw = f"reconcile:{provider}:{key}:{leg}"
    if len(raw) <= ID_MAX_CHARS:
        return raw
    digest = hashlib.sha256(f"{provider}\0{key}".encode()).hexdigest()[:40]
    return f"reconcile:{provider[:80]}:sha256-{digest}:{leg}"


def _cost(provider: str, item: Item, leg: str, diff_nano: int, plan: AccountPlan,
          ) -> Transfer | None:
    if diff_nano == 0:
        return None
    revenue = plan.revenue_account(item.currency).id
    payable = plan.payable_account(provider, item.currency).id
    debit, credit = (revenue, payable) if diff_nano > 0 else (payable, revenue)
    metadata = (("provider", provider), ("key", item.key[:ID_MAX_CHARS]),
                ("reconcile", item.status))
    return Transfer(transfer_id(provider, item.key, leg), debit, credit, abs(diff_nano),
                    "reconcile_cost", metadata=metadata)


def _completion(provider: str, item: Item, pending: UsageRecord, charge_of: ChargeOf,
                ) -> UsageRecord:
    assert item.provider_usage is not None
    return replace(
        pending, status="reconciled", completed_at=max(item.at, pending.started_at),
        usage=item.provider_usage, usage_method="reported",
        upstream_request_id=item.request_id or pending.upstream_request_id,
        currency=pending.currency or item.currency,
        upstream_cost_nano=to_nano(item.provider_cost) if item.provider_cost else 0,
        charge_nano=charge_of(pending, item.provider_usage) or 0,
        metadata={**pending.metadata, "reconciled_by": provider})


def _release(provider: str, item: Item, pending: UsageRecord,
             reservations: Mapping[str, Sequence[Transfer]]) -> tuple[Transfer, ...]:
    """Void the holds that keep budget for ``pending`` (one a budget level and wallet, each
    ``<reservation id>:<label>``, or one under the reservation id itself)."""
    voids = []
    for held in reservations.get(pending.reservation_id, ()):
        label = held.id[len(pending.reservation_id):].lstrip(":")
        leg = f"release-{label}" if label else "release"
        voids.append(Transfer(transfer_id(provider, item.key, leg), held.debit_account_id,
                              held.credit_account_id, held.amount, "reconcile_release",
                              TransferFlags.VOID_PENDING, pending_id=held.id,
                              metadata=(("provider", provider), ("record", pending.id))))
    return tuple(voids)


def _one(provider: str, item: Item, plan: AccountPlan,
         reservations: Mapping[str, Sequence[Transfer]], charge_of: ChargeOf
         ) -> Proposal | None:
    if item.status == "extra" and item.pending is not None:  # never served: nothing billed
        pending = item.pending
        closed = replace(pending, status="failed", completed_at=pending.started_at,
                         error=f"never served by {provider} (closed by reconciliation)",
                         metadata={**pending.metadata, "reconciled_by": provider})
        return Proposal(item.key, f"close pending record {pending.id} as failed",
                        _release(provider, item, pending, reservations), closed)
    cost = to_nano(item.provider_cost) if item.provider_cost is not None else None
    ours = to_nano(item.our_cost) if item.our_cost is not None else 0
    if item.status == "mismatched" and cost is not None and cost != ours:
        t = _cost(provider, item, "cost", cost - ours, plan)
        return Proposal(item.key, f"adjust the provider cost by {cost - ours} nano",
                        (t,) if t else ())
    if item.status == "extra" and ours:
        t = _cost(provider, item, "cost", -ours, plan)
        return Proposal(item.key, "reverse the cost the provider did not bill", (t,) if t else ())
    if item.status != "missing":
        return None
    if item.pending is not None:
        return Proposal(item.key, f"complete pending record {item.pending.id} as reconciled",
                        _release(provider, item, item.pending, reservations),
                        _completion(provider, item, item.pending, charge_of))
    if cost:
        t = _cost(provider, item, "cost", cost, plan)
        return Proposal(item.key, "book the provider's cost of a call we did not record",
                        (t,) if t else ())
    return None


def propose(items: Sequence[Item], *, provider: str, plan: AccountPlan | None = None,
            reservations: Mapping[str, Sequence[Transfer]] | None = None,
            charge_of: ChargeOf = lambda record, usage: None) -> list[Proposal]:
    """One proposal per item that needs one (matched items need none); ``reservations``:
    the pending holds of each reservation id."""
    plan = plan or AccountPlan()
    held = reservations or {}
    found = (_one(provider, item, plan, held, charge_of) for item in items)
    return [p for p in found if p is not None and (p.transfers or p.completion)]


def proposal_accounts(proposals: Sequence[Proposal], items: Sequence[Item], provider: str,
                      plan: AccountPlan | None = None) -> list[Account]:
    """The revenue and payable accounts the proposals' cost transfers name."""
    plan = plan or AccountPlan()
    named = {a for p in proposals for t in p.transfers if t.code == "reconcile_cost"
             for a in (t.debit_account_id, t.credit_account_id)}
    out: dict[str, Account] = {}
    for currency in sorted({item.currency for item in items}):
        for account in (plan.revenue_account(currency),
                        plan.payable_account(provider, currency)):
            if account.id in named:
                out[account.id] = account
    return list(out.values())
