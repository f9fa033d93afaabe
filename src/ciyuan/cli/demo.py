"""``ciyuan demo``: all of ciyuan end to end, offline (``ciyuan.demo``), after a short look at
the measurement standard."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ciyuan.cli.context import App, handle_errors, pass_app
from ciyuan.cli.count import DEFAULT_MODELS
from ciyuan.cli.tokenizers import rate_table
from ciyuan.core.language import LANGUAGE_CLASSES
from ciyuan.measure.calibration import corpus_text, load_exchange_rates
from ciyuan.stats.format import format_value

__all__ = ["demo_command"]

_SAMPLE_CHARS = 2000


def _measurement(app: App, rates: bool) -> None:
    """One sample per language class counted for a model of every tokenizer family, then the
    exchange-rate table."""
    app.console.rule("[bold]1. The same content, counted by every model")
    for lang in LANGUAGE_CLASSES[:1]:
        sample = corpus_text(lang)[:_SAMPLE_CHARS]
        results = app.measurer.count_models(sample, list(DEFAULT_MODELS))
        table = Table(title=f"{lang}: first {len(sample):,} characters of the shipped corpus")
        for col in ("model", "tokenizer", "native tokens", "standard tokens", "method"):
            table.add_column(col)
        for r in results:
            table.add_row(r.model, r.tokenizer, f"{r.native_tokens:,}", f"{r.standard_tokens:,}",
                          r.method)
        app.console.print(table)
    app.console.print(
        "Native counts differ by tokenizer; standard tokens (o200k_base) are the same for "
        "every model, so volumes and prices become comparable."
    )
    if rates:
        app.console.print(rate_table(app, load_exchange_rates(),
                                     "Exchange rates (native ÷ standard) on the calibration "
                                     "corpus"))


@click.command("demo")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-out"),
              show_default=True, help="Directory for the demo's database, config and outputs "
                                      "(its earlier demo files are replaced).")
@click.option("--days", type=click.IntRange(1, 400), default=45, show_default=True,
              help="Simulated days of traffic, ending where this month starts.")
@click.option("--calls", type=click.IntRange(10, 100_000), default=1200, show_default=True,
              help="Calls sent through the gateway.")
@click.option("--seed", type=int, default=7, show_default=True,
              help="Seed of the traffic and of the sim-provider's answers.")
@click.option("--eval-items", type=click.IntRange(7, 320), default=320, show_default=True,
              help="Built-in suite items each model is evaluated on (spread over every task "
                   "class).")
@click.option("--measure-only", is_flag=True, help="Only the measurement showcase.")
@pass_app
@handle_errors
def demo_command(app: App, out: Path, days: int, calls: int, seed: int, eval_items: int,
                 measure_only: bool) -> None:
    """See all of ciyuan work, offline: measurement, then a compressed month of traffic
    through the real gateway, then the period closed and the statistical release published.

    Starts the sim-provider and the gateway as processes on loopback, creates tenants in
    several sectors with agents, keys, budgets, a two-part tariff and a token pack, drives the
    traffic with the openai SDK, issues invoices, reconciles the provider's export and
    publishes the release of the last whole month. Everything lands in --out.

    \b
    Examples:
      ciyuan demo
      ciyuan demo --days 5 --calls 100 --out /tmp/demo
    """
    from ciyuan.demo.run import DemoOptions, run_demo

    _measurement(app, rates=measure_only)
    if measure_only:
        return
    app.console.rule("[bold]2. A compressed month through the metering gateway")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=app.err, transient=True) as bar:
        task = bar.add_task("starting", total=calls)

        def progress(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, description=f"{what:<24.24}")

        result = run_demo(DemoOptions(out, days, calls, seed, eval_items), progress)
    outcomes = Table(title="Calls sent through the gateway")
    outcomes.add_column("outcome")
    outcomes.add_column("calls", justify="right")
    for outcome, count in result.outcomes.most_common():
        outcomes.add_row(outcome, f"{count:,}")
    app.console.print(outcomes)
    app.console.rule(f"[bold]3. The period closed: {result.month}")
    invoices = Table(title=f"Invoices issued for {result.month}")
    for col in ("number", "tenant", "total"):
        invoices.add_column(col, justify="right" if col == "total" else "left")
    for doc in result.invoices:
        invoices.add_row(str(doc["number"]), str(doc["tenant"]),
                         f"{doc['totals']['total']} {doc['currency']}")
    app.console.print(invoices)
    summary = result.reconcile.get("summary", {})
    app.console.print(f"Reconciliation against the sim-provider's export: {summary}")
    release = Table(title=f"Statistical release {result.month} "
                          f"(status {result.release['status']})")
    release.add_column("figure")
    release.add_column("value", justify="right")
    for name, cell in result.release["headline"].items():
        release.add_row(name.replace("_", " "), format_value(cell["value"]))
    app.console.print(release)
    if "price_performance" in result.release["tables"]:
        perf = result.release["tables"]["price_performance"]
        table = Table(title=f"Price-performance ({sum(result.evaluated.values()):,} evaluation "
                            "calls through the gateway)")
        for col in ("model", "quality", "95 % interval", "USD / M tokens", "quality per USD"):
            table.add_column(col, justify="left" if col == "model" else "right")
        for row in perf["rows"]:
            table.add_row(str(row[0]), format_value(row[1]), f"{row[2]}–{row[3]}",
                          format_value(row[4]), format_value(row[5]))
        app.console.print(table)
    value = result.release["tables"]["value_per_token"]
    table = Table(title="Value per token, from outcome reports ("
                        + ", ".join(f"{n} {k}" for k, n in sorted(result.reported.items()))
                        + " sent to POST /v1/outcomes)")
    for col in ("currency", "reports", "calls", "value", "per M native tokens",
                "per unit of spend", "coverage"):
        table.add_column(col, justify="left" if col == "currency" else "right")
    at = {c: value["columns"].index(c) for c in value["columns"]}
    for row in value["rows"]:
        table.add_row(str(row[0]), format_value(row[at["outcome_reports"]]),
                      format_value(row[at["calls"]]), format_value(row[at["value"]]),
                      format_value(row[at["value_per_million_native"]]),
                      format_value(row[at["value_per_unit_spend"]]),
                      format_value(row[at["coverage_native_tokens"]]))
    if not value["rows"]:
        table.add_row("n/a", "", "", "", "", "", "")
    app.console.print(table)
    for check, ok in result.checks.items():
        app.console.print(f"{'[green]✓' if ok else '[red]✗'}[/] {check}")
    for what, path in result.paths.items():
        app.console.print(f"{what}: {path}")
    if not all(result.checks.values()):
        raise click.ClickException("the totals of the release, usage and invoices disagree")
