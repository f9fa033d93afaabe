"""Rate one tenant's usage records of one billing period with the price engine.

The whole period is re-rated every time (never incrementally), in the order the calls
started, passing the plan's period state from call to call: cumulative charge models (tiers,
allowances, packs) see the same sequence however often the period is invoiced. Lines are
summed exactly per :class:`~ciyuan.invoice.document.LineKey` (model × category × component,
tier and unit price). Period-open charges (subscription fees) are always included;
period-close charges (minimum commitments) only once the period is final.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ciyuan.core.money import MONEY_CONTEXT, exact_sum
from ciyuan.core.records import UsageRecord
from ciyuan.invoice.document import LineKey
from ciyuan.invoice.period import BillingPeriod
from ciyuan.price import PeriodState, Plan, Pricer, close_period, open_period
from ciyuan.price.lines import ChargeLine

__all__ = ["Accrued", "PeriodRating", "line_key", "rate_records"]

BILLABLE = ("completed", "reconciled")


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


def rate_records(records: Iterable[UsageRecord], *, tenant: str, period: BillingPeriod,
                 pricer: Pricer, plan: Plan, currency: str, final: bool,
                 convert: bool = False, state: PeriodState | None = None) -> PeriodRating:
    """Rate ``tenant``'s billable records of ``period`` (others are ignored)."""
    chosen = sorted((r for r in records if r.tenant == tenant and r.status in BILLABLE
                     and period.contains(r.started_at)),
                    key=lambda r: (r.started_at, r.id))
    sums = _Sums()
    state = state or PeriodState(start=period.start, end=period.end)
    opening, state = open_period(plan, state, currency)
    sums.add("", "", opening)
    for record in chosen:
        assert record.usage is not None, record.id  # completed records carry usage
        rating = pricer.rate(record.usage, model=record.model, at=record.started_at,
                             plan=plan, state=state, currency=currency, convert=convert,
                             service_tier=record.metadata.get("service_tier"))
        state = rating.state
        sums.add(rating.model, record.provider, rating.lines)
        sums.cost(record, currency)
    if final:
        closing, state = close_period(plan, state, currency)
        sums.add("", "", closing)
    return PeriodRating(
        tenant=tenant, period=period, currency=currency, plan=plan.name, final=final,
        lines={k: Accrued(q, a) for k, (q, a) in sorted(sums.lines.items())},
        provider_costs=dict(sorted(sums.costs.items())),
        charges_by_provider=dict(sorted(sums.by_provider.items())), records=len(chosen))
