"""Compose documents: "cumulative minus already billed", tax, and manual credit notes.

Pure functions. :func:`compose` takes the period re-rated now and the documents already
issued for it, and returns the document that bills the difference, or ``None`` when nothing
changed. Each line's rounded amount is ``round(cumulative exact) − rounded amounts billed
before``, so however many supplementary documents a period gets, the rounded amounts add up
to the rounded cumulative total and never drift. A negative difference (usage reconciled
away, a corrected price) makes a credit note that refers to the period's latest invoice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from ciyuan.core.money import MONEY_CONTEXT, exact_sum
from ciyuan.invoice.amounts import check_minor_units, round_line
from ciyuan.invoice.document import Document, InvoiceLine, LineKey, ProviderCost, TaxLine
from ciyuan.invoice.errors import CreditNoteInvalidError, InvoiceConfigError
from ciyuan.invoice.rating import PeriodRating

__all__ = ["TaxRule", "compose", "credit_note", "document_id"]

_ZERO = Decimal(0)
_CREDIT_KEY = LineKey("", "credit", "credit", Decimal(-1), "credit")


@dataclass(frozen=True)
class TaxRule:
    """A proportional tax (VAT, sales tax) on the unrounded subtotal, e.g. rate 0.06."""

    name: str
    rate: Decimal

    def __post_init__(self) -> None:
        if not _ZERO <= self.rate < 1:
            raise InvoiceConfigError(
                f"tax rate {self.rate} must be a decimal in [0, 1), e.g. \"0.06\" for 6 %",
                field="tax_rate")

    def on(self, base: Decimal) -> Decimal:
        return MONEY_CONTEXT.multiply(base, self.rate)


def document_id(issuer: str, tenant: str, period_label: str, sequence: int) -> str:
    """The idempotency key of a tenant's ``sequence``-th document of a period."""
    return f"{issuer}:{tenant}:{period_label}:{sequence}"


class _Billed:
    """What earlier usage documents of the period billed, per line key."""

    def __init__(self, documents: Sequence[Document]) -> None:
        add = MONEY_CONTEXT.add
        self.lines: dict[LineKey, tuple[Decimal, Decimal, Decimal]] = {}
        self.tax, self.tax_exact, self.tax_base = _ZERO, _ZERO, _ZERO
        self.costs: dict[tuple[str, str], int] = {}
        for doc in (d for d in documents if d.origin == "usage"):
            for ln in doc.lines:
                q, e, r = self.lines.get(ln.key, (_ZERO, _ZERO, _ZERO))
                self.lines[ln.key] = (add(q, ln.quantity), add(e, ln.amount_exact),
                                      add(r, ln.amount))
            if doc.tax is not None:
                self.tax = add(self.tax, doc.tax.amount)
                self.tax_exact = add(self.tax_exact, doc.tax.amount_exact)
                self.tax_base = add(self.tax_base, doc.tax.base_exact)
            for c in doc.provider_costs:
                key = (c.provider, c.currency)
                self.costs[key] = self.costs.get(key, 0) + c.amount_nano


def _lines(rating: PeriodRating, billed: _Billed) -> list[InvoiceLine]:
    sub = MONEY_CONTEXT.subtract
    out = []
    for key in sorted(set(rating.lines) | set(billed.lines)):
        accrued = rating.lines.get(key)
        cum_q, cum_e = (accrued.quantity, accrued.amount) if accrued else (_ZERO, _ZERO)
        cum_r = round_line(cum_e, rating.currency)
        q, e, r = billed.lines.get(key, (_ZERO, _ZERO, _ZERO))
        line = InvoiceLine(key, sub(cum_q, q), sub(cum_e, e), sub(cum_r, r), cum_q, cum_e,
                           cum_r, key.describe())
        if line.quantity or line.amount_exact or line.amount:
            out.append(line)
    return out


def _tax(rule: TaxRule | None, rating: PeriodRating, billed: _Billed) -> TaxLine | None:
    if rule is None:
        return None
    sub = MONEY_CONTEXT.subtract
    base = rating.total
    cum_exact = rule.on(base)
    cum = round_line(cum_exact, rating.currency)
    return TaxLine(rule.name, rule.rate, sub(base, billed.tax_base),
                   sub(cum_exact, billed.tax_exact),
                   sub(cum, billed.tax), cum)


def _costs(rating: PeriodRating, billed: _Billed) -> tuple[ProviderCost, ...]:
    out = []
    for key in sorted(set(rating.provider_costs) | set(billed.costs)):
        cum, records = rating.provider_costs.get(key, (0, 0))
        delta = cum - billed.costs.get(key, 0)
        if delta:
            out.append(ProviderCost(key[0], key[1], delta, cum, records))
    return tuple(out)


def compose(rating: PeriodRating, prior: Sequence[Document], *, issuer: str,
            tax: TaxRule | None, now: dt.datetime) -> Document | None:
    """The document that bills what changed since ``prior`` (issued documents of the same
    tenant and period, in order), or ``None`` if nothing did."""
    billed = _Billed(prior)
    lines = _lines(rating, billed)
    tax_line = _tax(tax, rating, billed)
    costs = _costs(rating, billed)
    has_tax = tax_line is not None and (tax_line.amount or tax_line.amount_exact)
    if not lines and not has_tax and not costs:
        return None
    doc = Document(
        id=document_id(issuer, rating.tenant, rating.period.label, len(prior) + 1),
        kind="invoice", issuer=issuer, tenant=rating.tenant, period=rating.period,
        currency=rating.currency, lines=tuple(lines), tax=tax_line, provider_costs=costs,
        created_at=now, sequence_in_period=len(prior) + 1, final=rating.final,
        plan=rating.plan, records=rating.records)
    if doc.total < 0:
        invoices = [d.number for d in prior if d.kind == "invoice" and d.origin == "usage"]
        doc = replace(doc, kind="credit_note", refers_to=invoices[-1] if invoices else "",
                      reason="re-rating lowered the period's charges")
    return doc


def credit_note(invoice: Document, prior: Sequence[Document], *, amount: Decimal | None,
                reason: str, now: dt.datetime) -> Document:
    """A manual credit note against the issued ``invoice``.

    ``amount`` (tax excluded, at most the currency's minor unit) credits part of it as one
    line; ``None`` mirrors the whole invoice, lines and tax, if nothing was credited yet.
    ``prior`` holds every issued document of the invoice's tenant and period.
    """
    if invoice.kind != "invoice" or not invoice.is_issued:
        raise CreditNoteInvalidError(
            f"{invoice.number or invoice.id} is not an issued invoice; a credit note corrects "
            "an issued invoice", field="invoice")
    if not reason.strip():
        raise CreditNoteInvalidError("give the reason for the credit note", field="reason")
    credited = exact_sum(d.total for d in prior if d.refers_to == invoice.number
                         and d.origin == "manual")
    remaining = MONEY_CONTEXT.add(invoice.total, credited)
    if amount is None:
        if credited:
            raise CreditNoteInvalidError(
                f"{invoice.number} was already partly credited ({-credited}); credit the rest "
                f"({remaining}) with an amount", field="amount")
        lines = tuple(ln.negated() for ln in invoice.lines)
        tax = invoice.tax.negated() if invoice.tax is not None else None
    else:
        check_minor_units(amount, invoice.currency)
        if amount <= 0:
            raise CreditNoteInvalidError("a credit amount must be positive", field="amount")
        lines = (InvoiceLine(replace(_CREDIT_KEY, unit_price=-amount), Decimal(1), -amount,
                             -amount, _ZERO, _ZERO, _ZERO, f"credit: {reason.strip()}"),)
        tax = None
        if invoice.tax is not None:
            rule = TaxRule(invoice.tax.name, invoice.tax.rate)
            exact = rule.on(-amount)
            tax = TaxLine(rule.name, rule.rate, -amount, exact,
                          round_line(exact, invoice.currency))
    sequence = len(prior) + 1
    doc = Document(
        id=document_id(invoice.issuer, invoice.tenant, invoice.period.label, sequence),
        kind="credit_note", issuer=invoice.issuer, tenant=invoice.tenant, period=invoice.period,
        currency=invoice.currency, lines=lines, tax=tax, origin="manual", created_at=now,
        refers_to=invoice.number, reason=reason.strip(), sequence_in_period=sequence,
        final=invoice.final, plan=invoice.plan)
    if -doc.total > remaining:
        raise CreditNoteInvalidError(
            f"a credit of {-doc.total} {invoice.currency} exceeds what {invoice.number} still "
            f"holds ({remaining} {invoice.currency})", field="amount")
    return doc
