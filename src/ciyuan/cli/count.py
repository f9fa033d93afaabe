"""``ciyuan count``: native and standard tokens of a file or stdin, for one or more models."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import BinaryIO

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from ciyuan.cli.context import App, emit_json, handle_errors, pass_app
from ciyuan.core.measurement import Measurement

__all__ = ["DEFAULT_MODELS", "READ_BLOCK_BYTES", "count_command"]

#: Models shown when none is named: one per major tokenizer family.
DEFAULT_MODELS = (
    "gpt-4o", "gpt-4", "qwen-plus", "qwen3.5-27b", "deepseek-chat", "deepseek-v4",
    "glm-4.6", "llama-3.3-70b-instruct", "claude-sonnet-4-5", "gemini-2.5-pro",
)
#: Read size for files and stdin; bounds memory together with the stream counter's bound.
READ_BLOCK_BYTES = 1024 * 1024
#: Show a progress bar for inputs of at least this size on a terminal.
PROGRESS_MIN_BYTES = 16 * 1024 * 1024


def _blocks(stream: BinaryIO) -> Iterator[bytes]:
    while block := stream.read(READ_BLOCK_BYTES):
        yield block


def _measure(app: App, stream: BinaryIO, size: int | None, models: list[str],
             errors: str) -> list[Measurement]:
    show = size is not None and size >= PROGRESS_MIN_BYTES and app.err.is_terminal
    if not show:
        return app.measurer.count_stream(_blocks(stream), models, errors=errors)
    columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=app.err, transient=True) as progress:
        task = progress.add_task("counting", total=size)
        return app.measurer.count_stream(
            _blocks(stream), models, errors=errors,
            progress=lambda n: progress.advance(task, n),
        )


@click.command("count")
@click.argument("source", required=False, default="-", metavar="[FILE|-]")
@click.option("--model", "-m", "models", multiple=True, metavar="M",
              help="Model to count for (repeatable). Default: one model per tokenizer family.")
@click.option("--text", "-t", metavar="TEXT", help="Count this text instead of a file.")
@click.option("--errors", type=click.Choice(["strict", "replace"]), default="strict",
              show_default=True, help="What to do with invalid UTF-8.")
@click.option("--threads", type=click.IntRange(1, 64), metavar="N",
              help="Threads for counting (default: CIYUAN_THREADS or 2).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per model.")
@pass_app
@handle_errors
def count_command(app: App, source: str, models: tuple[str, ...], text: str | None,
                  errors: str, threads: int | None, as_json: bool) -> None:
    """Count the native and standard tokens of FILE (or stdin) for each model.

    Native tokens are the model's own count (`counted`), or an estimate where the vendor
    publishes no tokenizer (`estimated`). Standard tokens are the comparable unit: the same
    text always gives the same standard count, whatever the model.

    \b
    Examples:
      ciyuan count README.md
      ciyuan count -m gpt-4o -m qwen-plus --json notes.txt
      echo "你好，世界" | ciyuan count -m deepseek-chat
    """
    if threads is not None:
        app.measurer.threads = threads
    chosen = list(models) or list(DEFAULT_MODELS)
    if text is not None:
        results = app.measurer.count_models(text, chosen)
    elif source == "-":
        results = _measure(app, sys.stdin.buffer, None, chosen, errors)
    else:
        try:
            handle = open(source, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise click.BadParameter(f"cannot open {source}: {exc.strerror}") from None
        with handle:
            results = _measure(app, handle, os.fstat(handle.fileno()).st_size, chosen, errors)
    if as_json:
        emit_json([r.to_dict() for r in results])
        return
    table = Table(title=f"{results[0].characters:,} characters, language class "
                        f"{results[0].language_class}")
    for col in ("model", "tokenizer", "native", "standard", "rate", "method"):
        table.add_column(col, justify="right" if col in ("native", "standard", "rate") else "left")
    for r in results:
        rate = f"{r.exchange_rate:.3f}" if r.exchange_rate is not None else "-"
        table.add_row(r.model, r.tokenizer, f"{r.native_tokens:,}", f"{r.standard_tokens:,}",
                      rate, r.method)
    app.console.print(table)
