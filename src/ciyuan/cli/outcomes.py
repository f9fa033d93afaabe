"""``ciyuan outcomes``: the outcome reports received (``POST /v1/outcomes``) and a summary."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import click
from rich.table import Table

from ciyuan.cli.context import App, emit_json, handle_errors, pass_app
from ciyuan.cli.usage import month_range
from ciyuan.core.money import exact_sum, format_amount
from ciyuan.core.outcomes import OUTCOME_KINDS, Outcome, effective_outcomes
from ciyuan.store.outcomes import open_outcome_store

__all__ = ["OutcomeSummary", "outcomes_command", "summarize_outcomes"]


@dataclass(frozen=True)
class OutcomeSummary:
    """Counts and values of the reports in force (the latest per record or task)."""

    reports: int
    in_force: int
    by_outcome: dict[str, int]
    value_by_currency: dict[str, Decimal]

    def to_dict(self) -> dict[str, object]:
        return {"reports": self.reports, "in_force": self.in_force,
                "superseded": self.reports - self.in_force, "by_outcome": self.by_outcome,
                "value": {c: format_amount(v) for c, v in self.value_by_currency.items()}}


def summarize_outcomes(reports: Sequence[Outcome]) -> OutcomeSummary:
    """Summary of ``reports``: a later report about the same subject replaces an earlier one."""
    current = effective_outcomes(reports)
    kinds = Counter(o.outcome for o in current)
    values: dict[str, list[Decimal]] = {}
    for o in current:
        if o.value is not None:
            values.setdefault(o.currency, []).append(o.value)
    return OutcomeSummary(
        reports=len(reports), in_force=len(current),
        by_outcome={k: kinds.get(k, 0) for k in OUTCOME_KINDS},
        value_by_currency={c: exact_sum(v) for c, v in sorted(values.items())})


@click.command("outcomes")
@click.option("--tenant", "-t", metavar="T", help="Only this tenant.")
@click.option("--month", metavar="YYYY-MM",
              help="Reports received in this calendar month (UTC); default: this month.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@handle_errors
def outcomes_command(app: App, tenant: str | None, month: str | None, as_json: bool) -> None:
    """Outcome reports (accepted, rejected, partial) and a summary of those in force.

    A later report about the same request (or task) supersedes an earlier one: the summary
    counts each request or task once, by its latest report in the month, and totals the
    value those reports claim per currency.

    \b
    Examples:
      ciyuan outcomes --tenant acme --month 2026-11 --json
      ciyuan --db postgresql://postgres@127.0.0.1/test outcomes
    """
    month = month or dt.datetime.now(dt.UTC).strftime("%Y-%m")
    start, end = month_range(month)
    store = open_outcome_store(app.settings.db_url)
    try:
        reports = store.list(tenant, start=start, end=end)
    finally:
        store.close()
    summary = summarize_outcomes(reports)
    if as_json:
        emit_json({"month": month, "tenant": tenant, "summary": summary.to_dict(),
                   "outcomes": [o.to_dict() for o in reports]})
        return
    _print(app, month, tenant, reports, summary)


def _print(app: App, month: str, tenant: str | None, reports: Sequence[Outcome],
           summary: OutcomeSummary) -> None:
    table = Table(title=f"Outcome reports {month}" + (f", tenant {tenant}" if tenant else ""))
    for name in ("reported", "tenant", "request / task", "outcome", "value", "score"):
        table.add_column(name, justify="right" if name in ("value", "score") else "left")
    for o in reports:
        value = f"{format_amount(o.value)} {o.currency}" if o.value is not None else ""
        table.add_row(o.reported_at.strftime("%Y-%m-%d %H:%M:%S"), o.tenant,
                      o.record_id or f"task {o.task}", o.outcome, value,
                      "" if o.score is None else format_amount(o.score))
    app.console.print(table)
    counts = ", ".join(f"{k} {n:,}" for k, n in summary.by_outcome.items())
    app.console.print(f"{summary.reports:,} reports, {summary.in_force:,} in force: {counts}")
    for currency, total in summary.value_by_currency.items():
        app.console.print(f"value claimed ({currency}): {format_amount(total)}")
