"""``ciyuan serve``'s stores on a SQLite file: concurrent calls share turn transactions and
fsyncs, and every call still comes out settled, receipted and completed exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import httpx
import pytest

from ciyuan.gateway.app import build_app
from ciyuan.gateway.server import ServeOptions, build_gateway
from ciyuan.gateway.upstream import UpstreamConfig
from ciyuan.gateway.wiring import BillingBudgets
from ciyuan.measure import default_measurer
from ciyuan.settings import Settings
from ciyuan.sim.app import build_app as build_sim
from ciyuan.sim.config import SimConfig
from ciyuan.store.group_sync import GroupSync
from ciyuan.store.open import open_ledger_store
from ciyuan.store.sqlite_usage import SqliteUsageStore
from sim_gateway import run_cli, tenant_and_key

pytestmark = pytest.mark.anyio
CALLS = 24


async def test_concurrent_calls_share_commits_and_each_is_billed_once(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/ciyuan.db"
    key = tenant_and_key(db_url, "acme")
    run_cli(db_url, "budgets", "set", "--tenant", "acme", "--period", "month", "--amount", "100",
         "--currency", "USD")
    options = ServeOptions(upstreams=(  # models listed: no discovery over the network
        UpstreamConfig("sim", "http://sim/v1", models={"gpt-4o": "gpt-4o"}),))
    gateway, admin, dashboard = build_gateway(Settings(db_url=db_url), options)
    sim = build_sim(SimConfig(seed=3, models=("gpt-4o",)), default_measurer())
    for upstream in gateway.router.upstreams():
        upstream.transport = httpx.ASGITransport(app=sim)  # type: ignore[arg-type]
    group = getattr(gateway.durable, "__self__", None)
    assert isinstance(group, GroupSync) and isinstance(gateway.usage, SqliteUsageStore)
    assert isinstance(gateway.budgets, BillingBudgets)
    writer = gateway.usage._writer
    app = build_app(gateway, admin, dashboard)
    auth = {"authorization": f"Bearer {key}"}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://gw") as client:
        async def call(n: int) -> httpx.Response:
            body = {"model": "gpt-4o", "stream": n % 2 == 1,
                    "messages": [{"role": "user", "content": f"Question number {n}?"}]}
            return await client.post("/v1/chat/completions", json=body, headers=auth)

        responses = await asyncio.gather(*(call(n) for n in range(CALLS)))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]

    # shared: a call's hold and its settlement (one transfer each, one budget level) go to
    # the ledger with those of other calls in fewer submits; 3 more writes a call (record
    # begun, receipt, record completed; the first call's first writes before per-turn mode
    # began) in fewer commits than calls; 2 waits a call in fewer fsyncs
    turn = gateway.budgets.turn
    assert turn.transfers == 2 * CALLS and turn.submits < turn.transfers, turn.submits
    assert writer.writes >= 3 * CALLS + turn.submits - 2, writer.writes
    assert writer.turns < CALLS, writer.turns
    assert group.waits == 2 * CALLS and group.syncs < group.waits
    records = gateway.usage.get(r.headers["x-ciyuan-usage-record"] for r in responses)
    assert len(records) == CALLS and {r.status for r in records.values()} == {"completed"}
    charged = sum(r.charge_nano for r in records.values())
    ledger = open_ledger_store(db_url)  # another connection: sees only what was committed
    try:
        assert ledger.verify().ok
        spent = run_cli(db_url, "usage", "--tenant", "acme")
        assert spent["requests"] == CALLS
        month = dt.datetime.now(dt.UTC).strftime("%Y-%m")  # the tenant's budget this month
        period = ledger.balance(f"budget:tenant:acme:{month}")
        assert period.debits_posted == charged and period.debits_pending == 0
    finally:
        ledger.close()
        group.close()
        writer.close()



def test_several_workers_do_not_hold_the_write_lock_for_a_turn(tmp_path: Path) -> None:
    options = ServeOptions(workers=2, upstreams=(
        UpstreamConfig("sim", "http://sim/v1", models={"gpt-4o": "gpt-4o"}),))
    gateway, _, _ = build_gateway(Settings(db_url=f"sqlite:///{tmp_path}/c.db"), options)
    group = getattr(gateway.durable, "__self__", None)
    assert isinstance(group, GroupSync) and not group._per_turn
    group.close()
