"""The invoice workflow over the stores: rate a period, draft, issue, credit, settle.

:class:`Invoicer` is the Python API behind ``ciyuan invoice``. It reads usage records
(``UsageStore.query``), re-rates the period with the price engine, composes the document that
bills what changed since the issued ones, and on ``issue`` numbers and stores it
(``InvoiceStore``) and posts its transfers to the ledger. Issuing is safe to repeat: a run
with nothing new to bill issues nothing, and the transfers of every issued document of the
period are posted again first (idempotently), which repairs a crash between storing a
document and posting it.

Under a plan with pay-for-quality or pay-for-outcome models, the period's outcome reports
(``outcomes``, an outcome store) become each call's signals (:mod:`ciyuan.invoice.signals`);
quality scores come from ``quality`` when given (e.g. live judge scores), else from the
reports' scores. A call whose dispute window is still open is billed by a later run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from ciyuan.core.money import exact_sum
from ciyuan.invoice.compose import compose, credit_note
from ciyuan.invoice.config import InvoiceSettings
from ciyuan.invoice.document import Document
from ciyuan.invoice.errors import InvoiceConfigError, InvoicePeriodOpenError
from ciyuan.invoice.period import BillingPeriod
from ciyuan.invoice.posting import post_document
from ciyuan.invoice.rating import PeriodRating, billable, rate_records
from ciyuan.invoice.settlement import (
    SettlementEntry,
    SettlementStatement,
    SettlementTerms,
    settle,
)
from ciyuan.invoice.signals import OutcomeReader, QualitySource, call_signals, needs_signals
from ciyuan.price import Plan, Pricer
from ciyuan.price.charges import PayForOutcome
from ciyuan.price.engine import get_plan

if TYPE_CHECKING:  # the store layer depends on this package, not the other way round
    from ciyuan.store.invoice_protocol import InvoiceStore
    from ciyuan.store.protocol import LedgerStore
    from ciyuan.store.usage import UsageStore

__all__ = ["Invoicer"]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Invoicer:
    """Invoices of one issuer over a usage store, an invoice store and (optionally) a ledger."""

    usage: UsageStore
    documents: InvoiceStore
    pricer: Pricer
    settings: InvoiceSettings = field(default_factory=InvoiceSettings)
    ledger: LedgerStore | None = None
    clock: Callable[[], dt.datetime] = _utc_now
    outcomes: OutcomeReader | None = None
    quality: QualitySource | None = None

    def period(self, month: str) -> BillingPeriod:
        """``"2026-01"`` as a billing period in the configured time zone."""
        return BillingPeriod.parse(month, self.settings.time_zone)

    def tenants(self, month: str) -> list[str]:
        """Tenants with billable usage or issued documents in the month."""
        period = self.period(month)
        found = {r.tenant for r in self.usage.query(period.start, period.end)}
        found |= {d.tenant for d in self.documents.listing(period.label)}
        return sorted(found)

    def rate(self, tenant: str, month: str, now: dt.datetime | None = None) -> PeriodRating:
        """The whole period re-rated now (final once its grace has passed)."""
        period = self.period(month)
        now = now or self.clock()
        plan = get_plan(self.pricer.plans, self.settings.plan_for(tenant))
        records = billable(self.usage.query(period.start, period.end, tenant), tenant, period)
        signals: Mapping[str, Mapping[str, Decimal]] = {}
        if needs_signals(plan):
            self._check_sources(plan)
            # reports come after their calls, so none about this period predates its start
            reports = (self.outcomes.list(tenant, start=period.start, end=None)
                       if self.outcomes is not None else [])
            signals = call_signals(records, reports, plan=plan, period_end=period.end,
                                   as_of=now, quality=self.quality,
                                   resolve=self.pricer.resolve)
        return rate_records(
            records, tenant=tenant, period=period, pricer=self.pricer, plan=plan,
            currency=plan.currency or self.settings.currency,
            final=period.is_final(now, self.settings.grace), convert=self.settings.convert,
            signals=signals)

    def _check_sources(self, plan: Plan) -> None:
        """Refuse to bill a plan that reads outcome reports without somewhere to read them:
        every call would silently bill as unscored or without an outcome."""
        outcome_priced = any(isinstance(c, PayForOutcome) for c in plan.components)
        if self.outcomes is None and (outcome_priced or self.quality is None):
            raise InvoiceConfigError(
                f"plan {plan.name!r} prices calls by their outcome reports or quality scores, "
                "but this invoicer has no outcome store; pass outcomes=open_outcome_store(url) "
                "(`ciyuan invoice` opens the one of --db)", field="outcomes", plan=plan.name)

    def issued(self, tenant: str, month: str) -> list[Document]:
        return self.documents.documents(self.settings.issuer, tenant, self.period(month).label)

    def draft(self, tenant: str, month: str, now: dt.datetime | None = None) -> Document | None:
        """What issuing now would bill (``None``: nothing new); nothing is stored."""
        now = now or self.clock()
        return compose(self.rate(tenant, month, now), self.issued(tenant, month),
                       issuer=self.settings.issuer, tax=self.settings.tax, now=now)

    def issue(self, tenant: str, month: str, now: dt.datetime | None = None) -> Document | None:
        """Issue (number, store, post) what the period has not billed yet; ``None`` if
        nothing. Refused before the period's end plus the grace period."""
        now = now or self.clock()
        period = self.period(month)
        if not period.is_final(now, self.settings.grace):
            final_at = period.final_at(self.settings.grace)
            raise InvoicePeriodOpenError(
                f"{period} can be invoiced from {final_at.isoformat()} (its end plus "
                f"{self.settings.grace.days} days of grace for late usage); run without "
                "--issue for a draft until then", month=period.label,
                final_at=final_at.isoformat())
        for earlier in self.issued(tenant, month):
            self._post(earlier)
        draft = self.draft(tenant, month, now)
        if draft is None:
            return None
        document = self.documents.issue(draft, now)
        self._post(document)
        return document

    def credit(self, number: str, *, reason: str, amount: Decimal | None = None,
               now: dt.datetime | None = None) -> Document:
        """Issue a credit note against invoice ``number`` (all of it, or ``amount`` before
        tax) and post it."""
        now = now or self.clock()
        invoice = self.documents.get(number)
        prior = self.documents.documents(invoice.issuer, invoice.tenant, invoice.period.label)
        document = self.documents.issue(
            credit_note(invoice, prior, amount=amount, reason=reason, now=now), now)
        self._post(document)
        return document

    def _post(self, document: Document) -> None:
        if self.ledger is not None:
            post_document(self.ledger, document, self.settings.accounts)

    def statement(self, month: str, terms: SettlementTerms | None = None,
                  now: dt.datetime | None = None) -> SettlementStatement:
        """The month's settlement between consumers, the platform, resellers and providers.

        Consumers pay what their issued documents billed (subtotals, credit notes included),
        or, before any is issued, their charges rounded once.
        """
        now = now or self.clock()
        entries, billed = [], {}
        currency = self.settings.currency
        for tenant in self.tenants(month):
            rating = self.rate(tenant, month, now)
            for (basis, provider), (charge, cost, _) in rating.by_basis.items():
                entries.append(SettlementEntry(tenant, provider, charge, cost, basis))
            documents = self.issued(tenant, month)
            if documents:
                billed[tenant] = exact_sum(d.subtotal for d in documents)
            currency = rating.currency
        return settle(self.period(month), currency, entries, terms, billed)
