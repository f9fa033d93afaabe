"""The demo's outcome reports: a few agents say what became of some of their calls.

After the traffic, reports go to ``POST /v1/outcomes`` on the real gateway, each at a simulated
instant a little after the call it is about (``X-Ciyuan-Simulated-Time``): by request id (the
``X-Ciyuan-Usage-Record`` header of the call's response) for some served calls, and by task id
for the demo's tasks. Most are ``accepted`` with a value in USD, some ``partial`` with a
smaller one, some ``rejected`` with none. Everything is drawn from the seed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ciyuan.core.clock import SIMULATED_TIME_HEADER
from ciyuan.demo.scenario import Call
from ciyuan.stats.partitions import month_of

__all__ = ["REPORTERS", "Report", "plan_reports", "send_reports", "valued_in_month"]

#: Agents that report outcomes (the others never say what became of their calls).
REPORTERS = ("coder", "analyst", "support-bot")
#: Reports by request id: a few dozen at most, so the demo's run time stays the same.
MAX_RECORD_REPORTS = 20
#: A report arrives between ten minutes and a day and a half after its call.
_DELAY_S = (600, 36 * 3600)
#: Values of an accepted call, in cents (0.01 to 0.50 USD: a drafted reply, a fixed test).
_VALUE_CENTS = (1, 50)
#: Per request, the reporting client's timeout (loopback; the gateway answers in milliseconds).
_TIMEOUT_S = 30


@dataclass(frozen=True)
class Report:
    id: str  # its Idempotency-Key
    key: str  # tenant/agent whose key reports
    at: dt.datetime  # simulated instant it is sent
    body: dict[str, str]
    months: frozenset[str]  # every month with a served call it is about


def _kind(rng: random.Random) -> tuple[str, Decimal | None]:
    draw = rng.random()
    cents = Decimal(rng.randint(*_VALUE_CENTS)).scaleb(-2)
    if draw < 0.6:
        return "accepted", cents
    if draw < 0.8:
        return "partial", (cents / 2).quantize(Decimal("0.01"))
    return "rejected", None


def _report(rng: random.Random, subject: dict[str, str], calls: Sequence[Call],
            index: int) -> Report:
    kind, value = _kind(rng)
    body = {**subject, "outcome": kind}
    if value is not None:
        body |= {"value": str(value), "currency": "USD"}
    call = calls[0]
    return Report(f"demo-outcome-{index}", f"{call.agent.tenant}/{call.agent.id}",
                  max(c.at for c in calls) + dt.timedelta(seconds=rng.randint(*_DELAY_S)),
                  body, frozenset(month_of(c.at) for c in calls))


def plan_reports(calls: Sequence[Call], served: Mapping[int, str], seed: int) -> list[Report]:
    """The reports, in the order they are sent (simulated time): ``served`` maps the index of
    each served call in ``calls`` to its usage-record id."""
    rng = random.Random(seed * 7919 + 1)  # its own stream: the traffic does not move
    eligible = [i for i in sorted(served) if calls[i].agent.id in REPORTERS and not calls[i].task]
    chosen = sorted(rng.sample(eligible, min(MAX_RECORD_REPORTS, len(eligible))))
    reports = [_report(rng, {"request_id": served[i]}, [calls[i]], n)
               for n, i in enumerate(chosen)]
    tasks: dict[str, list[Call]] = {}
    for i in sorted(served):
        if calls[i].task:
            tasks.setdefault(calls[i].task, []).append(calls[i])
    for task, members in sorted(tasks.items()):
        reports.append(_report(rng, {"task_id": task}, members, len(reports)))
    return sorted(reports, key=lambda r: r.at)


def send_reports(url: str, reports: Sequence[Report], keys: Mapping[str, str]) -> dict[str, int]:
    """Send every report to the gateway; how many were stored, by outcome."""
    import httpx

    stored: dict[str, int] = {}
    with httpx.Client(base_url=url, timeout=_TIMEOUT_S) as client:
        for report in reports:
            reply = client.post("/v1/outcomes", json=report.body, headers={
                "Authorization": f"Bearer {keys[report.key]}", "Idempotency-Key": report.id,
                SIMULATED_TIME_HEADER: report.at.isoformat()})
            if reply.status_code not in (200, 201):
                raise RuntimeError(f"outcome report refused: {reply.status_code} {reply.text}")
            kind = report.body["outcome"]
            stored[kind] = stored.get(kind, 0) + 1
    return stored


def valued_in_month(reports: Sequence[Report], month: str) -> Decimal:
    """The values reported about calls of ``month`` (a task's: any of its calls), in USD."""
    return sum((Decimal(r.body["value"]) for r in reports
                if "value" in r.body and month in r.months), Decimal(0))
