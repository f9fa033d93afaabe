"""Reconcile a provider's usage export with our records, and apply the adjustments.

:class:`Reconciler` is the Python API behind ``ciyuan reconcile``. ``reconcile`` only reads
(usage records, reservations in the ledger) and returns a :class:`Report` with proposals;
``apply`` posts the proposals' transfers and completes the pending records they name. Both
are safe to repeat: transfer ids come from the provider's request ids, a completed record is
not completed twice, and a re-run after ``apply`` finds the reconciled records matched.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from ciyuan.billing.lookup import hold_ids
from ciyuan.core.errors import CiyuanError
from ciyuan.core.records import UsageRecord
from ciyuan.core.usage import Usage
from ciyuan.invoice.accounts import AccountPlan
from ciyuan.invoice.amounts import to_nano
from ciyuan.invoice.posting import ensure_accounts
from ciyuan.ledger import Result, Transfer, TransferFlags
from ciyuan.price import Pricer
from ciyuan.reconcile.errors import ReconcileApplyError
from ciyuan.reconcile.exports import ProviderExport, ProviderRow
from ciyuan.reconcile.match import MatchOptions, match_buckets, match_requests
from ciyuan.reconcile.proposals import proposal_accounts, propose
from ciyuan.reconcile.report import Report

if TYPE_CHECKING:  # the store layer depends on the domain packages, not the other way round
    from ciyuan.store.protocol import LedgerStore
    from ciyuan.store.usage import UsageStore

__all__ = ["Reconciler"]

#: What applying a proposal's completion did to the record, by the status it gets.
_DONE = {"reconciled": "reconciled", "failed": "closed as failed"}

#: Transfers per ledger call: the stores' batch bound (TigerBeetle's 8,190).
_BATCH = 8190
#: Results that mean a reservation needs no release any more (posted, voided or expired).
_RELEASED = (Result.PENDING_ALREADY_POSTED, Result.PENDING_ALREADY_VOIDED,
             Result.PENDING_EXPIRED)


def _holds(ledger: LedgerStore, reservation_ids: list[str]) -> dict[str, tuple[Transfer, ...]]:
    """The holds of each reservation: the gateway places one a budget level and wallet,
    ``<reservation id>:<label>``; a hold under the bare reservation id counts too."""
    ids = {rid: [rid, *hold_ids(rid)] for rid in reservation_ids}
    found = ledger.transfers(i for group in ids.values() for i in group)
    return {rid: tuple(found[i] for i in group
                       if i in found and TransferFlags.PENDING in found[i].flags)
            for rid, group in ids.items()}


@dataclass
class Reconciler:
    """Reconciliation of one provider's exports against a usage store (and a ledger)."""

    usage: UsageStore
    pricer: Pricer
    ledger: LedgerStore | None = None
    accounts: AccountPlan = field(default_factory=AccountPlan)
    options: MatchOptions = field(default_factory=MatchOptions)

    def cost_of(self, row: ProviderRow) -> Decimal | None:
        """What the provider bills for a row: its own cost column, else its list price."""
        if row.cost is not None:
            return row.cost
        if not row.model:
            return None
        try:
            return self.pricer.rate(row.usage, model=row.model, at=row.at,
                                    currency=self.options.currency).total
        except CiyuanError:
            return None  # unknown model or no price: compare counts only

    def charge_of(self, record: UsageRecord, usage: Usage) -> int | None:
        """The list-price charge of a reconciled record, in nano-units (informational: the
        invoice re-rates it under the tenant's plan)."""
        try:
            return to_nano(self.pricer.rate(usage, model=record.model, at=record.started_at,
                                            currency=self.options.currency).total)
        except CiyuanError:
            return None

    def reconcile(self, provider: str, export: ProviderExport, start: dt.datetime | None = None,
                  end: dt.datetime | None = None) -> Report:
        """Compare ``export`` with our records of ``provider`` in its time range."""
        rows, window = export.rows, self.options.window
        now = dt.datetime.now(dt.UTC)
        low = start or min((r.at for r in rows), default=now)
        high = end or max((r.end or r.at for r in rows), default=now)
        ours = [r for r in self.usage.query(low - window, high + window)
                if r.provider.lower() == provider.lower()]
        if export.kind == "buckets":
            items = match_buckets(rows, ours, self.cost_of, self.options)
        else:
            pending = [p for p in self.usage.pending(high + window)
                       if p.provider.lower() == provider.lower() and p.started_at >= low - window]
            items = match_requests(rows, ours, pending, self.cost_of, self.options, low, high)
        held: dict[str, tuple[Transfer, ...]] = {}
        wanted = [i.pending.reservation_id for i in items
                  if i.pending is not None and i.pending.reservation_id]
        if wanted and self.ledger is not None:
            held = _holds(self.ledger, wanted)
        proposals = propose(items, provider=provider, plan=self.accounts, reservations=held,
                            charge_of=self.charge_of)
        return Report(provider, export.source, low, high, tuple(items), tuple(proposals))

    def apply(self, report: Report) -> Report:
        """Post the proposals' transfers and complete their records; the report, applied."""
        transfers = [t for p in report.proposals for t in p.transfers]
        outcomes: dict[str, str] = {}
        if transfers:
            if self.ledger is None:
                raise ReconcileApplyError("applying needs the ledger; open one with --db",
                                          field="ledger")
            outcomes.update(self._post(report, transfers))
        for proposal in report.proposals:
            if proposal.completion is not None:
                record = proposal.completion
                before = self.usage.get([record.id]).get(record.id)
                try:
                    self.usage.complete(record)
                    done = "already " + _DONE[record.status] if before and \
                        before.status == record.status else _DONE[record.status]
                except CiyuanError as error:  # completed by the gateway meanwhile
                    done = f"left as is: {error.message}"
                outcomes[f"record:{record.id}"] = done
        return replace(report, applied=True, outcomes=outcomes)

    def _post(self, report: Report, transfers: list[Transfer]) -> dict[str, str]:
        assert self.ledger is not None
        ensure_accounts(self.ledger, proposal_accounts(report.proposals, report.items,
                                                       report.provider, self.accounts))
        existing = self.ledger.transfers(t.id for t in transfers)
        outcomes: dict[str, str] = {}
        for start in range(0, len(transfers), _BATCH):
            batch = transfers[start:start + _BATCH]
            for t, result in zip(batch, self.ledger.submit(batch), strict=True):
                if result == Result.OK:
                    outcomes[t.id] = "already applied" if t.id in existing else "applied"
                elif t.pending_id and result in _RELEASED:
                    outcomes[t.id] = f"nothing to release ({result})"
                else:
                    raise ReconcileApplyError(
                        f"the ledger refused {t.id}: {result}; fix the account and apply "
                        "again (adjustments are idempotent)", transfer=t.id, result=str(result))
        return outcomes
