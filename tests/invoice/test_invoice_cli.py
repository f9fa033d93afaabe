"""``ciyuan invoice`` through the command line, on a SQLite database."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from invoice_helpers import JAN, record

from ciyuan.cli.main import cli
from ciyuan.store import SqliteLedgerStore
from ciyuan.store.sqlite_usage import SqliteUsageStore

LATER = "2026-02-10T00:00:00Z"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "ciyuan.db"
    store = SqliteUsageStore(path)
    try:
        for n in range(40):
            done = record(n, JAN + dt.timedelta(hours=n), input_tokens=250_000,
                          cost_nano=500_000_000)
            store.begin(replace(done, status="pending", completed_at=None, usage=None,
                                usage_method="", upstream_cost_nano=0))
            store.complete(done)
    finally:
        store.close()
    (tmp_path / "ciyuan.toml").write_text('[invoice]\ntax_name = "VAT"\ntax_rate = "0.06"\n')
    return path


def _run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", "--config",
                                    str(db.parent / "ciyuan.toml"), "invoice", *args])


def _json(db: Path, *args: str) -> Any:
    result = _run(db, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_draft_then_issue_then_nothing_left(db: Path) -> None:
    draft = _json(db, "--month", "2026-01", "--as-of", LATER)
    (doc,) = draft["documents"]
    assert (doc["status"], doc["number"], doc["totals"]["total"]) == ("draft", "", "26.50")
    issued = _json(db, "--month", "2026-01", "--tenant", "acme", "--issue", "--as-of", LATER)
    assert issued["documents"][0]["number"] == "CY-2026-000001"
    again = _json(db, "--month", "2026-01", "--issue", "--as-of", LATER)
    assert again["documents"] == [] and again["nothing_to_bill"] == ["acme"]
    ledger = SqliteLedgerStore(db)
    try:
        assert ledger.balance("receivable:acme:USD").debits_posted == 26_500_000_000
        assert ledger.balance("payable:openai:USD").credits_posted == 20_000_000_000
    finally:
        ledger.close()


def test_html_file_and_table(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "jan.html"
    result = _run(db, "--month", "2026-01", "--html", str(out), "--as-of", LATER)
    assert result.exit_code == 0, result.output
    assert "DRAFT" in out.read_text("utf-8") and "26.50" in out.read_text("utf-8")
    table = _run(db, "--month", "2026-01", "--as-of", LATER)
    assert table.exit_code == 0 and "26.50" in table.output and "gpt-4o" in table.output


def test_clear_errors(db: Path) -> None:
    early = _run(db, "--month", "2026-01", "--issue", "--as-of", "2026-02-02")
    assert early.exit_code == 2 and "invoice-period-open" in early.output
    assert "2026-02-04" in early.output
    bad = _run(db, "--month", "January")
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output
    both = _run(db, "--month", "2026-01", "--json", "--html", "x.html")
    assert both.exit_code == 2 and "either --json or --html" in both.output
