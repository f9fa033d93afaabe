"""ciyuan.invoice: invoices, credit notes and settlement statements per billing period.

Owns billing periods (calendar months in a stated time zone, with a grace period for late
usage), the invoice rounding rule (each line once, half-up to the currency's minor unit; tax
on the unrounded subtotal, rounded once), "cumulative minus already billed" composition,
gapless document numbers, credit notes, the ledger postings of issued documents, JSON and
self-contained HTML output, zero-sum settlement statements (consumer → platform →
reseller → providers) with the platform's margin per basis, and the signals (quality scores,
settled outcomes) that pay-for-quality and pay-for-outcome plans price on
(:mod:`ciyuan.invoice.signals`).

In: usage records (``ciyuan.store.usage.UsageStore``), the price engine (``ciyuan.price``),
issued documents (``ciyuan.store.invoice_protocol.InvoiceStore``). Out: immutable
:class:`Document` values, ledger :class:`~ciyuan.ledger.Transfer` values, statements.
Everything except :mod:`ciyuan.invoice.service` is pure. See docs/concepts/invoices.md.
"""

from ciyuan.invoice.accounts import AccountPlan
from ciyuan.invoice.amounts import INVOICE_ROUNDING, from_nano, round_line, to_nano
from ciyuan.invoice.codec import from_json, to_json
from ciyuan.invoice.compose import TaxRule, compose, credit_note
from ciyuan.invoice.config import InvoiceSettings, invoice_settings
from ciyuan.invoice.document import Document, InvoiceLine, LineKey, ProviderCost, TaxLine
from ciyuan.invoice.html import render_html
from ciyuan.invoice.numbering import format_number
from ciyuan.invoice.period import DEFAULT_GRACE, BillingPeriod
from ciyuan.invoice.posting import document_transfers, post_document
from ciyuan.invoice.rating import PeriodRating, rate_records
from ciyuan.invoice.service import Invoicer
from ciyuan.invoice.settlement import (
    Margin,
    PartyAmount,
    SettlementEntry,
    SettlementStatement,
    SettlementTerms,
    settle,
)
from ciyuan.invoice.signals import OutcomeScores, QualitySource, call_signals

__all__ = [
    "DEFAULT_GRACE",
    "INVOICE_ROUNDING",
    "AccountPlan",
    "BillingPeriod",
    "Document",
    "InvoiceLine",
    "InvoiceSettings",
    "Invoicer",
    "LineKey",
    "Margin",
    "OutcomeScores",
    "PartyAmount",
    "PeriodRating",
    "ProviderCost",
    "QualitySource",
    "SettlementEntry",
    "SettlementStatement",
    "SettlementTerms",
    "TaxLine",
    "TaxRule",
    "call_signals",
    "compose",
    "credit_note",
    "document_transfers",
    "format_number",
    "from_json",
    "from_nano",
    "invoice_settings",
    "post_document",
    "rate_records",
    "render_html",
    "round_line",
    "settle",
    "to_json",
    "to_nano",
]
