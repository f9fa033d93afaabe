"""The in-process gateway with ``/v1/outcomes``: two tenants, real SQLite usage and outcome
stores, the simulated provider as upstream (ASGI transports)."""

from __future__ import annotations

from pathlib import Path

import httpx
from gateway_env import SERVED
from gateway_fakes import FakeIdentity, MemoryBudgets

from ciyuan.gateway.app import build_app
from ciyuan.gateway.metering import Gateway
from ciyuan.gateway.outcomes import OutcomeDesk, outcome_routes
from ciyuan.gateway.ports import Principal
from ciyuan.gateway.routing import Router
from ciyuan.gateway.upstream import Upstream, UpstreamConfig
from ciyuan.measure import default_measurer
from ciyuan.price.api import default_pricer
from ciyuan.sim.app import build_app as build_sim
from ciyuan.sim.config import SimConfig
from ciyuan.store.sqlite_outcomes import SqliteOutcomeStore
from ciyuan.store.sqlite_usage import SqliteUsageStore

ACME_KEY, GLOBEX_KEY = "cy-acme-key", "cy-globex-key"
ACME = {"authorization": f"Bearer {ACME_KEY}"}
GLOBEX = {"authorization": f"Bearer {GLOBEX_KEY}"}


class OutcomeEnv:
    def __init__(self, root: Path) -> None:
        measurer = default_measurer()
        sim = build_sim(SimConfig(seed=7, models=tuple(SERVED)), measurer)
        self.upstream = Upstream(UpstreamConfig("sim", "http://sim/v1"),
                                 transport=httpx.ASGITransport(app=sim))
        router = Router(measurer.catalog)
        router.add(self.upstream, SERVED, {})
        identity = FakeIdentity({ACME_KEY: Principal(tenant="acme", key_id="k-acme"),
                                 GLOBEX_KEY: Principal(tenant="globex", key_id="k-globex")})
        self.usage = SqliteUsageStore(root / "ciyuan.db")
        self.outcomes = SqliteOutcomeStore(root / "ciyuan.db")
        self.gateway = Gateway(measurer=measurer, pricer=default_pricer(), router=router,
                               identity=identity, budgets=MemoryBudgets(), usage=self.usage,
                               receipts=None)
        desk = OutcomeDesk(authenticate=self.gateway.authenticate, usage=self.usage,
                           tasks=self.usage, outcomes=self.outcomes, now=self.gateway.now)
        self.app = build_app(self.gateway, extra=outcome_routes(desk))
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                        base_url="http://gw")

    async def call(self, auth: dict[str, str], task: str = "") -> str:
        """One metered chat call; its usage-record id (the response header)."""
        headers = {**auth, **({"x-ciyuan-task": task} if task else {})}
        response = await self.client.post("/v1/chat/completions", headers=headers, json={
            "model": "gpt-4o", "messages": [{"role": "user", "content": "Summarize: 词元."}]})
        assert response.status_code == 200, response.text
        return response.headers["x-ciyuan-usage-record"]

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.upstream.aclose()
        self.usage.close()
        self.outcomes.close()
