"""Live-traffic judging: a sampled share of completed calls graded by a judge, off the hot path.

After a chat call completes, :meth:`LiveJudge.offer` decides in O(1) whether it is in the
sample (``ciyuan.quality.live.is_sampled``) and, if so, puts (record, question, answer) on a
bounded queue — when the queue is full the sample is dropped and counted, never waited
for. One background task takes calls off the queue and grades each with the configured judge
and rubric by calling this same gateway app in-process with the judge's own API key: the judge
call is authenticated, held against that key's budgets, metered and billed like any call,
with purpose ``evaluation`` (so it is never sampled itself). The score goes to the judge-score
store, linked to the judged call's usage record.

Budget: when the gateway refuses a judge call for budget (HTTP 402), sampling stops for
:data:`BUDGET_PAUSE_S` — the samples offered meanwhile are counted as skipped — and then one
call probes again (a new budget period, or a raised budget, lets judging resume).
``ciyuan_live_judge_total{outcome}`` in ``/metrics`` counts every step.
Streamed calls are sampled the same way: when a stream begins, :meth:`LiveJudge.keeps_text`
tells the relay whether the call is in the sample, and only then does the relay keep the text
it delivers (at most the rubric's field bound) and offer it once the stream has completed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import openai
from prometheus_client import Counter
from starlette.types import ASGIApp

from ciyuan.core.records import UsageRecord
from ciyuan.gateway.metering import Gateway
from ciyuan.quality.judge import Judge
from ciyuan.quality.live import (
    JudgeScore,
    LiveJudgeConfig,
    call_text,
    is_sampled,
    live_judge_config,
)
from ciyuan.settings import Settings
from ciyuan.store.judge_scores import JudgeScoreStore

__all__ = ["BUDGET_PAUSE_S", "OUTCOMES", "LiveJudge", "attach_live_judge"]

_log = logging.getLogger("ciyuan.gateway.judging")
#: Seconds sampling stays stopped after the judge's budget refused a call: long enough not to
#: hammer an exhausted budget with refused calls, short enough to resume soon after a new
#: budget period opens or the budget is raised.
BUDGET_PAUSE_S = 60.0
#: Seconds one judge call may take before it counts as an error.
JUDGE_CALL_TIMEOUT_S = 120.0
#: What the metric counts: sampled (queued), no_text (in the sample, but without a question
#: or a visible answer to judge), dropped (queue full), skipped_budget (budget exhausted: not
#: judged), budget_exhausted (a judge call refused for budget), judged, verdict_error (judged,
#: but the reply had no valid verdict), error (the call failed).
OUTCOMES = ("sampled", "no_text", "dropped", "skipped_budget", "budget_exhausted", "judged",
            "verdict_error", "error")


@dataclass(frozen=True)
class _Job:
    record: UsageRecord
    question: str
    answer: str


class LiveJudge:
    """The sampler and its one background worker (started with the first sample)."""

    def __init__(self, config: LiveJudgeConfig, app: ASGIApp, store: JudgeScoreStore,
                 registry: Any, *, clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        assert config.enabled
        self.config = config
        self.store = store
        self._clock, self._now = clock, now
        self._http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                       base_url="http://ciyuan-gateway")
        client = openai.AsyncOpenAI(base_url="http://ciyuan-gateway/v1", api_key=config.key,
                                    http_client=self._http,  # type: ignore[arg-type]
                                    max_retries=0,
                                    timeout=JUDGE_CALL_TIMEOUT_S)
        self.judge = Judge(client, config.judge, config.rubric)
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(maxsize=config.queue)
        self._worker: asyncio.Task[None] | None = None
        self._paused_until = float("-inf")
        self.counts = Counter("ciyuan_live_judge", "Live-traffic judging by outcome",
                              ["outcome"], registry=registry)
        for outcome in OUTCOMES:
            self.counts.labels(outcome)  # every series exists from the start

    @property
    def paused(self) -> bool:
        return self._clock() < self._paused_until

    # -- on the request path: O(1), never waits ------------------------------------------
    def keeps_text(self, record: UsageRecord) -> bool:
        # paused or not: ``offer`` counts a sample skipped for budget
        return record.purpose != "evaluation" and is_sampled(record.id, self.config.share)

    def offer(self, record: UsageRecord, body: Mapping[str, Any],
              response: Mapping[str, Any]) -> None:
        if record.status != "completed" or not self.keeps_text(record):
            return
        if self.paused:
            self.counts.labels("skipped_budget").inc()
            return
        text = call_text(body, response)
        if text is None:
            self.counts.labels("no_text").inc()
            return
        try:
            self._queue.put_nowait(_Job(record, *text))
        except asyncio.QueueFull:
            self.counts.labels("dropped").inc()
            return
        self.counts.labels("sampled").inc()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work())

    # -- in the background -----------------------------------------------------------------
    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await self._grade(job)
            except Exception:  # noqa: BLE001 - a bug must not kill the worker
                _log.exception("live judging failed on %s", job.record.id)
                self.counts.labels("error").inc()
            finally:
                self._queue.task_done()

    async def _grade(self, job: _Job) -> None:
        if self.paused:
            self.counts.labels("skipped_budget").inc()
            return
        try:
            judged = await self.judge.grade(job.question, job.answer,
                                            task=f"live-judge:{job.record.id}")
        except openai.APIStatusError as exc:
            if exc.status_code == 402:
                self._paused_until = self._clock() + BUDGET_PAUSE_S
                self.counts.labels("budget_exhausted").inc()
            else:
                self.counts.labels("error").inc()
            return
        except openai.APIError:
            self.counts.labels("error").inc()
            return
        s = judged.score
        score = JudgeScore(job.record.id, job.record.tenant, s.judge, s.rubric, s.value,
                           s.passed, judged.usage_record, self._now(), s.error)
        await asyncio.to_thread(self.store.add, score)
        self.counts.labels("verdict_error" if s.error else "judged").inc()

    async def drain(self) -> None:
        """Wait until every queued sample is judged (tests, shutdown)."""
        await self._queue.join()

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self.judge.client.close()
        await self._http.aclose()


def attach_live_judge(gateway: Gateway, app: ASGIApp, settings: Settings,
                      env: Mapping[str, str]) -> LiveJudge | None:
    """Live judging as ``[quality.live_judge]`` of ciyuan.toml configures it (None: off),
    told of every completed call of ``gateway`` and calling ``app`` for its judgements."""
    config = live_judge_config(settings.section("quality"), env)
    if not config.enabled:
        return None
    from ciyuan.store.judge_scores import open_judge_score_store

    live = LiveJudge(config, app, open_judge_score_store(settings.db_url),
                     gateway.metrics.registry)
    gateway.completed = live
    return live
