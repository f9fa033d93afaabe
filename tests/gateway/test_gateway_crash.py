"""Crash test: the gateway is kill -9'ed under load, restarted, then reconciled against the
simulated provider's log. Every request the provider served ends up counted exactly once."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from gateway_procs import GatewayProcess, run_cli, tenant_and_key

from ciyuan.sim.process import SimProcess

TRIALS = 10
CLIENTS = 8
KILL_AFTER_S = (0.5, 2.5)
#: Longest wait for a trial's first completed call before its kill clock starts.
FIRST_CALL_WAIT_S = 30.0


def _client_loop(url: str, key: str, stop: threading.Event, seed: int, sent: list[str]) -> None:
    rng = random.Random(seed)
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            body = {"model": rng.choice(["gpt-4o", "qwen-plus"]), "max_tokens": 120,
                    "messages": [{"role": "user", "content": f"q{rng.random()}"}],
                    "stream": rng.random() < 0.5}
            headers = {"authorization": f"Bearer {key}"}
            if rng.random() < 0.3:
                headers["idempotency-key"] = f"k{seed}-{rng.randrange(10**9)}"
            for _ in range(2):  # a retry with the same Idempotency-Key
                try:
                    with client.stream("POST", f"{url}/v1/chat/completions", json=body,
                                       headers=headers) as response:
                        for _ in response.iter_bytes():
                            pass
                    sent.append(headers.get("idempotency-key", ""))
                    break
                except httpx.HTTPError:
                    if stop.is_set():
                        return
                    time.sleep(0.05)


@pytest.mark.slow
def test_kill_minus_nine_then_reconcile(tmp_path: Path) -> None:
    db = tmp_path / "ciyuan.db"
    db_url = f"sqlite:///{db}"
    key = tenant_and_key(db_url, "crashy")
    log = tmp_path / "sim.jsonl"
    sim = SimProcess(["--models", "gpt-4o,qwen-plus", "--log", str(log), "--ttft-ms", "20",
                      "--tokens-per-s", "3000"])
    sim_url = sim.start()
    rng = random.Random(20261122)
    sent: list[str] = []
    try:
        for trial in range(TRIALS):
            gateway = GatewayProcess(db_url, ["--upstream", f"sim={sim_url}"])
            url = gateway.start()
            stop = threading.Event()
            threads = [threading.Thread(target=_client_loop,
                                        args=(url, key, stop, trial * 100 + i, sent))
                       for i in range(CLIENTS)]
            before = len(sent)
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + FIRST_CALL_WAIT_S  # a loaded machine starts slowly:
            while len(sent) == before and time.monotonic() < deadline:  # kill once it serves
                time.sleep(0.02)
            time.sleep(rng.uniform(*KILL_AFTER_S))
            assert gateway.proc is not None
            gateway.proc.send_signal(signal.SIGKILL)
            gateway.proc.wait(10)
            stop.set()
            for thread in threads:
                thread.join(30)
            gateway.stop()
    finally:
        sim.stop()  # flushes the provider's log
    export = tmp_path / "export.csv"
    with open(export, "w") as out:
        subprocess.run([sys.executable, "-m", "ciyuan", "sim-provider", "export", "--log",
                        str(log), "--format", "csv"], stdout=out, check=True, timeout=60)
    report = run_cli(db_url, "reconcile", "--provider", "sim", "--file", str(export), "--apply")
    assert report

    served = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    served = [s for s in served if s.get("status") == 200]
    assert len(served) > TRIALS, "too little traffic to test anything"
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = {r["id"]: r for r in conn.execute("SELECT * FROM usage_records")}
    # every served request is one usage record, counted (completed or reconciled) once
    ids = [s["client_request_id"] for s in served]
    assert all(ids) and len(ids) == len(set(ids)), "a record was sent upstream twice"
    for entry in served:
        record = rows.get(entry["client_request_id"])
        assert record is not None, f"served {entry['request_id']} has no usage record"
        assert record["status"] in ("completed", "reconciled"), dict(record)
        if entry.get("complete", True) and record["status"] == "reconciled":
            assert record["output_tokens"] == entry["usage"]["output_tokens"]
    # nothing served is missing, and records never double-count a served request
    counted = [r for r in rows.values() if r["status"] in ("completed", "reconciled")]
    assert {r["id"] for r in counted} >= set(ids)
    recovered = sum(1 for r in counted if r["status"] == "reconciled")
    print(f"{TRIALS} kills, {len(sent)} client calls finished, {len(served)} served, "
          f"{recovered} recovered by reconcile")
    assert run_cli(db_url, "ledger", "verify")["ok"] is True
