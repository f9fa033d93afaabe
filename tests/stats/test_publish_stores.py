"""`ciyuan report` end to end on both stores: records written through the usage store (and
tenants through the identity store) are exported, published, and read back the same."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_release import CALLS, CONFIG, NOW, _record

from ciyuan.admin.directory import Directory
from ciyuan.catalog.models import load_catalog
from ciyuan.cli.main import cli
from ciyuan.core.outcomes import Outcome
from ciyuan.price.api import pricer_from_config
from ciyuan.stats.publish import publish
from ciyuan.store.identity import open_identity_store
from ciyuan.store.outcomes import open_outcome_store
from ciyuan.store.usage import open_usage_store
from pg_database import fresh_database_url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database_url(request.param, tmp_path, "ciyuan_release",
                            "a release published from PostgreSQL", file="release.db") as url:
        yield url


#: Tasks of some calls (by index in CALLS): r3 and r4 are one task of t1 and t2 in September
#: (different tenants), r0 is t1's August call in the same task as r3.
TASKS = {0: "case-1", 3: "case-1", 4: "case-1"}


def _fill(db_url: str) -> None:
    directory = Directory(open_identity_store(db_url))
    for tenant, sector in {("t1", "software"), ("t2", "finance"), ("t3", "education")}:
        directory.create_tenant(f"Tenant {tenant}", tenant_id=tenant, sector=sector)
    directory.store.close()
    store = open_usage_store(db_url)
    for i, call in enumerate(CALLS):
        record, _ = _record(i, call)
        record = replace(record, task=TASKS.get(i, ""))
        store.begin(replace(record, status="pending", completed_at=None, usage=None,
                            standard_input_tokens=0, standard_output_tokens=0, charge_nano=0))
        store.complete(record)
    store.close()


def test_report_reads_the_store(db_url: str, tmp_path: Path) -> None:
    _fill(db_url)
    config = tmp_path / "ciyuan.toml"
    config.write_text(_toml(CONFIG))
    result = CliRunner().invoke(cli, ["--db", db_url, "--config", str(config), "report",
                                      "--month", "2026-09", "--base", "2026-08", "--out",
                                      str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    headline = json.loads(result.output)["headline"]
    september = [c for c in CALLS if c[0] == "2026-09"]
    assert headline["requests"]["value"] == len(september)
    assert headline["standard_tokens"]["value"] == sum(int(c[9]) for c in september)  # type: ignore[call-overload]
    release = json.loads((tmp_path / "out" / "2026-09" / "release.json").read_text())
    sectors = {r[0]: r[1] for r in release["tables"]["volume_by_sector"]["rows"]}
    assert sectors == {"software": 1, "finance": 2, "education": 1}
    assert release["tables"]["volume_by_provider"]["rows"][0][0] == "acme-ai"
    assert dt.date.fromisoformat(release["generated_at"][:10]) >= dt.date(2026, 1, 1)


def _outcome(oid: str, tenant: str, day: int, *, record: str = "", task: str = "",
             value: str | None = None, currency: str = "USD",
             outcome: str = "accepted") -> Outcome:
    return Outcome(id=oid, tenant=tenant, record_id=record, task=task,
                   outcome=outcome,  # type: ignore[arg-type]
                   reported_at=dt.datetime(2026, 10, day, tzinfo=dt.UTC),
                   value=None if value is None else Decimal(value),
                   currency=currency if value is not None else "")


def _publish(db_url: str, out: Path, now: dt.datetime) -> dict[str, object]:
    return publish(month="2026-09", out=out, base="2026-08", pricer=pricer_from_config(CONFIG),
                   catalog=load_catalog(CONFIG), db_url=db_url, now=now).release


def test_value_per_token_from_the_store_and_a_late_outcome_revises(db_url: str,
                                                                   tmp_path: Path) -> None:
    _fill(db_url)
    first = _publish(db_url, tmp_path, NOW)
    headline = first["headline"]
    assert isinstance(headline, dict) and headline["value_per_million_tokens"]["value"] is None
    assert "no outcome report with a value" in first["notes"]["value_per_token"]  # type: ignore[index]
    assert first["tables"]["value_per_token"]["rows"] == []  # type: ignore[index]

    store = open_outcome_store(db_url)
    try:
        for o in (
            _outcome("o1", "t1", 1, task="case-1", value="40"),  # superseded by o2
            _outcome("o2", "t1", 2, task="case-1", value="10", outcome="partial"),  # r3 only
            _outcome("o3", "t2", 3, record="r5", value="2.5", currency="CNY"),
            _outcome("o4", "t2", 4, record="r4", outcome="rejected"),  # no value
            _outcome("o5", "t1", 5, record="r0", value="99"),  # an August call
        ):
            store.add(o)
    finally:
        store.close()
    late_now = NOW + dt.timedelta(days=1)
    second = _publish(db_url, tmp_path, late_now)
    rows = {r[0]: r for r in second["tables"]["value_per_token"]["rows"]}  # type: ignore[index]
    september_native = sum(int(c[6]) + int(c[8]) for c in CALLS if c[0] == "2026-09")  # type: ignore[call-overload]
    r3_native, r5_native = 2000 + 900, 4000 + 2000
    assert rows["USD"][1:6] == [1, 1, r3_native, "10", "0.0074"]
    assert Decimal(rows["USD"][6]) == (Decimal(10) * 10**6 / r3_native).quantize(
        Decimal("0.000001"))
    assert rows["USD"][8] == round(r3_native / september_native, 6)
    assert rows["CNY"][1:5] == [1, 1, r5_native, "2.5"] and rows["CNY"][7] is None
    value = second["headline"]["value_per_million_tokens"]  # type: ignore[index]
    assert set(value["value"]) == {"CNY", "USD"}
    # the outcome reports arrived after the first publication: a revision, flagged R
    assert second["revision"] == 1 and value["flag"] == "R"
    assert rows["USD"][-1] == "R"
    changes = json.loads((tmp_path / "2026-09" / "changes.json").read_text())
    assert any(c["table"] == "headline" and c["key"] == ["value_per_million_tokens"]
               and c["previous"] is None for c in changes)
    assert any(c["table"] == "value_per_token" and c["key"] == ["USD"] for c in changes)
    html = (tmp_path / "2026-09" / "index.html").read_text()
    assert 'id="value_per_token"' in html and "Value per token" in html
    assert (tmp_path / "2026-09" / "tables" / "value_per_token.parquet").exists()
    sdmx = (tmp_path / "2026-09" / "release.sdmx.csv").read_text().splitlines()
    assert any(",headline,_T,value_per_million_tokens,USD," in line and line.endswith(",R")
               for line in sdmx)
    assert any(",value_per_token,USD,value," in line for line in sdmx)


def _toml(config: dict[str, object]) -> str:
    """The test price book and catalog as ciyuan.toml text."""
    lines = []
    for pid, p in config["providers"].items():  # type: ignore[attr-defined]
        lines.append(f'[providers."{pid}"]')
        lines += [f'{k} = "{v}"' for k, v in p.items()]
    for mid, m in config["models"].items():  # type: ignore[attr-defined]
        lines.append(f'[models."{mid}"]')
        lines += [f'{k} = "{v}"' for k, v in m.items()]
    for mid, versions in config["prices"].items():  # type: ignore[attr-defined]
        for v in versions:
            lines.append(f'[[prices."{mid}"]]')
            lines += [f'{k} = "{val}"' for k, val in v.items()]
    return "\n".join(lines) + "\n"
