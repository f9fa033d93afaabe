"""``ciyuan budgets set`` and ``ciyuan budgets show`` against a SQLite ``--db``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner

from ciyuan.billing import Billing, Scope, to_nano
from ciyuan.cli.main import cli
from ciyuan.store import SqliteLedgerStore


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", "budgets", *args])
    return result.exit_code, result.stdout, result.stderr


def test_set_then_show_each_level(tmp_path: Path) -> None:
    db = tmp_path / "ciyuan.db"
    code, out, _ = run(db, "set", "--tenant", "acme", "--period", "month", "--amount",
                       "100.00", "--currency", "USD", "--tz", "Asia/Shanghai")
    assert code == 0 and "budget tenant:acme per month: 100 USD (Asia/Shanghai)" in out
    code, out, _ = run(db, "set", "--tenant", "acme", "--team", "research", "--period", "day",
                       "--amount", "5", "--json")
    assert code == 0 and json.loads(out)["account"].startswith("budget:team:acme:research:")
    now = dt.datetime.now(dt.UTC)
    store = SqliteLedgerStore(db)
    billing = Billing(store)
    scope = Scope("acme", team="research", key="k1")
    billing.settle(billing.reserve(scope, "r1", to_nano("2"), "USD", at=now), to_nano("1.25"))
    store.close()
    code, out, _ = run(db, "show", "--tenant", "acme", "--team", "research", "--key", "k1",
                       "--json")
    rows = {row["level"]: row for row in json.loads(out)}
    assert code == 0 and set(rows) == {"tenant", "team"}
    assert (rows["team"]["limit"], rows["team"]["spent"], rows["team"]["available"]) == (
        "5", "1.25", "3.75")
    assert rows["team"]["used_percent"] == "25.0" and rows["tenant"]["tz"] == "Asia/Shanghai"
    code, out, _ = run(db, "show", "--tenant", "acme")
    assert code == 0 and "tenant:acme" in out and "team:acme" not in out


def test_errors_say_what_to_do(tmp_path: Path) -> None:
    db = tmp_path / "ciyuan.db"
    code, _, err = run(db, "set", "--tenant", "acme", "--period", "day", "--amount", "1",
                       "--tz", "Mars/Base")
    assert code == 2 and "error [unknown-time-zone]" in err and "Asia/Shanghai" in err
    code, _, err = run(db, "set", "--tenant", "acme", "--period", "day", "--amount", "0.1x")
    assert code == 2 and "error [invalid-amount]" in err
    run(db, "set", "--tenant", "acme", "--period", "day", "--amount", "1", "--tz", "UTC")
    code, _, err = run(db, "set", "--tenant", "acme", "--period", "day", "--amount", "1",
                       "--tz", "Asia/Tokyo")
    assert code == 2 and "--tz UTC" in err
    code, out, _ = run(db, "show", "--tenant", "other")
    assert code == 0 and "no budgets" in out
