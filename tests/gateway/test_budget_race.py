"""64 concurrent streams against a budget that fits about 10: spend never exceeds it
(SPEC invariant 4), on SQLite with one worker and on PostgreSQL with two."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import openai
import pytest
from gateway_procs import GatewayProcess, run_cli, run_cli_any, tenant_and_key

from ciyuan.core.usage import Usage
from ciyuan.price.api import default_pricer
from ciyuan.sim.process import SimProcess
from pg_database import fresh_pg_database

CALLS = 64
MAX_TOKENS = 200
PROMPT = "Summarise the token economy in one paragraph."


def _worst_case_usd() -> Decimal:
    """The reservation the gateway makes per call: input counted generously + max_tokens."""
    worst = Usage(input_tokens=40, output_tokens=MAX_TOKENS)
    return default_pricer().rate(worst, model="gpt-4o").total


async def _fire(url: str, key: str) -> tuple[int, int]:
    client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)

    async def one() -> bool:
        try:
            stream = await client.chat.completions.create(
                model="gpt-4o", max_tokens=MAX_TOKENS, stream=True,
                messages=[{"role": "user", "content": PROMPT}])
            async for _ in stream:
                pass
            return True
        except openai.APIStatusError as exc:
            assert exc.status_code == 402, exc
            return False

    results = await asyncio.gather(*(one() for _ in range(CALLS)))
    await client.close()
    return sum(results), CALLS - sum(results)


def _race(db_url: str, workers: int) -> None:
    budget = (_worst_case_usd() * 10).quantize(Decimal("0.000001"))
    key = tenant_and_key(db_url, "racer")
    run_cli(db_url, "budgets", "set", "--tenant", "racer", "--period", "month",
            "--amount", str(budget), "--currency", "USD")
    sim = SimProcess(["--models", "gpt-4o", "--ttft-ms", "50", "--tokens-per-s", "2000"])
    gateway = GatewayProcess(db_url, ["--workers", str(workers)])
    try:
        gateway.args += ["--upstream", f"sim={sim.start()}"]
        url = gateway.start()
        accepted, refused = asyncio.run(_fire(url, key))
    finally:
        gateway.stop()
        sim.stop()
    assert accepted >= 1 and refused >= 1 and accepted + refused == CALLS
    usage = run_cli(db_url, "usage", "--tenant", "racer")
    spent = Decimal(str(usage["cost"]["USD"]))  # type: ignore[index]
    assert usage["requests"] == accepted
    assert spent <= budget, f"spent {spent} > budget {budget}"
    (level,) = run_cli_any(db_url, "budgets", "show", "--tenant", "racer")  # type: ignore[misc]
    assert Decimal(level["spent"]) == spent <= Decimal(level["limit"])
    assert Decimal(level["reserved"]) == 0  # every hold was posted or released
    assert run_cli(db_url, "ledger", "verify")["ok"] is True


def test_sqlite_one_worker(tmp_path: Path) -> None:
    _race(f"sqlite:///{tmp_path}/race.db", workers=1)


@pytest.fixture()
def pg_url() -> Iterator[str]:
    with fresh_pg_database("ciyuan_race", "the PostgreSQL budget race") as url:
        yield url


def test_postgres_two_workers(pg_url: str) -> None:
    _race(pg_url, workers=2)
