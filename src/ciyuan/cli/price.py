"""``ciyuan price``: what one call costs, itemized, exact, and why."""

from __future__ import annotations

import click
from rich.table import Table

from ciyuan.cli.context import App, emit_json, handle_errors, pass_app
from ciyuan.core.money import CURRENCIES, format_amount
from ciyuan.core.usage import InvalidUsageError, Usage
from ciyuan.price.api import Pricer, pricer_from_config
from ciyuan.price.lines import Rating

__all__ = ["app_pricer", "price_command"]

#: flag → Usage field, in the order they are shown in --help
QUANTITY_FLAGS = {
    "input": "input_tokens",
    "cached_input": "cached_input_tokens",
    "cache_write": "cache_write_tokens",
    "cache_write_1h": "cache_write_1h_tokens",
    "output": "output_tokens",
    "reasoning": "reasoning_tokens",
    "input_audio": "input_audio_tokens",
    "input_image": "input_image_tokens",
    "images": "images",
    "audio_seconds": "audio_seconds",
    "requests": "requests",
}

def app_pricer(app: App) -> Pricer:
    """The pricer of this invocation: the shipped data with ciyuan.toml on top."""
    return pricer_from_config(app.settings.config, app.catalog)


def _quantity(flag: str, text: str | None, default: int) -> int:
    if text is None:
        return default
    field = QUANTITY_FLAGS[flag]
    cleaned = text.strip().replace("_", "").replace(",", "")
    if not cleaned.isdigit():
        raise InvalidUsageError(
            f"--{flag.replace('_', '-')} {text!r}: {field} must be a whole, non-negative "
            f"number of {'tokens' if field.endswith('tokens') else field}, e.g. "
            f"--{flag.replace('_', '-')} 1000", field=field, value=text)
    return int(cleaned)


def _quantity_options(func: click.decorators.FC) -> click.decorators.FC:
    helps = {
        "input": "All input tokens, cached and cache-written ones included.",
        "cached_input": "Of which read from the prompt cache.",
        "cache_write": "Of which written to the prompt cache (any TTL).",
        "cache_write_1h": "Of the cache writes, those with a 1-hour TTL (Anthropic).",
        "output": "All output tokens, reasoning included.",
        "reasoning": "Of which reasoning (thinking) tokens.",
        "input_audio": "Of the uncached input, audio tokens.",
        "input_image": "Of the uncached input, image tokens.",
        "images": "Images generated (per-image price).",
        "audio_seconds": "Seconds of audio (per-second price).",
        "requests": "Requests (per-request fee; default 1).",
    }
    for flag in reversed(QUANTITY_FLAGS):
        func = click.option(f"--{flag.replace('_', '-')}", flag, metavar="N",
                            help=helps[flag])(func)
    return func


def _table(app: App, rating: Rating, explain: bool) -> None:
    table = Table(title=f"{rating.model} · {rating.price_book_version} · plan {rating.plan}")
    for col in ("category", "quantity", "unit price", "amount"):
        table.add_column(col, justify="left" if col == "category" else "right")
    if explain:
        table.add_column("tier", overflow="fold")
    for ln in rating.lines:
        price = (f"{format_amount(ln.unit_price * 1_000_000)}/M" if ln.unit == "token"
                 else f"{format_amount(ln.unit_price)}/{ln.unit}")
        row = [ln.category, f"{ln.quantity:,}", price, format_amount(ln.amount)]
        if explain:
            row.append(ln.tier or "")
        table.add_row(*row)
    total = ["total", "", "", f"{format_amount(rating.total)} {rating.currency}"]
    table.add_row(*total, *([""] if explain else []), end_section=True)
    app.console.print(table)
    if explain:
        for number, ln in enumerate(rating.lines, 1):
            app.console.print(f"{number}. [{ln.component}] {ln.rule}", markup=False,
                              highlight=False)
    app.console.print(f"source: {rating.source}", highlight=False)


@click.command("price")
@click.option("--model", "-m", required=True, metavar="M", help="Model id or alias.")
@_quantity_options
@click.option("--at", "at", metavar="ISO-DATE",
              help="When the call happened (price in force then); default now. "
                   "Dates are UTC midnight.")
@click.option("--plan", metavar="PLAN", help="A plan from ciyuan.toml [plans]; default: list.")
@click.option("--tier", "service_tier", metavar="TIER",
              help="Service tier: batch, flex, priority (default: standard).")
@click.option("--currency", type=click.Choice(sorted(CURRENCIES)),
              help="Price in this currency (the vendor's listing in it, if any).")
@click.option("--convert", is_flag=True,
              help="Allow converting into --currency with the dated FX table.")
@click.option("--explain", is_flag=True, help="Show the tier and rule of every line.")
@click.option("--json", "as_json", is_flag=True, help="Print the rating as JSON.")
@pass_app
@handle_errors
def price_command(app: App, /, model: str, at: str | None, plan: str | None,
                  service_tier: str | None, currency: str | None, convert: bool,
                  explain: bool, as_json: bool, **quantities: str | None) -> None:
    """Rate one call of MODEL: itemized lines in exact decimals, no rounding.

    --input counts ALL input tokens (cached and cache-written included), --output ALL
    output tokens (reasoning included), as OpenAI reports them; see
    docs/concepts/usage.md for other vendors.

    \b
    Examples:
      ciyuan price -m gpt-4o --input 1000000 --output 1000000
      ciyuan price -m gpt-4o --input 1000000 --cached-input 400000 --output 0 --json
      ciyuan price -m claude-sonnet-4-5 --input 250000 --cache-write 10000 --output 2000 --explain
      ciyuan price -m deepseek-chat --input 100000 --output 2000 --at 2025-03-01T17:00:00Z
    """
    counts = {QUANTITY_FLAGS[flag]: _quantity(flag, text, 1 if flag == "requests" else 0)
              for flag, text in quantities.items()}
    usage = Usage(**counts)
    rating = app_pricer(app).rate(usage, model=model, at=at, plan=plan,
                                  service_tier=service_tier, currency=currency, convert=convert)
    if as_json:
        emit_json({**rating.to_dict(), "usage": usage.to_dict()})
        return
    _table(app, rating, explain)
