"""Outputs: JSON with decimal strings that reads back exactly; self-contained HTML."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from invoice_helpers import AFTER_GRACE, record

from ciyuan.invoice import Invoicer, TaxRule, from_json, render_html, to_json
from ciyuan.store.memory_usage import MemoryUsageStore


def _document(usage: MemoryUsageStore, invoicer: Invoicer, tenant: str = "acme"):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    usage.add(record(1, tenant=tenant, input_tokens=1_234_567, output_tokens=89,
                     cost_nano=123))
    taxed = replace(invoicer, settings=replace(invoicer.settings,
                                               tax=TaxRule("增值税 VAT", Decimal("0.06"))))
    doc = taxed.issue(tenant, "2026-01", AFTER_GRACE)
    assert doc is not None
    return doc


def test_json_amounts_are_decimal_strings_and_read_back_exactly(
        usage: MemoryUsageStore, invoicer: Invoicer) -> None:
    doc = _document(usage, invoicer)
    data = to_json(doc)
    text = json.dumps(data)
    assert from_json(json.loads(text)) == doc
    assert data["totals"] == {"subtotal": "3.09", "subtotal_exact": "3.0873075",
                              "residual": "-0.0026925", "residual_nano": -2_692_500,
                              "tax": "0.19", "total": "3.28"}
    assert data["lines"][0]["unit_price"] == "0.0000025"
    assert data["rounding"]["rule"] == "half-up"

    def no_floats(value: object) -> None:
        assert not isinstance(value, float), value
        for child in (value.values() if isinstance(value, dict)
                      else value if isinstance(value, list) else ()):
            no_floats(child)

    no_floats(json.loads(text))


def test_html_is_self_contained_and_escaped(usage: MemoryUsageStore, invoicer: Invoicer) -> None:
    doc = _document(usage, invoicer, tenant="<script>alert(1)</script>")
    page = render_html([doc])
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "<script" not in page and "&lt;script&gt;" in page
    assert not re.search(r"(src|href)\s*=|@import|url\(", page)
    assert doc.number in page and "3.28" in page and "增值税 VAT" in page
    assert "openai" not in page  # what providers bill us stays off the tenant's page
    assert "DRAFT" in render_html([doc.__class__(**{**doc.__dict__, "status": "draft"})])
    assert "Nothing to bill" in render_html([])
