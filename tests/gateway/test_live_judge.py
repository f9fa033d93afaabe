"""Live-traffic judging against the real sim-provider, in-process: the share of calls judged
is within its binomial interval of the configured share, every score is linked to its call's
usage record, judge calls are metered as evaluation under the judge's own key, and an
exhausted judge budget (a real ledger budget) stops sampling, counted in /metrics."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
from pathlib import Path

import httpx
import pytest
from gateway_fakes import FakeIdentity

from ciyuan.billing import Billing, Level, LevelKind, Scope
from ciyuan.gateway.app import build_app
from ciyuan.gateway.judging import BUDGET_PAUSE_S, LiveJudge
from ciyuan.gateway.metering import Gateway
from ciyuan.gateway.ports import Principal
from ciyuan.gateway.routing import Router
from ciyuan.gateway.upstream import Upstream, UpstreamConfig
from ciyuan.gateway.wiring import BillingBudgets
from ciyuan.measure import default_measurer
from ciyuan.price.api import default_pricer
from ciyuan.quality.builtin import DATA
from ciyuan.quality.live import LiveJudgeConfig, is_sampled
from ciyuan.sim.app import build_app as build_sim
from ciyuan.sim.config import SimConfig
from ciyuan.store.memory_usage import MemoryUsageStore
from ciyuan.store.open import open_ledger_store
from ciyuan.store.sqlite_judge_scores import SqliteJudgeScoreStore

pytestmark = pytest.mark.anyio
KEY, JUDGE_KEY = "cy-traffic", "cy-judge"
SERVED = {"gpt-4o": "gpt-4o", "qwen-plus": "qwen-plus"}
PROMPTS = [json.loads(line)["prompt"] for line in
           (DATA / "builtin.jsonl").read_text("utf-8").splitlines()[1:]]


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class LiveEnv:
    def __init__(self, tmp: Path, share: float, judge_budget_nano: int, queue: int = 1000
                 ) -> None:
        measurer = default_measurer()
        sim = build_sim(SimConfig(seed=7, models=tuple(SERVED)), measurer)
        self.upstream = Upstream(UpstreamConfig("sim", "http://sim/v1"),
                                 transport=httpx.ASGITransport(app=sim))  # type: ignore[arg-type]
        router = Router(measurer.catalog)
        router.add(self.upstream, SERVED, {})
        self.billing = Billing(open_ledger_store(f"sqlite:///{tmp}/ledger.db"))
        self.judge_level = Level(LevelKind.TENANT, "judge")
        self.billing.set_budget(self.judge_level, "month", judge_budget_nano, "USD")
        self.usage = MemoryUsageStore()
        identity = FakeIdentity({KEY: Principal(tenant="acme", key_id="k-acme"),
                                 JUDGE_KEY: Principal(tenant="judge", key_id="k-judge")})
        self.gateway = Gateway(measurer=measurer, pricer=default_pricer(), router=router,
                               identity=identity, budgets=BillingBudgets(self.billing),
                               usage=self.usage, receipts=None)
        app = build_app(self.gateway)
        self.scores = SqliteJudgeScoreStore(tmp / "scores.db")
        self.clock = Clock()
        self.live = LiveJudge(LiveJudgeConfig(share, "gpt-4o", "grade-answer@1", JUDGE_KEY,
                                              queue),
                              app, self.scores, self.gateway.metrics.registry, clock=self.clock)
        self.gateway.completed = self.live
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                        base_url="http://gw")

    async def call(self, n: int) -> str:
        response = await self.client.post(
            "/v1/chat/completions",  # an idempotency key makes the record id (so the sample)
            headers={"authorization": f"Bearer {KEY}", "idempotency-key": f"call-{n}"},  # fixed
            json={"model": "qwen-plus", "max_tokens": 2000,
                  "messages": [{"role": "user", "content": PROMPTS[n % len(PROMPTS)]}]})
        assert response.status_code == 200, response.text
        return str(response.headers["x-ciyuan-usage-record"])

    async def stream(self, n: int) -> tuple[str, str]:
        """A streamed call: its usage record id and the answer text the client received."""
        body = {"model": "qwen-plus", "max_tokens": 2000, "stream": True,
                "messages": [{"role": "user", "content": PROMPTS[n % len(PROMPTS)]}]}
        headers = {"authorization": f"Bearer {KEY}", "idempotency-key": f"stream-{n}"}
        async with self.client.stream("POST", "/v1/chat/completions", headers=headers,
                                      json=body) as response:
            assert response.status_code == 200
            record_id = str(response.headers["x-ciyuan-usage-record"])
            text = []
            async for line in response.aiter_lines():
                if line.startswith("data: {"):
                    for choice in json.loads(line[6:]).get("choices") or []:
                        text.append((choice.get("delta") or {}).get("content") or "")
        return record_id, "".join(text)

    async def metric(self, outcome: str) -> float:
        text = (await self.client.get("/metrics")).text
        found = re.search(rf'ciyuan_live_judge_total{{outcome="{outcome}"}} (\S+)', text)
        assert found is not None, text
        return float(found.group(1))

    def judge_records(self) -> list[str]:
        start, end = dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
        return [r.id for r in self.usage.query(start, end, tenant="judge")]

    def spent(self) -> int:
        (status,) = self.billing.status(Scope("judge"))
        return status.spent_nano

    async def aclose(self) -> None:
        await self.live.aclose()
        await self.client.aclose()
        await self.upstream.aclose()
        self.scores.close()


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


async def test_the_share_judged_is_within_its_interval(tmp_path: Path) -> None:
    share, n = 0.3, 200
    env = LiveEnv(tmp_path, share, judge_budget_nano=10**12)
    try:
        records = [await env.call(i) for i in range(n)]
        await env.live.drain()
        judged = await env.metric("judged")
        for outcome in ("dropped", "error", "verdict_error", "no_text", "skipped_budget"):
            assert await env.metric(outcome) == 0, outcome
    finally:
        await env.aclose()
    expected = [r for r in records if is_sampled(r, share)]
    assert judged == len(expected)  # exactly the calls the record ids select
    assert abs(len(expected) - share * n) <= 1.96 * math.sqrt(n * share * (1 - share))
    scores = SqliteJudgeScoreStore(tmp_path / "scores.db")
    try:
        stored = scores.list("acme")
        assert sorted(s.record_id for s in stored) == sorted(expected)
        assert scores.list("judge") == []  # the judge's own calls are never sampled
    finally:
        scores.close()
    for score in stored:
        assert (score.judge, score.rubric, score.error) == ("gpt-4o", "grade-answer@1", "")
        judge_call = env.usage.get([score.judge_record_id])[score.judge_record_id]
        assert (judge_call.tenant, judge_call.purpose) == ("judge", "evaluation")
        assert judge_call.task == f"live-judge:{score.record_id}" and judge_call.charge_nano > 0
    assert 0 < sum(s.passed for s in stored) < len(stored)


async def test_an_exhausted_judge_budget_stops_sampling(tmp_path: Path) -> None:
    # room for one judge call's worst case (about 0.02 USD), so a few calls fit, then none
    env = LiveEnv(tmp_path, 1.0, judge_budget_nano=25_000_000)
    try:
        for i in range(40):
            await env.call(i)
            await env.live.drain()
        refused = await env.metric("budget_exhausted")
        judged = await env.metric("judged")
        skipped = await env.metric("skipped_budget")
        assert refused == 1 and judged >= 1 and judged + refused + skipped == 40
        assert len(env.judge_records()) == judged  # no judge call after the refusal
        assert env.spent() <= 25_000_000
        calls = len(env.judge_records())
        env.clock.t += BUDGET_PAUSE_S + 1  # the pause ends: one probe, refused again
        await env.call(41)
        await env.live.drain()
        assert await env.metric("budget_exhausted") == 2
        assert len(env.judge_records()) == calls
        env.billing.set_budget(env.judge_level, "month", 10**12, "USD")  # budget raised
        env.clock.t += BUDGET_PAUSE_S + 1
        await env.call(42)
        await env.live.drain()
        assert await env.metric("judged") == judged + 1
    finally:
        await env.aclose()


async def test_a_full_queue_drops_and_counts_never_waits(tmp_path: Path) -> None:
    env = LiveEnv(tmp_path, 1.0, judge_budget_nano=10**12, queue=1)
    try:
        record_id = await env.call(0)
        await env.live.drain()
        record = env.usage.get([record_id])[record_id]
        body = {"messages": [{"role": "user", "content": PROMPTS[1]}]}
        response = {"choices": [{"message": {"content": "Answer: 42"}}]}
        for n in range(5):  # no await between offers: the worker cannot take any yet
            env.live.offer(dataclasses.replace(record, id=f"ur-burst-{n}"), body, response)
        assert await env.metric("dropped") == 4 and await env.metric("sampled") == 2
        await env.live.drain()
        assert await env.metric("judged") == 2
    finally:
        await env.aclose()


async def test_streamed_calls_are_sampled_with_the_text_they_delivered(tmp_path: Path) -> None:
    share, n = 0.5, 40
    env = LiveEnv(tmp_path, share, judge_budget_nano=10**12)
    offered: dict[str, str] = {}
    offer = env.live.offer

    def spy(record: object, body: object, response: dict) -> None:  # type: ignore[type-arg]
        if record.tenant == "acme":  # type: ignore[attr-defined] # not the judge's own calls
            offered[record.id] = response["choices"][0]["message"]["content"]  # type: ignore[attr-defined]
        offer(record, body, response)  # type: ignore[arg-type]

    env.live.offer = spy  # type: ignore[method-assign]
    try:
        streams = [await env.stream(i) for i in range(n)]
        await env.live.drain()
        judged = await env.metric("judged")
        assert await env.metric("no_text") == 0
    finally:
        await env.aclose()
    expected = {r: text for r, text in streams if is_sampled(r, share)}
    assert 0 < len(expected) < n and judged == len(expected)
    assert offered == expected  # only sampled streams were kept, each with what it delivered
