"""An in-process gateway with the simulated provider as its upstream, for judge tests: every
judge call goes through the real metering pipeline (usage records in memory, no budgets)."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import openai

from ciyuan.gateway.app import build_app
from ciyuan.gateway.metering import Gateway
from ciyuan.gateway.ports import Principal, Reservation
from ciyuan.gateway.routing import Router
from ciyuan.gateway.upstream import Upstream, UpstreamConfig
from ciyuan.measure import default_measurer
from ciyuan.price.api import default_pricer
from ciyuan.sim.app import build_app as build_sim
from ciyuan.sim.config import SimConfig
from ciyuan.store.memory_usage import MemoryUsageStore

KEY = "cy-judge-test"
MODELS = ("gpt-4o", "gpt-4o-mini", "qwen-plus")


class _Keys:
    def authenticate(self, presented_key: str) -> Principal | None:
        return Principal(tenant="lab", key_id="k-lab") if presented_key == KEY else None


class _NoBudgets:
    async def reserve(self, principal: Principal, reservation_id: str, amount_nano: int,
                      currency: str) -> Reservation:
        return Reservation(reservation_id, amount_nano, currency)

    async def settle(self, reservation: Reservation, actual_nano: int) -> None:
        self.settle_now(reservation, actual_nano)

    def settle_now(self, reservation: Reservation, actual_nano: int) -> None:
        assert actual_nano <= reservation.amount_nano

    def release(self, reservation: Reservation) -> None:
        pass


class JudgeEnv:
    def __init__(self, skills: Mapping[str, Mapping[str, float]], seed: int = 7) -> None:
        measurer = default_measurer()
        sim = build_sim(SimConfig(seed=seed, models=MODELS, skills=skills), measurer)
        self.upstream = Upstream(UpstreamConfig("sim", "http://sim/v1"),
                                 transport=httpx.ASGITransport(app=sim))  # type: ignore[arg-type]
        router = Router(measurer.catalog)
        router.add(self.upstream, {m: m for m in MODELS}, {})
        self.usage = MemoryUsageStore()
        self.gateway = Gateway(measurer=measurer, pricer=default_pricer(), router=router,
                               identity=_Keys(), budgets=_NoBudgets(), usage=self.usage,
                               receipts=None)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(self.gateway)),
                                      base_url="http://gw")
        self.client = openai.AsyncOpenAI(base_url="http://gw/v1", api_key=KEY,
                                         http_client=self.http, max_retries=0)

    async def aclose(self) -> None:
        await self.client.close()
        await self.http.aclose()
        await self.upstream.aclose()
