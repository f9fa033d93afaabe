"""Documents as JSON: every amount a decimal string, every instant ISO 8601 (UTC).

``to_json`` is both the ``--json`` output and what the invoice stores persist; ``from_json``
reads it back exactly (``Decimal(str(x)) == x``), so a stored invoice is the document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, cast

from ciyuan.core.money import minor_unit_places
from ciyuan.invoice.amounts import from_nano, round_line, to_nano
from ciyuan.invoice.document import (
    Document,
    DocumentKind,
    DocumentOrigin,
    DocumentStatus,
    InvoiceLine,
    LineKey,
    ProviderCost,
    TaxLine,
)
from ciyuan.invoice.period import BillingPeriod

__all__ = ["SCHEMA", "from_json", "to_json"]

SCHEMA = "ciyuan.invoice/1"


def _s(value: Decimal) -> str:
    return format(value, "f")


def _when(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


def _line(ln: InvoiceLine) -> dict[str, Any]:
    k = ln.key
    return {
        "model": k.model, "category": k.category, "unit": k.unit,
        "unit_price": _s(k.unit_price), "component": k.component, "tier": k.tier,
        "description": ln.description, "quantity": _s(ln.quantity),
        "amount_exact": _s(ln.amount_exact), "amount": _s(ln.amount),
        "residual": _s(ln.residual),
        "cumulative": {"quantity": _s(ln.cumulative_quantity),
                       "amount_exact": _s(ln.cumulative_exact),
                       "amount": _s(ln.cumulative_amount)},
    }


def _tax(tax: TaxLine | None) -> dict[str, str] | None:
    if tax is None:
        return None
    return {"name": tax.name, "rate": _s(tax.rate), "base_exact": _s(tax.base_exact),
            "amount_exact": _s(tax.amount_exact), "amount": _s(tax.amount),
            "cumulative_amount": _s(tax.cumulative_amount)}


def to_json(doc: Document) -> dict[str, Any]:
    """The document as a JSON-ready dict (decimal strings)."""
    cur = doc.currency
    return {
        "schema": SCHEMA, "id": doc.id, "kind": doc.kind, "status": doc.status,
        "number": doc.number, "issuer": doc.issuer, "tenant": doc.tenant,
        "period": {"month": doc.period.label, "time_zone": doc.period.time_zone,
                   "start": _when(doc.period.start), "end": _when(doc.period.end)},
        "currency": cur, "origin": doc.origin, "refers_to": doc.refers_to,
        "reason": doc.reason, "sequence_in_period": doc.sequence_in_period,
        "final": doc.final, "plan": doc.plan, "records": doc.records,
        "created_at": _when(doc.created_at), "issued_at": _when(doc.issued_at),
        "rounding": {"rule": doc.rounding_rule, "places": minor_unit_places(cur),
                     "applies": "once per line, and once to the tax"},
        "lines": [_line(ln) for ln in doc.lines],
        "tax": _tax(doc.tax),
        "provider_costs": [{"provider": c.provider, "currency": c.currency,
                            "amount": _s(from_nano(c.amount_nano)),
                            "amount_nano": c.amount_nano, "cumulative_nano": c.cumulative_nano,
                            "records": c.records} for c in doc.provider_costs],
        "totals": {"subtotal": _s(round_line(doc.subtotal, cur)),
                   "subtotal_exact": _s(doc.subtotal_exact), "residual": _s(doc.residual),
                   "residual_nano": to_nano(doc.residual),
                   "tax": _s(round_line(doc.tax_amount, cur)),
                   "total": _s(round_line(doc.total, cur))},
    }


def _d(value: object) -> Decimal:
    return Decimal(str(value))


def _instant(value: object) -> dt.datetime | None:
    return dt.datetime.fromisoformat(str(value)) if value else None


def _line_from(raw: Mapping[str, Any]) -> InvoiceLine:
    key = LineKey(str(raw["model"]), str(raw["category"]), str(raw["unit"]),
                  _d(raw["unit_price"]), str(raw["component"]), str(raw["tier"]))
    cum = raw["cumulative"]
    return InvoiceLine(key, _d(raw["quantity"]), _d(raw["amount_exact"]), _d(raw["amount"]),
                       _d(cum["quantity"]), _d(cum["amount_exact"]), _d(cum["amount"]),
                       str(raw["description"]))


def from_json(raw: Mapping[str, Any]) -> Document:
    """A document from :func:`to_json`'s output."""
    assert raw.get("schema") == SCHEMA, raw.get("schema")
    period = raw["period"]
    tax = raw.get("tax")
    return Document(
        id=str(raw["id"]), kind=cast(DocumentKind, raw["kind"]), issuer=str(raw["issuer"]),
        tenant=str(raw["tenant"]),
        period=BillingPeriod.parse(str(period["month"]), str(period["time_zone"])),
        currency=str(raw["currency"]),
        lines=tuple(_line_from(ln) for ln in raw["lines"]),
        tax=None if tax is None else TaxLine(
            str(tax["name"]), _d(tax["rate"]), _d(tax["base_exact"]), _d(tax["amount_exact"]),
            _d(tax["amount"]), _d(tax["cumulative_amount"])),
        provider_costs=tuple(ProviderCost(str(c["provider"]), str(c["currency"]),
                                          int(c["amount_nano"]), int(c["cumulative_nano"]),
                                          int(c["records"])) for c in raw["provider_costs"]),
        origin=cast(DocumentOrigin, raw["origin"]), status=cast(DocumentStatus, raw["status"]),
        number=str(raw["number"]), issued_at=_instant(raw["issued_at"]),
        created_at=_instant(raw["created_at"]), refers_to=str(raw["refers_to"]),
        reason=str(raw["reason"]), sequence_in_period=int(raw["sequence_in_period"]),
        final=bool(raw["final"]), plan=str(raw["plan"]), records=int(raw["records"]),
        rounding_rule=str(raw["rounding"]["rule"]))
