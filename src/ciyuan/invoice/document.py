"""Invoice and credit-note values: lines, tax, provider costs, the document (immutable).

A document bills the *change* since the earlier documents of the same tenant and period
("cumulative minus already billed"). So each line keeps both views:

* ``cumulative_*``: the whole period re-rated now (quantity, exact amount, rounded amount);
* ``quantity`` / ``amount_exact`` / ``amount``: what this document adds, where
  ``amount = round(cumulative_exact) − rounded amounts billed earlier`` (rounded once, never
  drifting however many supplementary documents follow), and ``amount_exact`` the exact
  change. ``residual = amount_exact − amount`` is what rounding moved; its sum is posted to
  the rounding account.

Negative documents are credit notes; they name the invoice they correct in ``refers_to``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal

from ciyuan.core.money import MONEY_CONTEXT, exact_sum
from ciyuan.invoice.amounts import INVOICE_ROUNDING, round_line
from ciyuan.invoice.period import BillingPeriod

__all__ = [
    "Document",
    "DocumentKind",
    "DocumentOrigin",
    "DocumentStatus",
    "InvoiceLine",
    "LineKey",
    "ProviderCost",
    "TaxLine",
]

DocumentKind = Literal["invoice", "credit_note"]
DocumentStatus = Literal["draft", "issued"]
#: ``usage``: billed from rated usage (counts as billed for the period);
#: ``manual``: a commercial credit note (does not change what usage has billed).
DocumentOrigin = Literal["usage", "manual"]
_ZERO = Decimal(0)


@dataclass(frozen=True, order=True)
class LineKey:
    """What one invoice line groups: model × category (× charge component, tier and price)."""

    model: str
    category: str
    unit: str
    unit_price: Decimal
    component: str = "list"
    tier: str = ""

    def describe(self) -> str:
        what = f"{self.model} · {self.category}" if self.model else self.category
        extra = [part for part in (self.tier,) if part]
        if self.component not in ("list", ""):
            extra.insert(0, self.component)
        return f"{what} ({', '.join(extra)})" if extra else what


@dataclass(frozen=True)
class InvoiceLine:
    key: LineKey
    quantity: Decimal
    amount_exact: Decimal
    amount: Decimal
    cumulative_quantity: Decimal
    cumulative_exact: Decimal
    cumulative_amount: Decimal
    description: str = ""

    @property
    def residual(self) -> Decimal:
        """Exact minus rounded: what rounding this line moved (posted to rounding)."""
        return MONEY_CONTEXT.subtract(self.amount_exact, self.amount)

    def negated(self) -> InvoiceLine:
        return replace(self, quantity=-self.quantity, amount_exact=-self.amount_exact,
                       amount=-self.amount)


@dataclass(frozen=True)
class TaxLine:
    """Tax on the unrounded subtotal, rounded once; cumulative like the lines."""

    name: str
    rate: Decimal
    base_exact: Decimal
    amount_exact: Decimal
    amount: Decimal
    cumulative_amount: Decimal = _ZERO

    def negated(self) -> TaxLine:
        return replace(self, base_exact=-self.base_exact, amount_exact=-self.amount_exact,
                       amount=-self.amount)


@dataclass(frozen=True)
class ProviderCost:
    """What the providers will bill us for the period's records (nano-units of ``currency``).

    ``amount_nano`` is this document's change, ``cumulative_nano`` the period's total.
    """

    provider: str
    currency: str
    amount_nano: int
    cumulative_nano: int
    records: int = 0


@dataclass(frozen=True)
class Document:
    """An invoice or a credit note (a draft until issued; immutable either way)."""

    id: str
    kind: DocumentKind
    issuer: str
    tenant: str
    period: BillingPeriod
    currency: str
    lines: tuple[InvoiceLine, ...]
    tax: TaxLine | None = None
    provider_costs: tuple[ProviderCost, ...] = ()
    origin: DocumentOrigin = "usage"
    status: DocumentStatus = "draft"
    number: str = ""
    issued_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    refers_to: str = ""
    reason: str = ""
    sequence_in_period: int = 1
    final: bool = False
    plan: str = "list"
    records: int = 0
    rounding_rule: str = INVOICE_ROUNDING

    @property
    def subtotal(self) -> Decimal:
        """Sum of the rounded lines (what is billed before tax)."""
        return exact_sum(line.amount for line in self.lines)

    @property
    def subtotal_exact(self) -> Decimal:
        return exact_sum(line.amount_exact for line in self.lines)

    @property
    def residual(self) -> Decimal:
        """Sum of the lines' residuals (exact minus rounded)."""
        return MONEY_CONTEXT.subtract(self.subtotal_exact, self.subtotal)

    @property
    def tax_amount(self) -> Decimal:
        return self.tax.amount if self.tax is not None else _ZERO

    @property
    def total(self) -> Decimal:
        """What the tenant owes for this document (negative for a credit note)."""
        return MONEY_CONTEXT.add(self.subtotal, self.tax_amount)

    @property
    def is_issued(self) -> bool:
        return self.status == "issued"

    def describe(self) -> str:
        name = "credit note" if self.kind == "credit_note" else "invoice"
        number = self.number or "draft"
        total = format(round_line(self.total, self.currency), "f")
        return f"{name} {number} · {self.tenant} · {self.period.label} · {total} {self.currency}"
