"""Rate one tenant's usage records of one billing period with the price engine.

The whole period is re-rated every time (never incrementally), in the order the calls
started, passing the plan's period state from call to call: cumulative charge models (tiers,
allowances, packs) see the same sequence however often the period is invoiced. Lines are
summed exactly per :class:`~ciyuan.invoice.document.LineKey` (model × category × component,
tier and unit price). Period-open charges (subscription fees) are always included;
period-close charges (minimum commitments) only once the period is final.

Each record may carry signals (``{record id: signals}``, from
:func:`ciyuan.invoice.signals.call_signals`) for pay-for-quality and pay-for-outcome models.
Charges and upstream costs are also summed per *basis* (``outcome`` for calls a
pay-for-outcome model priced, ``quality`` for calls a pay-for-quality one scaled, ``usage``
for the rest, ``period`` for period fees) and provider, so the settlement can show the
platform's margin on each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ciyuan.core.money import MONEY_CONTEXT, exact_sum
from ciyuan.core.records import UsageRecord
from ciyuan.invoice.document import LineKey
from ciyuan.invoice.period import BillingPeriod
from ciyuan.price import PeriodState, Plan, Pricer, close_period, open_period
from ciyuan.price.lines import ChargeLine

__all__ = ["BASES", "Accrued", "PeriodRating", "billable", "line_key", "rate_records"]

BILLABLE = ("completed", "reconciled")
#: Charge-model kind → the basis of the calls it priced (first match in this order wins).
BASES = {"pay_for_outcome": "outcome", "pay_for_quality": "quality"}
_NO_SIGNALS: Mapping[str, Mapping[str, Decimal]] = {}


@dataclass(frozen=True)
class Accrued:
    """Exact quantity and amount of one line key over the period."""

    quantity: Decimal
    amount: Decimal


@dataclass(frozen=True)
class PeriodRating:
    """Everything an invoice or a settlement statement needs from one tenant's period."""

    tenant: str
    period: BillingPeriod
    currency: str
    plan: str
    final: bool
    lines: Mapping[LineKey, Accrued]
    #: (provider, currency) → (upstream cost in nano-units, records)
    provider_costs: Mapping[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    #: provider → exact charge of its records ("" for period fees of no provider)
    charges_by_provider: Mapping[str, Decimal] = field(default_factory=dict)
    records: int = 0
    #: (basis, provider) → (exact charge, upstream cost in nano-units of ``currency``, records)
    by_basis: Mapping[tuple[str, str], tuple[Decimal, int, int]] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return exact_sum(a.amount for a in self.lines.values())


def line_key(model: str, line: ChargeLine) -> LineKey:
    return LineKey(model, line.category, line.unit, line.unit_price, line.component,
                   line.tier or "")


class _Sums:
    """Mutable accumulators while one period is rated."""

    def __init__(self) -> None:
        self.lines: dict[LineKey, tuple[Decimal, Decimal]] = {}
        self.costs: dict[tuple[str, str], tuple[int, int]] = {}
        self.by_provider: dict[str, Decimal] = {}
        self.bases: dict[tuple[str, str], tuple[Decimal, int, int]] = {}

    def basis(self, basis: str, provider: str, lines: Sequence[ChargeLine], cost_nano: int,
              records: int) -> None:
        if not lines and not records:
            return
        charge, cost, count = self.bases.get((basis, provider), (Decimal(0), 0, 0))
        self.bases[(basis, provider)] = (MONEY_CONTEXT.add(charge, exact_sum(
            ln.amount for ln in lines)), cost + cost_nano, count + records)

    def add(self, model: str, provider: str, lines: Iterable[ChargeLine]) -> None:
        add = MONEY_CONTEXT.add
        for ln in lines:
            key = line_key(model, ln)
            quantity, amount = self.lines.get(key, (Decimal(0), Decimal(0)))
            self.lines[key] = (add(quantity, ln.quantity), add(amount, ln.amount))
            self.by_provider[provider] = add(self.by_provider.get(provider, Decimal(0)),
                                             ln.amount)

    def cost(self, record: UsageRecord, currency: str) -> None:
        key = (record.provider, record.currency or currency)
        nano, count = self.costs.get(key, (0, 0))
        self.costs[key] = (nano + record.upstream_cost_nano, count + 1)


def _basis(lines: Iterable[ChargeLine], kinds: Mapping[str, str]) -> str:
    found = {kinds.get(ln.component, "") for ln in lines}
    return next((basis for kind, basis in BASES.items() if kind in found), "usage")


def billable(records: Iterable[UsageRecord], tenant: str,
             period: BillingPeriod) -> list[UsageRecord]:
    """``tenant``'s billable records of ``period``, in the order they are rated."""
    return sorted((r for r in records if r.tenant == tenant and r.status in BILLABLE
                   and period.contains(r.started_at)), key=lambda r: (r.started_at, r.id))


def rate_records(records: Iterable[UsageRecord], *, tenant: str, period: BillingPeriod,
                 pricer: Pricer, plan: Plan, currency: str, final: bool,
                 convert: bool = False, state: PeriodState | None = None,
                 signals: Mapping[str, Mapping[str, Decimal]] = _NO_SIGNALS) -> PeriodRating:
    """Rate ``tenant``'s billable records of ``period`` (others are ignored), each with its
    ``signals`` (record id → signals; none by default)."""
    chosen = billable(records, tenant, period)
    kinds = {c.name: c.kind for c in plan.components}
    sums = _Sums()
    state = state or PeriodState(start=period.start, end=period.end)
    opening, state = open_period(plan, state, currency)
    sums.add("", "", opening)
    sums.basis("period", "", opening, 0, 0)
    for record in chosen:
        assert record.usage is not None, record.id  # completed records carry usage
        rating = pricer.rate(record.usage, model=record.model, at=record.started_at,
                             plan=plan, state=state, currency=currency, convert=convert,
                             service_tier=record.metadata.get("service_tier"),
                             signals=signals.get(record.id))
        state = rating.state
        sums.add(rating.model, record.provider, rating.lines)
        sums.cost(record, currency)
        same_currency = (record.currency or currency) == currency
        sums.basis(_basis(rating.lines, kinds), record.provider, rating.lines,
                   record.upstream_cost_nano if same_currency else 0, 1)
    if final:
        closing, state = close_period(plan, state, currency)
        sums.add("", "", closing)
        sums.basis("period", "", closing, 0, 0)
    return PeriodRating(
        tenant=tenant, period=period, currency=currency, plan=plan.name, final=final,
        lines={k: Accrued(q, a) for k, (q, a) in sorted(sums.lines.items())},
        provider_costs=dict(sorted(sums.costs.items())),
        charges_by_provider=dict(sorted(sums.by_provider.items())), records=len(chosen),
        by_basis=dict(sorted(sums.bases.items())))
