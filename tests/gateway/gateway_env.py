"""The in-process gateway test environment: the sim as upstream, fakes for the stores."""

from __future__ import annotations

import httpx
from gateway_fakes import FakeIdentity, MemoryBudgets, MemoryUsage

from ciyuan.gateway.app import build_app
from ciyuan.gateway.metering import Gateway
from ciyuan.gateway.ports import Principal
from ciyuan.gateway.routing import Router
from ciyuan.gateway.upstream import Upstream, UpstreamConfig
from ciyuan.measure import default_measurer
from ciyuan.price.api import default_pricer
from ciyuan.sim.app import build_app as build_sim
from ciyuan.sim.config import SimConfig

KEY = "cy-test-key"
SERVED = {"gpt-4o": "gpt-4o", "qwen-plus": "qwen-plus", "deepseek-chat": "deepseek-chat"}


class Env:
    def __init__(self, limit_nano: int | None = None, fault_rate: float = 0.0,
                 faults: tuple[str, ...] = ("429", "500")) -> None:
        measurer = default_measurer()
        sim = build_sim(SimConfig(seed=7, models=tuple(SERVED), fault_rate=fault_rate,
                                  faults=faults), measurer)  # type: ignore[arg-type]
        self.upstream = Upstream(UpstreamConfig("sim", "http://sim/v1"),
                                 transport=httpx.ASGITransport(app=sim))  # type: ignore[arg-type]
        router = Router(measurer.catalog)
        router.add(self.upstream, SERVED, {})
        self.identity = FakeIdentity({KEY: Principal(tenant="acme", key_id="k1")})
        self.budgets = MemoryBudgets(limit_nano)
        self.usage = MemoryUsage()
        self.gateway = Gateway(measurer=measurer, pricer=default_pricer(), router=router,
                               identity=self.identity, budgets=self.budgets, usage=self.usage,
                               receipts=None)
        self.app = build_app(self.gateway)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                        base_url="http://gw")

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.upstream.aclose()
