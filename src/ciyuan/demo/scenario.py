"""The demo's world: tenants, agents, models, prompts and the schedule of a month of calls.

Everything is drawn from one seeded random generator, so the same ``--seed`` and ``--days``
give the same traffic (the answers come from the seeded sim-provider).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, replace

from ciyuan.invoice.period import DEFAULT_GRACE as GRACE  # the demo waits as long as invoices do

__all__ = ["AGENTS", "GRACE", "MODELS", "PRICE_CUT_MODEL", "TASK_AGENT", "TENANTS", "Call",
           "config_toml", "schedule"]


@dataclass(frozen=True)
class DemoTenant:
    id: str
    name: str
    sector: str
    region: str
    budget_usd: str | None  # a monthly budget, or none


@dataclass(frozen=True)
class DemoAgent:
    tenant: str
    id: str
    team: str
    purpose: str  # what its calls declare ("" = nothing declared)
    weight: int  # share of the traffic
    stream_share: float
    language: str  # "en" | "zh" | "mixed"


TENANTS = (
    DemoTenant("acme", "Acme Software", "software", "cn-east", None),
    DemoTenant("fincorp", "Fincorp Bank", "finance", "cn-north", "4.00"),
    DemoTenant("eduhub", "EduHub", "education", "cn-south", "0.05"),  # runs out: 402s
    DemoTenant("cityhall", "City Hall", "government", "cn-east", None),
)
AGENTS = (
    DemoAgent("acme", "coder", "eng", "productive", 30, 0.5, "en"),
    DemoAgent("acme", "support-bot", "support", "consumptive", 20, 0.3, "zh"),
    DemoAgent("fincorp", "analyst", "research", "productive", 15, 0.2, "mixed"),
    DemoAgent("fincorp", "evaluator", "research", "evaluation", 5, 0.0, "en"),
    DemoAgent("eduhub", "tutor", "learning", "consumptive", 15, 0.6, "zh"),
    DemoAgent("cityhall", "clerk", "services", "", 15, 0.2, "zh"),  # declares nothing
)
#: Models the sim-provider serves and the gateway prices, with traffic weights.
MODELS = (("gpt-4o", 25), ("gpt-4o-mini", 25), ("qwen-plus", 25), ("deepseek-chat", 25))
#: The demo's price book cuts this model's list price when the release month starts, so the
#: price index has something to measure.
PRICE_CUT_MODEL = "deepseek-chat"

PROMPTS = {
    "en": ["Summarise the attached quarterly report in three bullet points.",
           "Write a Python function that validates an IBAN and explain it.",
           "Draft a polite reply to a customer whose order arrived late.",
           "What are the trade-offs between SQLite and PostgreSQL for a small team?",
           "Explain how token-based pricing of language models works."],
    "zh": ["请用三句话总结这份季度报告的要点。",
           "帮我给迟到的订单写一封礼貌的道歉信。",
           "解释一下大模型按词元计费的原理。",
           "这个学生的作文有哪些语法错误？请逐条指出。",
           "办理居住证需要准备哪些材料？"],
    "mixed": ["请分析 Q3 revenue 的 YoY growth，并给出 risk factors。",
              "Compare 贷款 default rates across regions and 总结 the drivers."],
}


#: The agent whose calls come in tasks of two (X-Ciyuan-Task), reported on as a whole.
TASK_AGENT = "coder"
#: Tasks of that agent: a few, so the outcome reports stay a few dozen.
TASKS = 6


@dataclass(frozen=True)
class Call:
    at: dt.datetime  # the simulated instant it is sent
    agent: DemoAgent
    model: str
    stream: bool
    prompt: str
    task: str = ""  # X-Ciyuan-Task, or none


def _instant(rng: random.Random, start: dt.datetime, days: int) -> dt.datetime:
    """Busier in working hours (Beijing time) and on weekdays."""
    while True:
        at = start + dt.timedelta(seconds=rng.uniform(0, days * 86400))
        local_hour = (at.hour + 8) % 24
        weight = (1.0 if 9 <= local_hour < 18 else 0.35) * (
            1.0 if (at + dt.timedelta(hours=8)).weekday() < 5 else 0.5)
        if rng.random() < weight:
            return at


def schedule(start: dt.datetime, days: int, calls: int, seed: int) -> list[Call]:
    """``calls`` calls spread over ``days`` days from ``start``, in time order."""
    rng = random.Random(seed)
    agents = [a for a in AGENTS for _ in range(a.weight)]
    models = [m for m, w in MODELS for _ in range(w)]
    out = []
    for _ in range(calls):
        agent = rng.choice(agents)
        out.append(Call(_instant(rng, start, days), agent, rng.choice(models),
                        rng.random() < agent.stream_share,
                        rng.choice(PROMPTS[agent.language])))
    ordered = sorted(out, key=lambda c: c.at)
    coder = [i for i, c in enumerate(ordered) if c.agent.id == TASK_AGENT]
    step = max(2, len(coder) // TASKS)  # pairs of consecutive calls, spread over the run
    for k, first in enumerate(range(0, len(coder) - 1, step)[:TASKS]):
        for i in coder[first: first + 2]:
            ordered[i] = replace(ordered[i], task=f"{TASK_AGENT}-task-{k + 1}")
    return ordered


def config_toml(cut_from: dt.date) -> str:
    """The demo's ciyuan.toml: a two-part tariff for acme, a price cut, a deployment."""
    return f"""# Written by `ciyuan demo`: demo data, not real prices.
[invoice]
issuer = "DEMO"
grace_days = {GRACE.days}

[invoice.tenants.acme]
plan = "team"

[plans.team]
currency = "USD"
description = "Two-part tariff: 20 USD a month with 1M tokens included, 3 USD per million after"

[[plans.team.charges]]
kind = "two_part"
name = "team"
fee = "20.00"
included = 1000000
meter = "tokens"
overage_unit_price = "3.00"

[[prices."{PRICE_CUT_MODEL}"]]
currency = "USD"
effective_from = "2025-01-01"
effective_to = "{cut_from.isoformat()}"
source = "ciyuan demo: the price before the simulated cut"
retrieved = "{cut_from.isoformat()}"
cached_input = "0.028"
input = "0.28"
output = "0.42"

[[prices."{PRICE_CUT_MODEL}"]]
currency = "USD"
effective_from = "{cut_from.isoformat()}"
source = "ciyuan demo: a simulated price cut"
retrieved = "{cut_from.isoformat()}"
cached_input = "0.028"
input = "0.20"
output = "0.30"

[[deployments]]
name = "demo-h100-node"
models = ["qwen-plus"]
power_kw = "10.2"
tokens_per_second = "2400"
boundary = "facility"
pue = "1.3"
"""
