"""``ciyuan serve`` wiring: the dashboard reads the gateway's own stores and release folder."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from dashboard_fixtures import RECORDS, RELEASE, write_release
from starlette.testclient import TestClient

from ciyuan.billing import Billing, Scope, to_nano
from ciyuan.gateway.app import build_app
from ciyuan.gateway.server import ServeOptions, build_gateway
from ciyuan.gateway.upstream import UpstreamConfig
from ciyuan.settings import Settings
from ciyuan.store.open import open_ledger_store
from ciyuan.store.usage import open_usage_store

TOKEN = "wiring-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}


def test_serve_builds_the_dashboard_from_its_stores(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/ciyuan.db"
    releases = tmp_path / "releases"
    write_release(releases)
    settings = Settings(db_url=db_url, admin_token=TOKEN)
    options = ServeOptions(release_dir=releases, upstreams=(  # listed models: no discovery
        UpstreamConfig("sim", "http://127.0.0.1:9/v1", models={"gpt-4o": "gpt-4o"}),))
    gateway, admin, dashboard = build_gateway(settings, options)
    client = TestClient(build_app(gateway, admin, dashboard))

    assert client.post("/api/tenants", json={"name": "acme"}, headers=AUTH).status_code == 201
    ledger = open_ledger_store(db_url)
    usage = open_usage_store(db_url)
    try:
        billing = Billing(ledger)
        billing.set_budget(Scope("acme").level(), "month", to_nano("100"), "USD")
        billing.reserve(Scope("acme"), "held-1", to_nano("5"), "USD")
        now = dt.datetime.now(dt.UTC)
        done = replace(RECORDS[0], started_at=now, completed_at=now)
        usage.begin(replace(done, status="pending", usage=None, completed_at=None,
                            standard_input_tokens=0, standard_output_tokens=0, charge_nano=0))
        usage.complete(done)
    finally:
        ledger.close()
        usage.close()

    assert client.get("/dashboard").status_code == 200
    assert client.get("/dashboard/api/live").status_code == 401
    live = client.get("/dashboard/api/live", headers=AUTH).json()
    if live["as_of"][:10] == now.date().isoformat():  # not across midnight
        assert live["today"]["requests"] == 1
        assert live["today"]["cost"] == {"USD": "0.004"}
    [budget] = live["budgets"]
    assert budget == {"scope": "tenant:acme", "period": now.strftime("%Y-%m"),
                      "currency": "USD", "limit": "100.00", "spent": "0.00",
                      "reserved": "5.00", "fill": 0.05}
    assert client.get("/dashboard/api/release", headers=AUTH).json() == RELEASE
