"""The dashboard's data, its routes and their access rule."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from dashboard_fixtures import (
    NOW,
    RECORDS,
    RELEASE,
    TOKEN,
    FakeData,
    record,
    serving,
    write_release,
)
from starlette.applications import Starlette
from starlette.testclient import TestClient

from ciyuan.store.memory_usage import MemoryUsageStore
from ciyuan.web.dashboard import (
    STATIC_FILES,
    StoreDashboardData,
    dashboard_routes,
    latest_release,
    money_text,
)

AUTH = {"authorization": f"Bearer {TOKEN}"}


def _client(data: Any = None, token: str | None = TOKEN) -> TestClient:
    return TestClient(Starlette(routes=dashboard_routes(data or FakeData(), token)))


def _data(records: list[Any], tmp_path: Path, budgets: list[dict[str, Any]] | None = None,
          now: dt.datetime = NOW) -> StoreDashboardData:
    return StoreDashboardData(MemoryUsageStore(records), lambda at: budgets or [], tmp_path,
                              now=lambda: now, cache_s=0)


def test_live_figures_from_the_usage_store(tmp_path: Path) -> None:
    yesterday = RECORDS[0].started_at - dt.timedelta(days=1)
    old = replace(RECORDS[0], id="old", started_at=yesterday, completed_at=yesterday)
    pending = replace(RECORDS[1], id="pending", status="pending", usage=None,
                      completed_at=None, charge_nano=0)
    live = _data([*RECORDS, old, pending], tmp_path).live()
    assert live["as_of"] == "2026-11-22T15:30:00Z"
    assert live["today"] == {"requests": 4, "native_tokens": 4300 + 4 * 10,
                             "standard_tokens": 1200 + 800 + 300 + 2000,
                             "cost": {"USD": "0.0134"}}  # exact, padded to cents
    hourly = live["hourly"]
    assert [h["hour"] for h in hourly] == [f"2026-11-22T{h:02d}:00:00Z" for h in range(16)]
    assert [(h["requests"], h["standard_tokens"]) for h in hourly if h["requests"]] == [
        (1, 1200), (2, 1100), (1, 2000)]
    assert [t["tenant"] for t in live["top_tenants"]] == ["acme", "fincorp"]
    # a tie on standard tokens is broken by name
    assert live["top_agents"][0] == {"tenant": "acme", "agent": "coder", "requests": 2,
                                     "native_tokens": 2020, "standard_tokens": 2000,
                                     "cost": {"USD": "0.0065"}}
    assert live["top_agents"][1]["agent"] == "analyst"
    assert live["budgets"] == []
    json.dumps(live)  # JSON-ready, as the route sends it


def test_money_is_a_decimal_string_in_each_currency(tmp_path: Path) -> None:
    records = [record(0, "acme", "a", 1, 10, 1), record(1, "shop", "b", 2, 10, 12_300_000_000,
                                                        currency="CNY")]
    live = _data(records, tmp_path).live()
    assert live["today"]["cost"] == {"CNY": "12.30", "USD": "0.000000001"}
    for cost in live["today"]["cost"].values():
        assert isinstance(cost, str) and Decimal(cost) > 0
    assert money_text(100_000_000_000, "USD") == "100.00"
    assert money_text(7 * 10**9, "XTS") == "7"


def test_names_in_any_script_travel_as_json(tmp_path: Path) -> None:
    live = _data([record(0, "shop-cn", "客服", 1, 10, 1)], tmp_path).live()
    response = _client(FakeData(records=[record(0, "shop-cn", "客服", 1, 10, 1)])).get(
        "/dashboard/api/live", headers=AUTH)
    assert live["top_agents"][0]["agent"] == response.json()["top_agents"][0]["agent"] == "客服"


def test_a_quiet_day_lists_every_hour_with_zeros(tmp_path: Path) -> None:
    live = _data([], tmp_path, now=NOW.replace(hour=0, minute=5)).live()
    assert live["today"] == {"requests": 0, "native_tokens": 0, "standard_tokens": 0, "cost": {}}
    assert live["hourly"] == [{"hour": "2026-11-22T00:00:00Z", "standard_tokens": 0,
                               "requests": 0}]
    assert live["top_tenants"] == live["top_agents"] == []


def test_top_tables_are_bounded(tmp_path: Path) -> None:
    records = [record(i, f"t{i:02d}", f"a{i}", 3, 100 + i, 1) for i in range(25)]
    live = _data(records, tmp_path).live()
    assert len(live["top_tenants"]) == len(live["top_agents"]) == 10
    assert live["top_tenants"][0]["tenant"] == "t24"


def test_live_is_cached_briefly(tmp_path: Path) -> None:
    store = MemoryUsageStore(RECORDS)
    data = StoreDashboardData(store, lambda at: [], tmp_path, now=lambda: NOW, cache_s=60)
    first = data.live()
    store.add(replace(RECORDS[0], id="new"))
    assert data.live() is first  # within cache_s: the same figures, not a new query
    assert first["today"]["requests"] == 4


def test_latest_release_is_the_latest_month_with_a_release(tmp_path: Path) -> None:
    assert latest_release(tmp_path / "missing") is None
    assert latest_release(tmp_path) is None
    write_release(tmp_path, "2026-09")
    assert latest_release(tmp_path)["month"] == "2026-09"  # type: ignore[index]
    write_release(tmp_path, "2026-10")
    (tmp_path / "2026-11").mkdir()  # being written: no release.json yet
    (tmp_path / "partitions").mkdir()
    (tmp_path / "2026-13").mkdir()
    assert latest_release(tmp_path) == RELEASE
    assert _data([], tmp_path).latest_release() == RELEASE


def test_the_routes_want_the_admin_token() -> None:
    client = _client()
    assert client.get("/dashboard").status_code == 200  # the page itself holds no data
    for path in ("/dashboard/api/live", "/dashboard/api/release"):
        missing = client.get(path)
        assert missing.status_code == 401, path
        assert missing.json()["error"]["code"] == "admin-unauthorized"
        assert missing.headers["www-authenticate"] == "Bearer"
        for wrong in ("Bearer nope", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x"):
            refused = client.get(path, headers={"authorization": wrong})
            assert refused.status_code == 401, wrong
            assert "#token=" in refused.json()["error"]["message"]
    live = client.get("/dashboard/api/live", headers=AUTH)
    assert live.status_code == 200 and live.json()["today"]["requests"] == 4
    assert live.headers["cache-control"] == "no-store"
    release = client.get("/dashboard/api/release", headers={"authorization": f"bearer {TOKEN}"})
    assert release.status_code == 200 and release.json() == RELEASE


def test_without_an_admin_token_the_data_is_disabled() -> None:
    """The admin API's rule: no token configured, no data (not even for loopback)."""
    client = _client(token=None)
    assert client.get("/dashboard").status_code == 200
    for path in ("/dashboard/api/live", "/dashboard/api/release"):
        refused = client.get(path, headers=AUTH)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "admin-disabled"
        assert "CIYUAN_ADMIN_TOKEN" in refused.json()["error"]["message"]
    with serving(FakeData(), token=None) as url:  # a real loopback connection
        assert httpx.get(f"{url}/dashboard/api/live").status_code == 403
    with _client(token="") as empty:  # an empty token is no token
        assert empty.get("/dashboard/api/live", headers={"authorization": "Bearer "}
                         ).status_code == 403


def test_no_release_is_null() -> None:
    response = _client(FakeData(release=None)).get("/dashboard/api/release", headers=AUTH)
    assert response.status_code == 200 and response.json() is None


def test_the_page_and_its_files() -> None:
    client = _client()
    page = client.get("/dashboard")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in STATIC_FILES:
        assert f"/dashboard/static/{name}" in page.text
        asset = client.get(f"/dashboard/static/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(
            STATIC_FILES[name].split(";")[0])
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    assert "https://" not in client.get("/dashboard/static/dashboard.js").text


@pytest.mark.parametrize("name", [
    "dashboard.html", "dashboard.py", "..%2Fdashboard.py", "%2E%2E%2F__init__.py",
    "..%2F..%2Fcore%2Fmoney.py", "%2Fetc%2Fpasswd", "x.css", "DASHBOARD.JS", "dashboard.js%00",
])
def test_only_the_shipped_files_are_served(name: str) -> None:
    assert _client().get(f"/dashboard/static/{name}").status_code == 404


@pytest.mark.parametrize("path", ["/dashboard/static/../dashboard.py",
                                  "/dashboard/static/../../web/dashboard.py",
                                  "/dashboard/static/static/dashboard.js"])
def test_traversal_paths_reach_no_file(path: str) -> None:
    response = _client().get(path)
    assert response.status_code == 404
    assert "import" not in response.text
