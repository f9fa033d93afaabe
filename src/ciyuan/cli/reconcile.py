"""``ciyuan reconcile``: compare a provider's usage export with our records; adjust on
``--apply``."""

from __future__ import annotations

import datetime as dt

import click
from rich.table import Table

from ciyuan.cli.context import App, emit_json, handle_errors, pass_app
from ciyuan.cli.invoice import open_billing_stores
from ciyuan.cli.price import app_pricer
from ciyuan.invoice import invoice_settings
from ciyuan.price.api import as_instant
from ciyuan.reconcile import STATUSES, MatchOptions, Reconciler, Report, load_export

__all__ = ["reconcile_command"]

#: Items listed in the table output (all of them are in --json).
_SHOWN = 50


def _print(app: App, report: Report) -> None:
    table = Table(title=f"{report.provider} · {report.source} · "
                        f"{report.start.isoformat()} .. {report.end.isoformat()}")
    for col in ("status", "count", "amount"):
        table.add_column(col, justify="left" if col == "status" else "right")
    for status in STATUSES:
        table.add_row(status, f"{report.count(status):,}", format(report.amount(status), "f"))
    app.console.print(table)
    unsettled = [i for i in report.items if i.status != "matched"]
    for item in unsettled[:_SHOWN]:
        detail = "; ".join(item.differences) or item.note
        amount = "?" if item.amount is None else format(item.amount, "f")
        click.echo(f"{item.status:10} {item.key}  {item.model}  {amount} {item.currency}"
                   + (f"  ({detail})" if detail else ""))
    if len(unsettled) > _SHOWN:
        click.echo(f"… and {len(unsettled) - _SHOWN} more (--json lists all)")
    transfers = sum(len(p.transfers) for p in report.proposals)
    records = sum(1 for p in report.proposals if p.completion is not None)
    if report.applied:
        for key, outcome in sorted(report.outcomes.items()):
            click.echo(f"{outcome:>16}  {key}")
    elif report.proposals:
        click.echo(f"proposed: {transfers} transfer(s), {records} pending record(s) to "
                   "complete; run again with --apply to post them")


@click.command("reconcile")
@click.option("--provider", "-p", required=True, metavar="P",
              help="The provider the export is from, as our records name it (openai, sim …).")
@click.option("--file", "-f", "path", required=True, metavar="F",
              type=click.Path(exists=True, dir_okay=False),
              help="The usage export: per-request CSV/JSON or OpenAI usage API pages.")
@click.option("--format", "fmt", type=click.Choice(["auto", "csv", "json"]), default="auto",
              show_default=True, help="Format of --file.")
@click.option("--window", "window_s", type=click.IntRange(0, 86_400), default=300,
              show_default=True, help="Seconds a provider timestamp may differ from ours.")
@click.option("--from", "start", metavar="ISO-TIME", help="Start of the range (default: "
              "the export's first row).")
@click.option("--to", "end", metavar="ISO-TIME", help="End of the range (default: the last).")
@click.option("--apply", "apply_", is_flag=True,
              help="Post the adjusting transfers, complete served pending records and close "
                   "never-served ones as failed.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_app
@handle_errors
def reconcile_command(app: App, /, provider: str, path: str, fmt: str, window_s: int,
                      start: str | None, end: str | None, apply_: bool, as_json: bool) -> None:
    """Reconcile a provider's usage export with our usage records.

    Each row is matched by the upstream request id, else by model, time window and token
    counts, and classed matched / missing (billed, not recorded) / extra (recorded, not
    billed) / mismatched (counts or cost differ), with amounts. Adjusting transfers are only
    proposed; --apply posts them (idempotently: ids come from the provider's request ids).

    \b
    Examples:
      ciyuan sim-provider export --log usage.log --format csv > export.csv
      ciyuan reconcile --provider sim --file export.csv
      ciyuan reconcile --provider openai --file usage-2026-01.json --apply --json
    """
    export = load_export(path, "csv" if fmt == "csv" else "json" if fmt == "json" else "auto")
    settings = invoice_settings(app.settings.section("invoice"))
    options = MatchOptions(window=dt.timedelta(seconds=window_s), currency=settings.currency)
    with open_billing_stores(app) as stores:
        reconciler = Reconciler(stores.usage, app_pricer(app), stores.ledger, settings.accounts,
                                options)
        report = reconciler.reconcile(provider, export, as_instant(start) if start else None,
                                      as_instant(end) if end else None)
        if apply_:
            report = reconciler.apply(report)
    if as_json:
        emit_json(report.to_json())
    else:
        _print(app, report)
