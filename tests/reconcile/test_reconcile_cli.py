"""``ciyuan reconcile`` through the command line, on a SQLite database."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from reconcile_helpers import T0, record, sim_log

from ciyuan.cli.main import cli
from ciyuan.sim.export import export_text
from ciyuan.store import SqliteLedgerStore
from ciyuan.store.sqlite_usage import SqliteUsageStore


def _seed(db: Path) -> None:
    store = SqliteUsageStore(db)
    try:
        for n, cost in ((1, 3_500_000), (2, 3_000_000), (3, 3_500_000)):
            done = record(n, T0 + dt.timedelta(seconds=n), upstream_id=f"req_{n}",
                          cost_nano=cost)
            store.begin(replace(done, status="pending", completed_at=None, usage=None,
                                upstream_cost_nano=0))
            store.complete(done)
        store.begin(record(4, T0 + dt.timedelta(seconds=4), status="pending"))
    finally:
        store.close()


def _run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", "reconcile", *args])


def _json(db: Path, *args: str) -> Any:
    result = _run(db, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_reconcile_a_sim_provider_export_then_apply_twice(tmp_path: Path) -> None:
    db = tmp_path / "ciyuan.db"
    _seed(db)
    rows = [(f"req_{n}", T0 + dt.timedelta(seconds=n + 1), "gpt-4o", 1000, 0, 100)
            for n in (1, 2, 4)]
    export = tmp_path / "export.csv"
    export.write_text(export_text(sim_log(tmp_path / "usage.log", rows), "csv"), "utf-8")

    report = _json(db, "--provider", "openai", "--file", str(export))
    assert {s: v["count"] for s, v in report["summary"].items()} == {
        "matched": 1, "missing": 1, "extra": 1, "mismatched": 1}
    assert Decimal(report["summary"]["mismatched"]["amount"]) == Decimal("0.0005")
    assert not report["applied"] and len(report["proposals"]) == 3

    applied = _json(db, "--provider", "openai", "--file", str(export), "--apply")
    assert applied["applied"] and "reconciled" in applied["outcomes"].values()
    ledger = SqliteLedgerStore(db)
    try:
        entries = len(list(ledger.journal()))
    finally:
        ledger.close()
    again = _json(db, "--provider", "openai", "--file", str(export), "--apply")
    assert again["summary"]["missing"]["count"] == 0  # the pending record is reconciled now
    assert set(again["outcomes"].values()) == {"already applied"}
    ledger = SqliteLedgerStore(db)
    try:
        assert len(list(ledger.journal())) == entries
    finally:
        ledger.close()
    table = _run(db, "--provider", "openai", "--file", str(export))
    assert table.exit_code == 0 and "mismatched" in table.output


def test_a_bad_export_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("when,model\nyesterday,gpt-4o\n", "utf-8")
    result = _run(tmp_path / "ciyuan.db", "--provider", "openai", "--file", str(bad))
    assert result.exit_code == 2 and "reconcile-export-invalid" in result.output
