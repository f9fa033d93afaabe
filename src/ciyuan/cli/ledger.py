"""``ciyuan ledger``: check the journal and read balances, on the store ``--db`` names.

Both commands only read; a SQLite file that does not exist is an error, not a new ledger.
Amounts are shown in ledger units (integers) and, for money, in the currency (the unit's
fixed scale applied exactly; never a float).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import click

from ciyuan.cli.context import App, emit_json, handle_errors, pass_app
from ciyuan.ledger import Account, Balance, VerifyReport, unit_scale
from ciyuan.ledger.errors import LedgerAccountNotFoundError
from ciyuan.store.open import open_ledger_store
from ciyuan.store.protocol import LedgerStore

__all__ = ["ledger_group"]


@contextmanager
def _store(app: App) -> Iterator[LedgerStore]:
    store = open_ledger_store(app.settings.db_url, create=False)
    try:
        yield store
    finally:
        store.close()


@click.group("ledger")
def ledger_group() -> None:
    """The ledger: verify the journal, read balances."""


def _report_dict(report: VerifyReport) -> dict[str, Any]:
    return {"ok": report.ok, "entries": report.entries, "head_hash": report.head_hash,
            "first_bad_seq": report.first_bad_seq, "first_bad_id": report.first_bad_id,
            "reason": report.reason}


@ledger_group.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_app
@handle_errors
def verify_command(app: App, as_json: bool) -> None:
    """Recompute the journal's hash chain and replay it against the stored balances.

    Exit status 0 when every entry and balance matches; 1 when one does not, naming the
    first journal entry that does not match (and the account, for a balance).
    """
    with _store(app) as store:
        report = store.verify()
    if as_json:
        emit_json(_report_dict(report))
    elif report.ok:
        click.echo(f"ok: {report.entries} journal entries verified, head {report.head_hash}")
    else:
        entry = (f"journal entry {report.first_bad_seq} (transfer {report.first_bad_id!r})"
                 if report.first_bad_seq is not None else "the journal")
        click.echo(f"FAILED: {entry} does not match: {report.reason}. {report.entries} "
                   "entries before it verify; restore the database from a backup and "
                   "investigate.")
    if not report.ok:
        sys.exit(1)


def _in_unit(amount: int, unit: str) -> str:
    """``amount`` ledger units as an exact decimal of ``unit`` (e.g. '1.500000000 USD')."""
    return f"{Decimal(amount).scaleb(-unit_scale(unit)):f} {unit}"


def _balance_dict(account: Account, balance: Balance) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account": account.id, "kind": str(account.kind), "unit": account.unit,
        "scale": unit_scale(account.unit), "owner": account.owner,
        "debits_pending": balance.debits_pending, "debits_posted": balance.debits_posted,
        "credits_pending": balance.credits_pending, "credits_posted": balance.credits_posted,
        "net_posted": balance.net_posted, "credit_limit": account.credit_limit,
    }
    if account.debits_must_not_exceed_credits:
        data["available"] = (balance.credits_posted + account.credit_limit
                             - balance.debits_posted - balance.debits_pending)
    return data


@ledger_group.command("balance")
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--json", "as_json", is_flag=True, help="Print the balance as JSON (integers in "
              "ledger units; `scale` gives the decimal places).")
@pass_app
@handle_errors
def balance_command(app: App, account_id: str, as_json: bool) -> None:
    """Show the balances of ACCOUNT: posted and pending debits and credits.

    `available` (accounts that must not go negative) is what can still be reserved:
    credits posted + credit limit - debits posted - debits pending.
    """
    with _store(app) as store:
        account = store.accounts([account_id]).get(account_id)
        if account is None:
            raise LedgerAccountNotFoundError(
                f"no ledger account {account_id!r} in this database; check the id and --db",
                account_id=account_id)
        data = _balance_dict(account, store.balance(account_id))
    if as_json:
        emit_json(data)
        return
    unit = account.unit
    click.echo(f"{account.id}  ({account.kind}, {unit}, owner {account.owner or '-'})")
    for key in ("credits_posted", "debits_posted", "net_posted", "credits_pending",
                "debits_pending", "available"):
        if key in data:
            click.echo(f"  {key:<16} {_in_unit(data[key], unit):>28}  ({data[key]} units)")
