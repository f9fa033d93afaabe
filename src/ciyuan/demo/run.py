"""``ciyuan demo``: all of ciyuan, end to end, offline, in a few minutes.

1. a fresh SQLite database and a demo ``ciyuan.toml`` in ``--out``;
2. the sim-provider and the gateway as real processes on loopback, the gateway simulating
   time so that ``--days`` days of traffic pass as fast as the machine serves them (each call
   says its instant in ``X-Ciyuan-Simulated-Time``: see ``ciyuan.core.clock``);
3. tenants in several sectors, agents, keys and budgets (one tight enough to refuse calls),
   a two-part tariff and a token pack;
4. the traffic, through the real gateway with the ``openai`` SDK: chat and streaming, English
   and Chinese, declared purposes, a few injected upstream faults; then a few outcome reports
   (``POST /v1/outcomes``, by request id and by task: see ``ciyuan.demo.outcomes``);
5. the period closed: invoices issued, the sim-provider's usage export reconciled, the month's
   statistical release published, and the totals checked against each other.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ciyuan.core.clock import SIMULATED_TIME_HEADER
from ciyuan.core.records import RECORD_HEADER
from ciyuan.demo.outcomes import plan_reports, send_reports, valued_in_month
from ciyuan.demo.scenario import AGENTS, GRACE, MODELS, TENANTS, Call, config_toml, schedule
from ciyuan.gateway.process import GatewayProcess
from ciyuan.sim.process import SimProcess
from ciyuan.stats.partitions import month_bounds, month_of, shift_month

__all__ = ["DemoOptions", "DemoResult", "run_demo"]

#: Calls in flight at once (the gateway and the sim-provider share two cores with the driver).
CONCURRENCY = 8
#: The tenant whose key pays for the demo's model evaluations.
EVAL_TENANT = "evallab"
#: Share of upstream calls the sim-provider fails on purpose (429 and 500).
FAULT_RATE = "0.02"


@dataclass(frozen=True)
class DemoOptions:
    out: Path
    days: int = 45
    calls: int = 1200
    seed: int = 7
    eval_items: int = 320  # of the built-in suite, per model (spread over every task class)


@dataclass
class DemoResult:
    month: str
    outcomes: Counter[str] = field(default_factory=Counter)
    release: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, Any] = field(default_factory=dict)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    reconcile: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    evaluated: dict[str, int] = field(default_factory=dict)  # model -> items scored
    reported: dict[str, int] = field(default_factory=dict)  # outcome reports stored, by kind
    reported_value: Decimal = Decimal(0)  # USD reported about the month's calls
    paths: dict[str, Path] = field(default_factory=dict)


def _ciyuan(out: Path, *args: str) -> Any:
    """A ciyuan command on the demo's database and config, in a child process; its JSON."""
    command = [sys.executable, "-m", "ciyuan", "--db", f"sqlite:///{out / 'ciyuan.db'}",
               "--config", str(out / "ciyuan.toml"), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"`ciyuan {' '.join(args)}` failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout) if "--json" in args else done.stdout


def _fresh(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in ("ciyuan.db", "ciyuan.db-wal", "ciyuan.db-shm", "sim.log", "sim-traffic.log",
                 "sim-export.csv"):
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / "releases", ignore_errors=True)


def _setup(out: Path, start: dt.datetime, month_start: dt.datetime) -> dict[str, str]:
    """Tenants, agents, keys, budgets and a token pack; the key of every agent."""
    from ciyuan.admin.directory import Directory
    from ciyuan.billing import Billing
    from ciyuan.billing.budgets import Level, LevelKind
    from ciyuan.billing.wallets import to_nano
    from ciyuan.store.identity import open_identity_store
    from ciyuan.store.open import open_ledger_store

    url = f"sqlite:///{out / 'ciyuan.db'}"
    directory = Directory(open_identity_store(url))
    keys: dict[str, str] = {}
    ledger = open_ledger_store(url)
    billing = Billing(ledger, now=lambda: start)
    try:
        for tenant in TENANTS:
            directory.create_tenant(tenant.name, tenant_id=tenant.id, sector=tenant.sector,
                                    region=tenant.region)
            if tenant.budget_usd is not None:
                for at in sorted({start, month_start}):
                    billing.set_budget(Level(LevelKind.TENANT, tenant.id), "month",
                                       to_nano(tenant.budget_usd), "USD", at=at)
        for agent in AGENTS:
            directory.add_agent(agent.tenant, agent.id, team=agent.team)
            issued = directory.issue_key(agent.tenant, name=agent.id, team=agent.team,
                                         agent=agent.id)
            keys[f"{agent.tenant}/{agent.id}"] = issued.secret
        billing.buy_pack("eduhub", "qwen-plus", 200_000, month_start + dt.timedelta(days=60))
        directory.create_tenant("Model Evaluation Lab", tenant_id=EVAL_TENANT,
                                sector="education")
        keys[EVAL_TENANT] = directory.issue_key(EVAL_TENANT, name="evaluator").secret
    finally:
        directory.store.close()
        ledger.close()
    return keys


async def _drive(url: str, calls: Sequence[Call], keys: dict[str, str],
                 tick: Callable[[str], None]) -> tuple[Counter[str], dict[int, str]]:
    """Send the calls; their outcomes, and the usage-record id of each served one (by index)."""
    import openai
    from openai.types.chat import ChatCompletionMessageParam

    clients = {k: openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=v, max_retries=0,
                                     timeout=60) for k, v in keys.items()}
    gate = asyncio.Semaphore(CONCURRENCY)
    outcomes: Counter[str] = Counter()
    served: dict[int, str] = {}

    async def one(index: int, call: Call) -> None:
        agent = call.agent
        headers = {"x-ciyuan-agent": agent.id,
                   SIMULATED_TIME_HEADER: call.at.isoformat()}
        if agent.purpose:
            headers["x-ciyuan-purpose"] = agent.purpose
        if call.task:
            headers["x-ciyuan-task"] = call.task
        client = clients[f"{agent.tenant}/{agent.id}"]
        async with gate:
            try:
                messages: list[ChatCompletionMessageParam] = [
                    {"role": "system", "content": "You are a careful assistant."},
                    {"role": "user", "content": call.prompt}]
                if call.stream:
                    streamed = await client.chat.completions.with_raw_response.create(
                        model=call.model, messages=messages, stream=True,
                        max_tokens=300, extra_headers=headers,
                        stream_options={"include_usage": True})
                    async for _ in streamed.parse():
                        pass
                    record_id = streamed.headers[RECORD_HEADER]
                else:
                    answered = await client.chat.completions.with_raw_response.create(
                        model=call.model, messages=messages, max_tokens=300,
                        extra_headers=headers)
                    answered.parse()
                    record_id = answered.headers[RECORD_HEADER]
                served[index] = record_id
                outcome = "served"
            except openai.APIStatusError as exc:
                outcome = {402: "refused: budget", 429: "upstream fault 429",
                           502: "upstream fault", 503: "upstream fault"}.get(
                    exc.status_code, f"error {exc.status_code}")
            except openai.APIError as exc:
                outcome = f"error {type(exc).__name__}"
        outcomes[outcome] += 1
        tick(outcome)

    try:
        await asyncio.gather(*(one(i, c) for i, c in enumerate(calls)))
    finally:
        for client in clients.values():
            await client.close()
    return outcomes, served


def _evaluate(url: str, key: str, out: Path, items: int) -> dict[str, int]:
    """The built-in suite (every k-th item, down to ``items``) on each demo model, through the
    gateway: the quality behind the release's price-performance table."""
    from ciyuan.quality.builtin import DATA
    from ciyuan.quality.runner import EvalOptions, run_eval
    from ciyuan.quality.suites import Suite, load_suite

    suite = load_suite(DATA / "builtin.jsonl")
    step = max(1, len(suite.items) // max(1, items))
    subset = Suite(suite.name, suite.version, suite.items[::step][:items], suite.source)
    shutil.rmtree(out / "eval-results", ignore_errors=True)
    return {model: run_eval(subset, EvalOptions(model, f"{url}/v1", key, out / "eval-results",
                                                CONCURRENCY)).scored for model, _ in MODELS}


def _stop_on_sigterm() -> None:
    """SIGTERM becomes SystemExit, so the ``finally`` blocks stop the processes the demo
    started instead of leaving them behind."""
    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def run_demo(options: DemoOptions, progress: Callable[[int, int, str], None]) -> DemoResult:
    """Run the whole demo; ``progress(done, total, what)`` is called along the way."""
    _stop_on_sigterm()
    from ciyuan.catalog.models import load_catalog
    from ciyuan.price.api import pricer_from_config
    from ciyuan.settings import load_settings
    from ciyuan.stats.energy import load_deployments
    from ciyuan.stats.publish import publish

    out = options.out.resolve()
    _fresh(out)
    # The run ends where the last month whose grace for late usage has passed ends, so its
    # invoices can be issued today (in the first days of a month that is the month before last).
    now = dt.datetime.now(dt.UTC) - GRACE
    end = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=options.days)
    month = shift_month(month_of(end), -1)  # the last whole month of the run
    month_start = month_bounds(month)[0]
    (out / "ciyuan.toml").write_text(config_toml(month_start.date()), "utf-8")
    result = DemoResult(month=month)
    progress(0, options.calls, "setting up tenants, keys and budgets")
    keys = _setup(out, start, month_start)

    calls = schedule(start, options.days, options.calls, options.seed)
    sim = SimProcess(["--seed", str(options.seed), "--log", str(out / "sim.log"),
                      "--fault-rate", FAULT_RATE, "--faults", "429,500",
                      "--models", "gpt-4o,gpt-4o-mini,qwen-plus,deepseek-chat"])
    gateway = GatewayProcess(f"sqlite:///{out / 'ciyuan.db'}", ["--port", "0", "--simulated-time"],
                             config=out / "ciyuan.toml")
    try:
        gateway.args += ["--upstream", f"sim={sim.start()}"]
        url = gateway.start()
        done = 0

        def tick(outcome: str) -> None:
            nonlocal done
            done += 1
            progress(done, options.calls, outcome)

        result.outcomes, served = asyncio.run(_drive(url, calls, keys, tick))
        progress(options.calls, options.calls, "reporting outcomes")
        reports = plan_reports(calls, served, options.seed)
        result.reported = send_reports(url, reports, keys)
        result.reported_value = valued_in_month(reports, month)
        # the provider's log of the month's traffic, before the evaluation adds to it
        shutil.copyfile(out / "sim.log", out / "sim-traffic.log")
        progress(options.calls, options.calls, "evaluating the models")
        result.evaluated = _evaluate(url, keys[EVAL_TENANT], out, options.eval_items)
    finally:
        gateway.stop()
        sim.stop()

    progress(options.calls, options.calls, "closing the period")
    result.usage = _ciyuan(out, "usage", "--month", month, "--json")
    result.invoices = _ciyuan(out, "invoice", "--month", month, "--issue", "--json")["documents"]
    _ciyuan(out, "sim-provider", "export", "--log", str(out / "sim-traffic.log"), "--format", "csv",
            "-o", str(out / "sim-export.csv"))
    result.reconcile = _ciyuan(out, "reconcile", "--provider", "sim", "--file",
                               str(out / "sim-export.csv"), "--from", start.isoformat(),
                               "--to", end.isoformat(), "--json")
    settings = load_settings({"db_url": f"sqlite:///{out / 'ciyuan.db'}",
                              "config_path": str(out / "ciyuan.toml")}, {})
    catalog = load_catalog(settings.config)
    publication = publish(month=month, out=out / "releases",
                          pricer=pricer_from_config(settings.config, catalog), catalog=catalog,
                          db_url=settings.db_url, base=start.strftime("%Y-%m"),
                          deployments=load_deployments(settings.config),
                          quality_results=out / "eval-results")
    result.release = publication.release
    result.paths = {"release": publication.directory / "index.html",
                    "database": out / "ciyuan.db", "config": out / "ciyuan.toml",
                    "export": out / "sim-export.csv"}
    result.checks = _checks(result)
    return result


def _checks(result: DemoResult) -> dict[str, bool]:
    """The release, ``ciyuan usage`` and the invoices tell the same totals."""
    headline = result.release["headline"]
    usage = result.usage
    native = sum(usage["tokens"][c] for c in ("input", "output"))
    invoiced = sum(int(line["quantity"]) for doc in result.invoices for line in doc["lines"]
                   if line.get("unit") == "token")
    return {
        "release requests = ciyuan usage": headline["requests"]["value"] == usage["requests"],
        "release native tokens = ciyuan usage": headline["native_tokens"]["value"] == native,
        "release standard tokens = ciyuan usage": headline["standard_tokens"]["value"] == sum(
            usage["standard_tokens"].values()),
        "release native tokens = invoiced token quantities": (
            invoiced == headline["native_tokens"]["value"]),
        "provider export = our records (nothing missing, extra or mismatched)": all(
            result.reconcile["summary"][k]["count"] == 0
            for k in ("missing", "extra", "mismatched")),
        "release value = accepted and partial values reported for the month's calls": (
            release_value(result.release) == result.reported_value),
    }


def release_value(release: dict[str, Any]) -> Decimal:
    """The USD value the release's value-per-token table counts."""
    table = release["tables"]["value_per_token"]
    at = table["columns"].index("value")
    return sum((Decimal(r[at]) for r in table["rows"] if r[0] == "USD"), Decimal(0))
