"""``ciyuan outcomes``: the month's reports and a summary of those in force, on both stores."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from ciyuan.cli.main import cli
from ciyuan.core.outcomes import Outcome
from ciyuan.store.outcomes import open_outcome_store
from pg_database import fresh_database_url

NOV = dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC)


def _o(id: str, tenant: str, record: str, kind: str, hours: int, value: str | None = None,
       currency: str = "", task: str = "") -> Outcome:
    return Outcome(id=id, tenant=tenant, record_id=record, task=task,
                   outcome=kind,  # type: ignore[arg-type]
                   reported_at=NOV + dt.timedelta(hours=hours),
                   value=None if value is None else Decimal(value), currency=currency)


REPORTS = [
    _o("a1", "acme", "r1", "rejected", 0),
    _o("a2", "acme", "r1", "accepted", 1, "10.10", "USD"),  # supersedes a1
    _o("a3", "acme", "r2", "partial", 2, "0.20", "USD"),
    _o("a4", "acme", "", "accepted", 3, "88", "CNY", task="ticket-5"),
    _o("g1", "globex", "r9", "accepted", 4, "1000", "USD"),
    _o("old", "acme", "r3", "accepted", -24 * 5),  # October
]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database_url(request.param, tmp_path, "ciyuan_outcomes_cli",
                            "the outcomes CLI on PostgreSQL") as url:
        _seed(url)
        yield url


def _seed(url: str) -> None:
    store = open_outcome_store(url)
    try:
        for report in REPORTS:
            store.add(report)
    finally:
        store.close()


def _run(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data


def test_json_lists_the_months_reports_and_sums_those_in_force(db_url: str) -> None:
    data = _run("--db", db_url, "outcomes", "--tenant", "acme", "--month", "2026-11", "--json")
    assert [o["id"] for o in data["outcomes"]] == ["a1", "a2", "a3", "a4"]  # type: ignore[index, union-attr]
    assert data["outcomes"][1] == {  # type: ignore[index]
        "id": "a2", "tenant": "acme", "request_id": "r1", "task_id": None,
        "outcome": "accepted", "value": "10.1", "currency": "USD", "score": None, "note": "",
        "reported_at": "2026-11-03T10:00:00+00:00"}
    assert data["summary"] == {
        "reports": 4, "in_force": 3, "superseded": 1,
        "by_outcome": {"accepted": 2, "rejected": 0, "partial": 1},
        "value": {"CNY": "88", "USD": "10.3"}}


def test_all_tenants_and_another_month(db_url: str) -> None:
    every = _run("--db", db_url, "outcomes", "--month", "2026-11", "--json")
    assert every["summary"]["value"] == {"CNY": "88", "USD": "1010.3"}  # type: ignore[index]
    october = _run("--db", db_url, "outcomes", "--month", "2026-10", "--json")
    assert [o["id"] for o in october["outcomes"]] == ["old"]  # type: ignore[index, union-attr]


def test_table_output_and_a_bad_month(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ciyuan.db'}"
    _seed(url)
    shown = CliRunner().invoke(cli, ["--db", url, "outcomes", "--month", "2026-11"])
    assert shown.exit_code == 0, shown.output
    assert "5 reports, 4 in force" in shown.output and "task ticket-5" in shown.output
    assert "value claimed (USD): 1010.3" in shown.output  # acme's and globex's
    bad = CliRunner().invoke(cli, ["--db", url, "outcomes", "--month", "11/2026"])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output
