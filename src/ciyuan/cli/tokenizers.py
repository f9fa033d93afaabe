"""``ciyuan tokenizers`` and ``ciyuan calibrate``."""

from __future__ import annotations

import dataclasses
import json

import click
from rich.table import Table

from ciyuan.cli.context import App, emit_json, handle_errors, pass_app
from ciyuan.core.language import LANGUAGE_CLASSES
from ciyuan.measure.calibration import (
    ExchangeRateTable,
    build_exchange_rates,
    load_exchange_rates,
    rates_file,
)

__all__ = ["calibrate_command", "rate_table", "tokenizers_command"]


@click.command("tokenizers")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_app
@handle_errors
def tokenizers_command(app: App, as_json: bool) -> None:
    """List the tokenizers: pinned vocabularies and estimate profiles."""
    infos = app.registry.info()
    if as_json:
        emit_json([dataclasses.asdict(i) for i in infos])
        return
    table = Table(title="Tokenizers (vocabularies are pinned by SHA-256; nothing is downloaded)")
    for col in ("name", "kind", "backend", "exact", "source", "sha256", "status"):
        table.add_column(col, overflow="fold")
    for i in infos:
        status = "ok" if i.available else f"[red]{i.problem or 'proxy missing'}[/red]"
        source = i.source if i.kind == "vocabulary" else i.backend
        table.add_row(i.name, i.kind, i.backend, "yes" if i.exact else "no (estimate)",
                      source, i.sha256[:16] + ("…" if i.sha256 else ""), status)
    app.console.print(table)


def rate_table(app: App, rates: ExchangeRateTable, title: str) -> Table:
    """Exchange rates (native ÷ standard) for each catalog model, as a rich table."""
    table = Table(title=title)
    table.add_column("model")
    table.add_column("tokenizer")
    table.add_column("method")
    for lang in LANGUAGE_CLASSES:
        table.add_column(lang, justify="right")
    for model in app.catalog:
        if model.tokenizer not in rates.native_tokens:
            continue
        method = "counted" if rates.exact[model.tokenizer] else "estimated"
        table.add_row(model.id, model.tokenizer, method,
                      *(str(rates.rate(model.tokenizer, lang)) for lang in LANGUAGE_CLASSES))
    return table


@click.command("calibrate")
@click.option("--write", is_flag=True,
              help="Write the table into the package (measure/data/exchange_rates.json).")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@click.option("--shipped", is_flag=True, help="Show the committed table instead of recounting.")
@pass_app
@handle_errors
def calibrate_command(app: App, write: bool, as_json: bool, shipped: bool) -> None:
    """Count the calibration corpus with every tokenizer: the exchange-rate table.

    The rate of a model for a language class is its native tokens ÷ standard tokens
    (o200k_base) over that class's corpus.
    """
    if shipped:
        rates = load_exchange_rates()
    else:
        with app.err.status("counting the calibration corpus with every tokenizer…"):
            rates = build_exchange_rates(app.registry)
    if write:
        path = rates_file()
        path.write_text(json.dumps(rates.to_json(), indent=2, ensure_ascii=False) + "\n",
                        "utf-8")
        app.err.print(f"wrote {path}")
    if as_json:
        emit_json(rates.to_json())
    else:
        app.console.print(rate_table(app, rates, "Exchange rates: native ÷ standard tokens"))
