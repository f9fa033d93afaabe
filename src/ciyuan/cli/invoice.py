"""``ciyuan invoice``: draft or issue a month's invoices, as a table, JSON or an HTML file.

Also home of :func:`open_billing_stores`, which ``ciyuan reconcile`` shares: the usage,
invoice, ledger and outcome stores of ``--db`` (outcome reports feed pay-for-quality and
pay-for-outcome plans). (``ciyuan.store.open`` has a factory for the ledger
only so far; the usage store is opened here from the URL's scheme.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import click
from rich.table import Table

from ciyuan.cli.context import App, emit_json, handle_errors, pass_app
from ciyuan.cli.price import app_pricer
from ciyuan.core.money import format_amount
from ciyuan.invoice import (
    Document,
    Invoicer,
    SettlementStatement,
    invoice_settings,
    render_html,
    to_json,
)
from ciyuan.price.api import as_instant
from ciyuan.store.invoice_protocol import InvoiceStore, open_invoice_store
from ciyuan.store.open import open_ledger_store
from ciyuan.store.outcomes import OutcomeStore, open_outcome_store
from ciyuan.store.protocol import LedgerStore
from ciyuan.store.usage import UsageStore, open_usage_store

__all__ = ["BillingStores", "invoice_command", "open_billing_stores"]


@dataclass(frozen=True)
class BillingStores:
    usage: UsageStore
    invoices: InvoiceStore
    ledger: LedgerStore
    outcomes: OutcomeStore


@contextmanager
def open_billing_stores(app: App) -> Iterator[BillingStores]:
    """The stores of ``--db``, closed on the way out (also when opening one fails)."""
    url = app.settings.db_url
    with ExitStack() as stack:
        ledger = open_ledger_store(url)
        stack.callback(ledger.close)
        usage = open_usage_store(url)
        stack.callback(usage.close)
        invoices = open_invoice_store(url)
        stack.callback(invoices.close)
        outcomes = open_outcome_store(url)
        stack.callback(outcomes.close)
        yield BillingStores(usage, invoices, ledger, outcomes)


def _table(app: App, doc: Document) -> None:
    table = Table(title=doc.describe())
    for col in ("item", "quantity", "unit price", "exact", "amount"):
        table.add_column(col, justify="left" if col == "item" else "right")
    for ln in doc.lines:
        price = (f"{format_amount(ln.key.unit_price * 1_000_000)}/M" if ln.key.unit == "token"
                 else f"{format_amount(ln.key.unit_price)}/{ln.key.unit}")
        table.add_row(ln.description, f"{ln.quantity:,}", price, format_amount(ln.amount_exact),
                      format(ln.amount, "f"))
    table.add_row("subtotal", "", "", format_amount(doc.subtotal_exact), format(doc.subtotal, "f"),
                  end_section=True)
    if doc.tax is not None:
        table.add_row(f"{doc.tax.name} {format_amount(doc.tax.rate * 100)}%", "", "",
                      format_amount(doc.tax.amount_exact), format(doc.tax.amount, "f"))
    table.add_row(f"total {doc.currency}", "", "", "", format(doc.total, "f"))
    app.console.print(table)
    if doc.refers_to:
        app.console.print(f"corrects {doc.refers_to}: {doc.reason}", highlight=False)


@click.command("invoice")
@click.option("--month", required=True, metavar="YYYY-MM",
              help="Billing month, in the [invoice] time_zone (default UTC).")
@click.option("--tenant", metavar="T", help="One tenant (default: every tenant with usage).")
@click.option("--json", "as_json", is_flag=True, help="Print the documents as JSON.")
@click.option("--html", "html_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write the documents to one self-contained HTML file.")
@click.option("--issue", is_flag=True,
              help="Issue: number, store and post to the ledger (immutable). Default: draft.")
@click.option("--as-of", "as_of", metavar="ISO-TIME",
              help="Take this as the current time (grace period, drafts); default now.")
@click.option("--settlement", is_flag=True,
              help="Also show the month's settlement: who pays whom, and the platform's "
                   "margin per tenant and basis (usage, quality, outcome).")
@pass_app
@handle_errors
def invoice_command(app: App, /, month: str, tenant: str | None, as_json: bool,
                    html_file: str | None, issue: bool, as_of: str | None,
                    settlement: bool) -> None:
    """Invoice a month's usage: a draft by default, numbered and posted with --issue.

    Each run bills what the month has not billed yet (cumulative minus already billed), so
    usage that arrives late lands on a supplementary invoice. --issue waits for the end of
    the month plus the grace period ([invoice] grace_days, default 3).

    \b
    Examples:
      ciyuan invoice --month 2026-01
      ciyuan invoice --month 2026-01 --tenant acme --json
      ciyuan invoice --month 2026-01 --issue --html invoices-2026-01.html
      ciyuan invoice --month 2026-01 --issue --settlement --json
    """
    if as_json and html_file:
        raise click.UsageError("use either --json or --html FILE, not both")
    now = as_instant(as_of) if as_of else dt.datetime.now(dt.UTC)
    settings = invoice_settings(app.settings.section("invoice"))
    with open_billing_stores(app) as stores:
        invoicer = Invoicer(stores.usage, stores.invoices, app_pricer(app), settings,
                            stores.ledger, clock=lambda: now, outcomes=stores.outcomes)
        period = invoicer.period(month)
        documents, nothing = [], []
        for name in [tenant] if tenant else invoicer.tenants(month):
            doc = invoicer.issue(name, month, now) if issue else invoicer.draft(name, month, now)
            if doc is None:
                nothing.append(name)
            else:
                documents.append(doc)
        statement = invoicer.statement(month, now=now) if settlement else None
    if as_json:
        data = {"month": period.label, "time_zone": period.time_zone,
                "final": period.is_final(now, settings.grace), "issued": issue,
                "documents": [to_json(d) for d in documents], "nothing_to_bill": nothing}
        if statement is not None:
            data["settlement"] = statement.to_json()
        emit_json(data)
        return
    if html_file:
        Path(html_file).write_text(render_html(documents, f"ciyuan invoices {period.label}"),
                                   "utf-8")
        click.echo(f"wrote {len(documents)} document(s) to {html_file}")
    else:
        for doc in documents:
            _table(app, doc)
    for name in nothing:
        click.echo(f"{name}: nothing to bill for {period}", err=True)
    if statement is not None:
        _statement_tables(app, statement)


def _statement_tables(app: App, statement: SettlementStatement) -> None:
    parties = Table(title=f"settlement {statement.period.label} ({statement.currency})")
    for col in ("party", "amount", "basis"):
        parties.add_column(col, justify="right" if col == "amount" else "left")
    for p in statement.parties:
        parties.add_row(p.party, format(p.amount, "f"), p.basis)
    app.console.print(parties)
    margins = Table(title="platform margin: consumer charge − provider cost")
    for col in ("tenant", "basis", "charge", "provider cost", "margin"):
        margins.add_column(col, justify="left" if col in ("tenant", "basis") else "right")
    for m in statement.margins:
        margins.add_row(m.tenant, m.basis, format_amount(m.charge),
                        format_amount(m.provider_cost), format_amount(m.margin))
    app.console.print(margins)
