"""Fixtures for the dashboard tests: today's traffic, budgets, a release, a served app."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import threading
import time
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
TOKEN = "dash-s3cret"
#: A release.json as ``ciyuan report`` writes it (schema ciyuan.release/1).
RELEASE_FILE = Path(__file__).with_name("release_2026-10.json")
RELEASE: dict[str, Any] = json.loads(RELEASE_FILE.read_text("utf-8"))
#: The longest a served app may take to start (it takes milliseconds).
START_TIMEOUT_S = 10.0


def record(i: int, tenant: str, agent: str, hour: int, std: int, charge_nano: int,
           currency: str = "USD") -> UsageRecord:
    at = NOW.replace(hour=hour, minute=i % 60)
    return UsageRecord(id=f"r{i}", tenant=tenant, model="gpt-4o", provider="sim",
                       endpoint="chat.completions", started_at=at, status="completed",
                       agent=agent, completed_at=at,
                       usage=Usage(input_tokens=std // 2 + 10, output_tokens=std - std // 2),
                       standard_input_tokens=std // 2, standard_output_tokens=std - std // 2,
                       currency=currency, charge_nano=charge_nano)


RECORDS = [record(0, "acme", "coder", 9, 1200, 4_000_000),
           record(1, "acme", "coder", 10, 800, 2_500_000),
           record(2, "acme", "support", 10, 300, 900_000),
           record(3, "fincorp", "analyst", 14, 2000, 6_000_000)]


def busy_day() -> list[UsageRecord]:
    """A day of traffic for the browser test and the screenshot: five tenants, two
    currencies, every hour until 15:00."""
    out = []
    agents = [("acme", "coder"), ("acme", "support"), ("fincorp", "analyst"),
              ("shop-cn", "support-cn"), ("labs", "eval-runner"), ("fincorp", "reports")]
    for i in range(160):
        tenant, agent = agents[(i * 7) % len(agents)]
        hour = (i * 5) % 16
        std = 400 + (i * 977) % 5200 + (hour in (9, 10, 11, 14)) * 3000
        out.append(record(i, tenant, agent, hour, std, std * 2_500,
                          "CNY" if tenant == "shop-cn" else "USD"))
    return out


BUDGETS = [
    {"scope": "tenant:acme", "period": "2026-11", "currency": "USD", "limit": "10.00",
     "spent": "7.40", "reserved": "0.60", "fill": 0.8},
    {"scope": "tenant:fincorp", "period": "2026-11-22", "currency": "USD", "limit": "2.00",
     "spent": "0.51", "reserved": "0.00", "fill": 0.255},
    {"scope": "tenant:shop-cn", "period": "2026-11", "currency": "CNY", "limit": "50.00",
     "spent": "50.00", "reserved": "0.00", "fill": 1.0},
]


class FakeData:
    """A DashboardData with fixed figures."""

    def __init__(self, records: list[UsageRecord] | None = None,
                 release: dict[str, Any] | None = RELEASE,
                 budgets: list[dict[str, Any]] | None = None) -> None:
        self.records = RECORDS if records is None else records
        self.release = release
        self.budgets = BUDGETS if budgets is None else budgets

    def live(self) -> dict[str, Any]:
        return {**summarize_today(self.records, NOW), "budgets": self.budgets}

    def latest_release(self) -> dict[str, Any] | None:
        return self.release


def write_release(root: Path, month: str = "2026-10") -> Path:
    """The fixture release as ``root/month/release.json``."""
    (root / month).mkdir(parents=True)
    target = root / month / "release.json"
    if month == RELEASE["month"]:
        shutil.copy(RELEASE_FILE, target)
    else:
        target.write_text(json.dumps({**RELEASE, "month": month}), "utf-8")
    return target


@contextmanager
def serving(data: DashboardData, token: str | None = TOKEN) -> Iterator[str]:
    """The dashboard app with uvicorn on 127.0.0.1 (a free port, bound first) in a thread;
    yields its base URL and stops it after."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app = Starlette(routes=dashboard_routes(data, token))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            assert time.monotonic() < deadline, "the dashboard app did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT_S)
        sock.close()
