"""`ciyuan report` end to end on both stores: records written through the usage store (and
tenants through the identity store) are exported, published, and read back the same."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_release import CALLS, CONFIG, _record

from ciyuan.admin.directory import Directory
from ciyuan.cli.main import cli
from ciyuan.store.identity import open_identity_store
from ciyuan.store.usage import open_usage_store
from pg_database import fresh_database_url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database_url(request.param, tmp_path, "ciyuan_release",
                            "a release published from PostgreSQL", file="release.db") as url:
        yield url


def test_report_reads_the_store(db_url: str, tmp_path: Path) -> None:
    directory = Directory(open_identity_store(db_url))
    for tenant, sector in {("t1", "software"), ("t2", "finance"), ("t3", "education")}:
        directory.create_tenant(f"Tenant {tenant}", tenant_id=tenant, sector=sector)
    directory.store.close()
    store = open_usage_store(db_url)
    for i, call in enumerate(CALLS):
        record, _ = _record(i, call)
        store.begin(replace(record, status="pending", completed_at=None, usage=None,
                            standard_input_tokens=0, standard_output_tokens=0, charge_nano=0))
        store.complete(record)
    store.close()
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
