"""Settlement statements: who pays whom for one period, consumer → platform → providers.

Zero-sum by construction. Each party's exact share is computed in ``Decimal`` and rounded
once (the invoice rule, to the currency's minor unit); the ``rounding`` party then takes
minus the sum of all the others, in nano-units, so the parties always add up to exactly 0:

* consumers pay what they were billed (their invoices' subtotals when given, else their
  exact charges rounded once): negative amounts;
* each provider receives its upstream cost (the records' ``upstream_cost_nano``) or, under a
  revenue share, ``share × the charges of its records``;
* each reseller receives ``fee × what the tenants it brought pay``;
* the platform receives the exact remainder: payments − provider shares − reseller fees
  (so it, not the rounding account, absorbs credit notes and unbilled usage);
* the rounding account absorbs what the separate roundings left over (a few minor units).

Sign convention: positive = receives, negative = pays.

Beside the parties, ``margins`` show the platform's margin by *basis* of the charges (entries
say theirs: ``outcome`` for pay-for-outcome calls, ``quality`` for pay-for-quality ones,
``usage``, ``period`` fees): per tenant and basis, the consumer's exact charge, what the
providers receive for those calls (upstream cost, or their revenue share) and the margin,
``charge − provider cost``, exactly. They add up to the platform's exact share before
invoice rounding, credit notes and reseller fees.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from ciyuan.core.money import MONEY_CONTEXT, exact_sum, format_amount
from ciyuan.invoice.amounts import from_nano, round_line, to_nano
from ciyuan.invoice.errors import SettlementTermsError
from ciyuan.invoice.period import BillingPeriod

__all__ = [
    "Margin",
    "PartyAmount",
    "SettlementEntry",
    "SettlementStatement",
    "SettlementTerms",
    "settle",
]

Role = Literal["consumer", "provider", "reseller", "platform", "rounding"]


def _rate(value: Decimal, what: str) -> Decimal:
    if not Decimal(0) <= value <= Decimal(1):
        raise SettlementTermsError(f"{what} {value} must be a decimal between 0 and 1, e.g. "
                                   "\"0.8\" for 80 %", field=what)
    return value


@dataclass(frozen=True)
class SettlementTerms:
    """``revenue_share``: provider → its share of the charges on its records (providers not
    named are paid their upstream cost); ``resellers``: tenant → (reseller, fee rate)."""

    revenue_share: Mapping[str, Decimal] = field(default_factory=dict)
    resellers: Mapping[str, tuple[str, Decimal]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for provider, share in self.revenue_share.items():
            _rate(share, f"revenue_share[{provider}]")
        for tenant, (_, fee) in self.resellers.items():
            _rate(fee, f"reseller fee of {tenant}")


@dataclass(frozen=True)
class SettlementEntry:
    """One tenant's use of one provider in the period: exact charge, upstream cost, and the
    basis of the charge (``""``: not broken down into margins)."""

    tenant: str
    provider: str
    charge: Decimal
    cost_nano: int = 0
    basis: str = ""


@dataclass(frozen=True)
class Margin:
    """The platform's margin on one tenant's charges of one basis (exact decimals)."""

    tenant: str
    basis: str
    charge: Decimal  # what the consumer is charged
    provider_cost: Decimal  # what the providers receive for the same calls

    @property
    def margin(self) -> Decimal:
        """``charge − provider_cost``, exactly."""
        return MONEY_CONTEXT.subtract(self.charge, self.provider_cost)

    def to_json(self) -> dict[str, str]:
        return {"tenant": self.tenant, "basis": self.basis,
                "charge": format_amount(self.charge),
                "provider_cost": format_amount(self.provider_cost),
                "margin": format_amount(self.margin)}


@dataclass(frozen=True)
class PartyAmount:
    party: str
    role: Role
    amount_nano: int
    exact: Decimal
    basis: str

    @property
    def amount(self) -> Decimal:
        return from_nano(self.amount_nano)


@dataclass(frozen=True)
class SettlementStatement:
    period: BillingPeriod
    currency: str
    parties: tuple[PartyAmount, ...]
    margins: tuple[Margin, ...] = ()

    @property
    def total_nano(self) -> int:
        """Always 0: the statement is zero-sum."""
        return sum(p.amount_nano for p in self.parties)

    def to_json(self) -> dict[str, Any]:
        return {"period": self.period.label, "time_zone": self.period.time_zone,
                "currency": self.currency, "total_nano": self.total_nano,
                "parties": [{"party": p.party, "role": p.role, "amount": format(p.amount, "f"),
                             "amount_nano": p.amount_nano, "exact": format(p.exact, "f"),
                             "basis": p.basis} for p in self.parties],
                "margins": [m.to_json() for m in self.margins]}


def _grouped(entries: Iterable[SettlementEntry]) -> tuple[dict[str, Decimal],
                                                           dict[str, Decimal], dict[str, int]]:
    add = MONEY_CONTEXT.add
    by_tenant: dict[str, Decimal] = {}
    by_provider: dict[str, Decimal] = {}
    cost: dict[str, int] = {}
    for e in entries:
        by_tenant[e.tenant] = add(by_tenant.get(e.tenant, Decimal(0)), e.charge)
        if e.provider:
            by_provider[e.provider] = add(by_provider.get(e.provider, Decimal(0)), e.charge)
            cost[e.provider] = cost.get(e.provider, 0) + e.cost_nano
    return by_tenant, by_provider, cost


def _margins(entries: Iterable[SettlementEntry], terms: SettlementTerms) -> tuple[Margin, ...]:
    add, mul = MONEY_CONTEXT.add, MONEY_CONTEXT.multiply
    sums: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
    for e in entries:
        if not e.basis:
            continue
        if not e.provider:
            paid = Decimal(0)
        elif e.provider in terms.revenue_share:
            paid = mul(terms.revenue_share[e.provider], e.charge)
        else:
            paid = from_nano(e.cost_nano)
        charge, cost = sums.get((e.tenant, e.basis), (Decimal(0), Decimal(0)))
        sums[(e.tenant, e.basis)] = (add(charge, e.charge), add(cost, paid))
    return tuple(Margin(tenant, basis, charge, cost)
                 for (tenant, basis), (charge, cost) in sorted(sums.items()))


def settle(period: BillingPeriod, currency: str, entries: Iterable[SettlementEntry],
           terms: SettlementTerms | None = None,
           billed: Mapping[str, Decimal] | None = None) -> SettlementStatement:
    """The period's statement; ``billed`` (tenant → invoiced subtotal) overrides what a
    consumer pays."""
    terms = terms or SettlementTerms()
    mul = MONEY_CONTEXT.multiply
    entries = list(entries)

    def money(exact: Decimal) -> int:
        return to_nano(round_line(exact, currency))

    by_tenant, by_provider, cost = _grouped(entries)
    parties: list[PartyAmount] = []
    pays: dict[str, Decimal] = {}
    for tenant, charge in sorted(by_tenant.items()):
        invoiced = billed is not None and tenant in billed
        pays[tenant] = billed[tenant] if billed is not None and invoiced \
            else round_line(charge, currency)
        parties.append(PartyAmount(f"consumer:{tenant}", "consumer", -to_nano(pays[tenant]),
                                   -charge, "invoiced subtotal" if invoiced
                                   else "charges, rounded once"))
    shares = []
    for provider in sorted(by_provider):
        if provider in terms.revenue_share:
            share = terms.revenue_share[provider]
            exact = mul(share, by_provider[provider])
            basis = f"revenue share {share} of {by_provider[provider]}"
        else:
            exact, basis = from_nano(cost[provider]), "upstream cost of its records"
        shares.append(exact)
        parties.append(PartyAmount(f"provider:{provider}", "provider", money(exact), exact,
                                   basis))
    fees: dict[str, Decimal] = {}
    for tenant, (reseller, fee) in sorted(terms.resellers.items()):
        if tenant in by_tenant:
            fees[reseller] = MONEY_CONTEXT.add(fees.get(reseller, Decimal(0)),
                                               mul(fee, pays[tenant]))
    for reseller, exact in sorted(fees.items()):
        parties.append(PartyAmount(f"reseller:{reseller}", "reseller", money(exact), exact,
                                   "fee on what its tenants pay"))
    gross = exact_sum(pays.values())
    remainder = MONEY_CONTEXT.subtract(gross, exact_sum([*shares, *fees.values()]))
    parties.append(PartyAmount("platform", "platform", money(remainder), remainder,
                               "consumer payments − provider shares − reseller fees"))
    residual = -sum(p.amount_nano for p in parties)
    parties.append(PartyAmount("rounding", "rounding", residual, from_nano(residual),
                               "minus the sum of the rounded shares"))
    return SettlementStatement(period, currency, tuple(parties), _margins(entries, terms))
