"""Two gateway workers on one SQLite file, each with its own writer connection: what a
worker remembers of the chains it wrote (ledger journal head, a tenant's receipt-chain head,
``SqliteWriter.remembered``) must give way to the other's commits, so the ledger verifies and
the tenant's receipts still form one chain."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from gateway_procs import GatewayProcess, run_cli, run_cli_any, tenant_and_key

from ciyuan.receipt.token import decode_unverified
from ciyuan.sim.process import SimProcess

ROUNDS = 10
CALLS_A_ROUND = 16  # new connections each round: both workers accept some


async def _receipts(url: str, key: str) -> list[str]:
    receipts: list[str] = []
    async def call(client: httpx.AsyncClient, text: str) -> httpx.Response:
        body = {"model": "gpt-4o", "max_tokens": 32,
                "messages": [{"role": "user", "content": text}]}
        return await client.post("/v1/chat/completions", json=body,
                                 headers={"authorization": f"Bearer {key}"})

    for round_ in range(ROUNDS):
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            responses = await asyncio.gather(*(call(client, f"Round {round_}, call {n}")
                                               for n in range(CALLS_A_ROUND)))
        assert [r.status_code for r in responses] == [200] * CALLS_A_ROUND, [
            r.text for r in responses if r.status_code != 200]
        receipts += [r.headers["x-ciyuan-receipt"] for r in responses]
    return receipts


def test_two_workers_keep_one_ledger_chain_and_one_receipt_chain(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/w.db"
    key = tenant_and_key(db_url, "acme")
    run_cli(db_url, "budgets", "set", "--tenant", "acme", "--period", "month",
            "--amount", "100", "--currency", "USD")
    sim = SimProcess(["--models", "gpt-4o"])
    gateway = GatewayProcess(db_url, ["--workers", "2"])
    try:
        gateway.args += ["--upstream", f"sim={sim.start()}"]
        url = gateway.start()
        receipts = asyncio.run(_receipts(url, key))
        pem = httpx.get(f"{url}/api/receipts/public-key").json()["public_key_pem"]
    finally:
        gateway.stop()
        sim.stop()
    calls = ROUNDS * CALLS_A_ROUND
    assert run_cli(db_url, "ledger", "verify")["ok"] is True
    assert run_cli(db_url, "usage", "--tenant", "acme")["requests"] == calls
    ordered = sorted(receipts, key=lambda token: decode_unverified(token).seq)
    (tmp_path / "receipts.txt").write_text("\n".join(ordered) + "\n")
    (tmp_path / "gateway.pem").write_text(pem)
    chain = run_cli_any(db_url, "receipt", "verify-chain", "--public-key",
                        str(tmp_path / "gateway.pem"), str(tmp_path / "receipts.txt"))
    assert chain == {"valid": True, "tenant": "acme", "count": calls, "first_seq": 1,
                     "last_seq": calls, "head_sha256": chain["head_sha256"]}  # type: ignore[index]
