"""``ciyuan usage``: requests, tokens by category and cost from the usage records."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import click
from rich.table import Table

from ciyuan.cli.context import App, emit_json, handle_errors, pass_app
from ciyuan.core.errors import InputError
from ciyuan.core.records import UsageRecord
from ciyuan.stats.partitions import month_bounds
from ciyuan.store.usage import UsageStore, open_usage_store

__all__ = ["UsageSummary", "month_range", "summarize", "usage_command"]

NANO = Decimal(10) ** 9


def month_range(month: str) -> tuple[dt.datetime, dt.datetime]:
    """UTC start and end of ``YYYY-MM``."""
    try:
        return month_bounds(month)
    except ValueError:
        raise InputError(f"--month {month!r} must be YYYY-MM, e.g. 2026-11",
                         field="month") from None


@dataclass
class UsageSummary:
    requests: int = 0
    tokens: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    standard_tokens: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    cost_nano: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_model: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, record: UsageRecord) -> None:
        usage = record.usage
        assert usage is not None
        self.requests += 1
        for category, value in (("input", usage.input_tokens),
                                ("cached_input", usage.cached_input_tokens),
                                ("cache_write", usage.cache_write_tokens),
                                ("output", usage.output_tokens),
                                ("reasoning", usage.reasoning_tokens)):
            self.tokens[category] += value
        self.standard_tokens["input"] += record.standard_input_tokens
        self.standard_tokens["output"] += record.standard_output_tokens
        self.cost_nano[record.currency or "USD"] += record.charge_nano
        self.by_model[record.model] += 1

    def to_dict(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "tokens": {k: self.tokens.get(k, 0) for k in
                       ("input", "cached_input", "cache_write", "output", "reasoning")},
            "standard_tokens": dict(self.standard_tokens),
            "cost": {c: str(Decimal(n) / NANO) for c, n in sorted(self.cost_nano.items())},
            "requests_by_model": dict(sorted(self.by_model.items())),
        }


def summarize(store: UsageStore, start: dt.datetime, end: dt.datetime,
              tenant: str | None) -> UsageSummary:
    summary = UsageSummary()
    for record in store.query(start, end, tenant=tenant):
        summary.add(record)
    return summary


@click.command("usage")
@click.option("--tenant", "-t", metavar="T", help="Only this tenant.")
@click.option("--month", metavar="YYYY-MM", help="Calendar month (UTC); default: this month.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@handle_errors
def usage_command(app: App, tenant: str | None, month: str | None, as_json: bool) -> None:
    """Requests, native tokens by category, standard tokens and cost of completed calls.

    \b
    Examples:
      ciyuan usage --tenant acme --json
      ciyuan --db postgresql://postgres@127.0.0.1/test usage --month 2026-11
    """
    month = month or dt.datetime.now(dt.UTC).strftime("%Y-%m")
    start, end = month_range(month)
    store = open_usage_store(app.settings.db_url)
    try:
        summary = summarize(store, start, end, tenant)
    finally:
        store.close()
    data = {"month": month, "tenant": tenant, **summary.to_dict()}
    if as_json:
        emit_json(data)
        return
    table = Table(title=f"Usage {month}" + (f", tenant {tenant}" if tenant else ""))
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("requests", f"{summary.requests:,}")
    for category, value in data["tokens"].items():  # type: ignore[attr-defined]
        table.add_row(f"{category} tokens", f"{value:,}")
    for direction, value in summary.standard_tokens.items():
        table.add_row(f"standard {direction} tokens", f"{value:,}")
    for currency, amount in data["cost"].items():  # type: ignore[attr-defined]
        table.add_row(f"cost ({currency})", amount)
    app.console.print(table)
