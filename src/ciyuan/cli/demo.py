"""``ciyuan demo``: the measurement showcase (the full end-to-end demo comes with the
gateway and the release)."""

from __future__ import annotations

import click
from rich.table import Table

from ciyuan.cli.context import App, handle_errors, pass_app
from ciyuan.cli.count import DEFAULT_MODELS
from ciyuan.cli.tokenizers import rate_table
from ciyuan.core.language import LANGUAGE_CLASSES
from ciyuan.measure.calibration import corpus_text, load_exchange_rates

__all__ = ["demo_command"]

_SAMPLE_CHARS = 2000


@click.command("demo")
@pass_app
@handle_errors
def demo_command(app: App) -> None:
    """Show the measurement standard at work, offline: one sample per language class counted
    for a model of every tokenizer family, then the exchange-rate table."""
    app.console.rule("[bold]词元 ciyuan: the same content, counted by every model")
    for lang in LANGUAGE_CLASSES:
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
    app.console.print(rate_table(app, load_exchange_rates(),
                                 "Exchange rates (native ÷ standard) on the calibration corpus"))
