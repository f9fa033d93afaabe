"""A readable, self-contained HTML page for documents: inline CSS, no scripts, no external
assets (it opens offline and prints as is). Every value is escaped. The page is for the
tenant: what providers bill us (``provider_costs``) stays in the JSON only."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from ciyuan.core.money import MONEY_CONTEXT, format_amount, minor_unit_places
from ciyuan.invoice.amounts import round_line
from ciyuan.invoice.document import Document, InvoiceLine

__all__ = ["render_html"]

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC",
sans-serif;color:#1d232a;max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.doc{border:1px solid #d5dae0;border-radius:8px;padding:1.5rem;margin:0 0 2rem;
page-break-after:always}.muted{color:#5b6570}.draft{color:#b45309;font-weight:600}
table{border-collapse:collapse;width:100%}th,td{padding:.35rem .5rem;
border-bottom:1px solid #e6e9ed;vertical-align:top}th{text-align:left;font-weight:600;
background:#f5f7f9}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;
white-space:nowrap}tr.total td{font-weight:700;border-top:2px solid #1d232a}
dl{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem;margin:.5rem 0}
dt{color:#5b6570}dd{margin:0}footer{font-size:12px;color:#5b6570;margin-top:1rem}
"""


def _money(amount: Decimal, currency: str) -> str:
    places = minor_unit_places(currency)
    return f"{round_line(amount, currency):,.{places}f}"


def _unit_price(ln: InvoiceLine) -> str:
    if ln.key.unit == "token":
        per_m = MONEY_CONTEXT.multiply(ln.key.unit_price, Decimal(1_000_000))
        return f"{format_amount(per_m)} / M tokens"
    if ln.key.category == "credit":
        return ""
    return f"{format_amount(ln.key.unit_price)} / {ln.key.unit}"


def _lines(doc: Document) -> str:
    rows = []
    for ln in doc.lines:
        rows.append(
            f"<tr><td>{escape(ln.description)}</td><td class=n>{ln.quantity:,}</td>"
            f"<td class=n>{escape(_unit_price(ln))}</td>"
            f"<td class=n>{escape(format_amount(ln.amount_exact))}</td>"
            f"<td class=n>{_money(ln.amount, doc.currency)}</td></tr>")
    cur = escape(doc.currency)
    foot = [f"<tr><td colspan=4>Subtotal</td><td class=n>{_money(doc.subtotal, doc.currency)}"
            "</td></tr>"]
    if doc.tax is not None:
        rate = format_amount(MONEY_CONTEXT.multiply(doc.tax.rate, Decimal(100)))
        foot.append(f"<tr><td colspan=3>{escape(doc.tax.name)} {rate}% of "
                    f"{escape(format_amount(doc.tax.base_exact))} (unrounded)</td>"
                    f"<td class=n>{escape(format_amount(doc.tax.amount_exact))}</td>"
                    f"<td class=n>{_money(doc.tax.amount, doc.currency)}</td></tr>")
    foot.append(f"<tr class=total><td colspan=4>Total {cur}</td>"
                f"<td class=n>{_money(doc.total, doc.currency)}</td></tr>")
    return ("<table><thead><tr><th>Item</th><th class=n>Quantity</th><th class=n>Unit price"
            "</th><th class=n>Exact</th><th class=n>Amount</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody><tfoot>" + "".join(foot) + "</tfoot></table>")


def _facts(doc: Document) -> str:
    facts = [("Tenant", doc.tenant),
             ("Billing period", f"{doc.period.label} ({doc.period.time_zone}), "
              f"{doc.period.start.isoformat()} to {doc.period.end.isoformat()}"),
             ("Plan", doc.plan),
             ("Issued", doc.issued_at.isoformat() if doc.issued_at else "not issued (draft)")]
    if doc.origin == "usage":
        facts.insert(3, ("Usage records", f"{doc.records:,}"))
    if doc.refers_to:
        facts.append(("Corrects invoice", doc.refers_to))
    if doc.reason:
        facts.append(("Reason", doc.reason))
    if doc.sequence_in_period > 1 and doc.origin == "usage":
        facts.append(("Supplementary", "bills usage that changed after earlier documents "
                      "of this period (cumulative minus already billed)"))
    return "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts) \
        + "</dl>"


def _document(doc: Document) -> str:
    title = "Credit note" if doc.kind == "credit_note" else "Invoice"
    number = (escape(doc.number) if doc.is_issued
              else "<span class=draft>DRAFT, not issued</span>")
    return (f"<section class=doc><h1>{title} {number}</h1>"
            f"<div class=muted>{escape(doc.issuer)}</div>{_facts(doc)}{_lines(doc)}"
            f"<footer>Each line is rounded once, {escape(doc.rounding_rule)} to "
            f"{minor_unit_places(doc.currency)} decimal places; tax is computed on the "
            f"unrounded subtotal and rounded once. Rounding residual: "
            f"{escape(format_amount(doc.residual))} {escape(doc.currency)}, posted to the "
            "rounding account.</footer></section>")


def render_html(documents: Sequence[Document], title: str = "ciyuan invoices") -> str:
    """One HTML page holding ``documents`` (drafts are marked as such)."""
    body = "".join(_document(d) for d in documents) or "<p>Nothing to bill.</p>"
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
            f"<body>{body}</body></html>\n")
