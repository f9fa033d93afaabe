"""The dashboard's data, its routes and their access rule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
from dashboard_fixtures import NOW, RECORDS, FakeData, serving, write_release
from starlette.applications import Starlette
from starlette.testclient import TestClient

from ciyuan.store.memory_usage import MemoryUsageStore
from ciyuan.web.dashboard import StoreDashboardData, dashboard_routes, latest_release


def test_live_figures_from_the_usage_store(tmp_path: Path) -> None:
    yesterday = RECORDS[0].started_at - dt.timedelta(days=1)
    from dataclasses import replace

    old = replace(RECORDS[0], id="old", started_at=yesterday, completed_at=yesterday)
    data = StoreDashboardData(MemoryUsageStore([*RECORDS, old]), lambda now: [], tmp_path,
                              now=lambda: NOW)
    live = data.live()
    assert live["today"]["requests"] == 4  # yesterday's call is not today's
    assert live["today"]["standard_tokens"] == 1200 + 800 + 300 + 2000
    assert live["today"]["cost"] == {"USD": "0.013400"}
    assert [h["hour"] for h in live["hourly"]] == [
        "2026-11-22T09:00:00Z", "2026-11-22T10:00:00Z", "2026-11-22T14:00:00Z"]
    assert [t["tenant"] for t in live["top_tenants"]] == ["acme", "fincorp"]
    # a tie on standard tokens is broken by name
    assert live["top_agents"][0] == {"tenant": "acme", "agent": "coder", "requests": 2,
                                     "native_tokens": 2000, "standard_tokens": 2000,
                                     "cost": {"USD": "0.006500"}}
    assert live["top_agents"][1]["agent"] == "analyst"
    assert live["budgets"] == []


def test_latest_release_is_the_latest_month(tmp_path: Path) -> None:
    assert latest_release(tmp_path / "missing") is None
    assert latest_release(tmp_path) is None
    write_release(tmp_path, "2026-09")
    write_release(tmp_path, "2026-10")
    (tmp_path / "partitions").mkdir()
    release = latest_release(tmp_path)
    assert release is not None and release["month"] == "2026-10"


def test_a_token_is_required_when_configured() -> None:
    client = TestClient(Starlette(routes=dashboard_routes(FakeData(), "s3cret")))
    assert client.get("/dashboard").status_code == 200  # the page itself holds no data
    assert client.get("/dashboard/api/live").status_code == 401
    wrong = client.get("/dashboard/api/live", headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "#token=" in wrong.json()["error"]["message"]
    right = client.get("/dashboard/api/release", headers={"authorization": "Bearer s3cret"})
    assert right.status_code == 200 and right.json()["month"] == "2026-10"


def test_without_a_token_only_loopback_clients_get_data() -> None:
    client = TestClient(Starlette(routes=dashboard_routes(FakeData(), None)))  # "testclient"
    refused = client.get("/dashboard/api/live")
    assert refused.status_code == 403 and "CIYUAN_ADMIN_TOKEN" in refused.json()["error"][
        "message"]
    with serving(FakeData()) as url:  # a real loopback connection
        assert httpx.get(f"{url}/dashboard/api/live").json()["today"]["requests"] == 4


def test_only_the_shipped_files_are_served() -> None:
    client = TestClient(Starlette(routes=dashboard_routes(FakeData(), None)))
    assert client.get("/dashboard/static/dashboard.js").status_code == 200
    for name in ("dashboard.py", "..%2F__init__.py", "%2E%2E%2Fdashboard.py", "x.css"):
        assert client.get(f"/dashboard/static/{name}").status_code == 404, name
