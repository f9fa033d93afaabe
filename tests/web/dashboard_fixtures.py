"""Fixtures for the dashboard tests: traffic of today, budgets, a release, a served app."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from ciyuan.core.records import UsageRecord
from ciyuan.core.usage import Usage
from ciyuan.web.dashboard import DashboardData, dashboard_routes, summarize_today

NOW = dt.datetime(2026, 11, 22, 15, 30, tzinfo=dt.UTC)
RELEASE = {
    "schema": "ciyuan.release/1", "month": "2026-10", "revision": 0, "status": "P",
    "generated_at": "2026-11-02T00:00:00Z",
    "headline": {"requests": {"value": 1234, "flag": "P"},
                 "standard_tokens": {"value": 5_000_000, "flag": "P"},
                 "spend": {"value": {"USD": "123.45"}, "flag": "P"},
                 "price_index_tornqvist": {"value": 97.8, "flag": "P"},
                 "value_per_million_tokens": {"value": None, "flag": "P"}},
    "series": {"months": ["2026-08", "2026-09", "2026-10"],
               "standard_tokens": [3_000_000, 4_000_000, 5_000_000],
               "requests": [800, 1000, 1234],
               "price_index_tornqvist": [100.0, 98.1, 97.8],
               "price_index_fisher": [100.0, 98.2, 97.9]},
    "tables": {"volume_by_model": {
        "title": "Volume by model", "unit": "tokens",
        "columns": ["model", "requests", "native_tokens", "standard_tokens", "flag"],
        "rows": [["gpt-4o", 700, 3_000_000, 2_900_000, "P"],
                 ["qwen-plus", 534, 2_400_000, 2_100_000, "P"]]}},
}


def record(i: int, tenant: str, agent: str, hour: int, std: int, charge: int) -> UsageRecord:
    at = NOW.replace(hour=hour, minute=i % 60)
    return UsageRecord(id=f"r{i}", tenant=tenant, model="gpt-4o", provider="sim",
                       endpoint="chat.completions", started_at=at, status="completed",
                       agent=agent, completed_at=at,
                       usage=Usage(input_tokens=std // 2, output_tokens=std - std // 2),
                       standard_input_tokens=std // 2, standard_output_tokens=std - std // 2,
                       currency="USD", charge_nano=charge)


RECORDS = [record(0, "acme", "coder", 9, 1200, 4_000_000),
           record(1, "acme", "coder", 10, 800, 2_500_000),
           record(2, "acme", "support", 10, 300, 900_000),
           record(3, "fincorp", "analyst", 14, 2000, 6_000_000)]
BUDGETS = [{"scope": "tenant:acme", "period": "2026-11", "currency": "USD", "limit": "10.00",
            "spent": "7.40", "reserved": "0.60", "fill": 0.8}]


class FakeData:
    def __init__(self, release: dict[str, Any] | None = RELEASE) -> None:
        self.release = release

    def live(self) -> dict[str, Any]:
        return {**summarize_today(RECORDS, NOW), "budgets": BUDGETS}

    def latest_release(self) -> dict[str, Any] | None:
        return self.release


def write_release(root: Path, month: str = "2026-10") -> None:
    (root / month).mkdir(parents=True)
    (root / month / "release.json").write_text(json.dumps({**RELEASE, "month": month}))


@contextmanager
def serving(data: DashboardData, token: str | None = None) -> Iterator[str]:
    """The dashboard app on 127.0.0.1 (a free port) in a thread; its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app = Starlette(routes=dashboard_routes(data, token))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):  # bounded: 10 s
            if server.started:
                break
            threading.Event().wait(0.05)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
