"""``ciyuan budgets``: set a budget on a level, and show how full each level is."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.table import Table

from ciyuan.billing import Billing, BudgetStatus, Level, Scope, from_nano, to_nano
from ciyuan.cli.context import App, emit_json, handle_errors, pass_app
from ciyuan.core.money import format_amount
from ciyuan.ledger import CURRENCY_SCALES
from ciyuan.price.api import as_instant
from ciyuan.store.open import open_ledger_store

__all__ = ["budgets_group"]

C = TypeVar("C", bound=Callable[..., Any])


@contextmanager
def _billing(app: App) -> Iterator[Billing]:
    store = open_ledger_store(app.settings.db_url)
    try:
        yield Billing(store)
    finally:
        store.close()


def _scope_options(command: C) -> C:
    """``--tenant`` (required), ``--team``, ``--agent``, ``--key``: the levels of a call."""
    for name, what in reversed((("tenant", "Tenant (required)."),
                                ("team", "Team within the tenant."),
                                ("agent", "Agent within the tenant."),
                                ("key", "API key id within the tenant."))):
        command = click.option(f"--{name}", metavar=name.upper(), required=name == "tenant",
                               default="", help=what)(command)
    return command


def _status_json(s: BudgetStatus) -> dict[str, object]:
    return {
        "level": str(s.level.kind), "name": s.level.name or s.level.tenant,
        "account": f"budget:{s.level.path}:{s.period.key}", "period": str(s.period.kind),
        "period_key": s.period.key, "tz": s.period.tz, "start": s.period.start.isoformat(),
        "end": s.period.end.isoformat(), "currency": s.currency,
        "limit": format_amount(from_nano(s.limit_nano)),
        "spent": format_amount(from_nano(s.spent_nano)),
        "reserved": format_amount(from_nano(s.reserved_nano)),
        "available": format_amount(from_nano(s.available_nano)),
        "used_percent": s.used_percent, "opened": s.opened,
    }


@click.group("budgets")
def budgets_group() -> None:
    """Budgets per tenant, team, agent or API key, per calendar day or month.

    A call must fit every level it belongs to (key ⊂ agent ⊂ team ⊂ tenant) that has a
    budget; each budget period is its own ledger account, e.g. budget:tenant:acme:2026-11.
    """


@budgets_group.command("set")
@_scope_options
@click.option("--period", type=click.Choice(["day", "month"]), required=True,
              help="Calendar period the amount is for.")
@click.option("--amount", required=True, metavar="DECIMAL",
              help="Amount per period, e.g. 100.00 (exact; no floats).")
@click.option("--currency", type=click.Choice(sorted(CURRENCY_SCALES)), default="USD",
              show_default=True, help="Currency of the budget (fixed once set).")
@click.option("--tz", default="UTC", show_default=True, metavar="ZONE",
              help="IANA time zone the periods follow, e.g. Asia/Shanghai (fixed once set).")
@click.option("--json", "as_json", is_flag=True, help="Print the budget's status as JSON.")
@pass_app
@handle_errors
def set_command(app: App, tenant: str, team: str, agent: str, key: str, period: str,
                amount: str, currency: str, tz: str, as_json: bool) -> None:
    """Set the budget of the innermost level given (key, else agent, else team, else the
    tenant) and fund its current period; changing an amount applies at once.

    \b
    Examples:
      ciyuan budgets set --tenant acme --period month --amount 100.00 --currency USD
      ciyuan budgets set --tenant acme --team research --period day --amount 5 --tz Asia/Shanghai
    """
    scope = Scope(tenant, team, agent, key)
    level: Level = scope.level()
    with _billing(app) as billing:
        budget = billing.set_budget(level, period, to_nano(amount, field="amount"), currency, tz)
        status = next(s for s in billing.status(scope) if s.level == level
                      and s.period.kind == budget.period)
    if as_json:
        emit_json(_status_json(status))
        return
    amount_text = format_amount(from_nano(budget.amount_nano))
    available = format_amount(from_nano(status.available_nano))
    click.echo(f"budget {level.path} per {period}: {amount_text} {currency} ({tz}); "
               f"{available} {currency} available in {status.period.key}")


@budgets_group.command("show")
@_scope_options
@click.option("--at", metavar="ISO-TIME", help="Show the periods at this time (default now).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per budget.")
@pass_app
@handle_errors
def show_command(app: App, tenant: str, team: str, agent: str, key: str, at: str | None,
                 as_json: bool) -> None:
    """Show how full each budget is that a call of these levels must fit.

    \b
    Examples:
      ciyuan budgets show --tenant acme
      ciyuan budgets show --tenant acme --team research --key k1 --json
    """
    scope = Scope(tenant, team, agent, key)
    with _billing(app) as billing:
        statuses = billing.status(scope, as_instant(at))
    if as_json:
        emit_json([_status_json(s) for s in statuses])
        return
    if not statuses:
        click.echo(f"no budgets on {', '.join(lv.path for lv in scope.levels())}; set one "
                   "with `ciyuan budgets set`")
        return
    table = Table(title=f"budgets of {' ⊃ '.join(lv.path for lv in scope.levels())}")
    for column in ("level", "period", "limit", "spent", "reserved", "available", "used"):
        table.add_column(column, justify="left" if column in ("level", "period") else "right")
    for s in statuses:
        table.add_row(
            s.level.path, f"{s.period.key} ({s.period.tz})", *(
                f"{format_amount(from_nano(v))} {s.currency}"
                for v in (s.limit_nano, s.spent_nano, s.reserved_nano, s.available_nano)),
            f"{s.used_percent}%")
    app.console.print(table)
