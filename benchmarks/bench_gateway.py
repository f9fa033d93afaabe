"""Gateway overhead, first slice: the simulated provider called directly (the floor) vs
through ``ciyuan serve`` (metering, ledger budgets on SQLite, receipts), side by side.

    python benchmarks/bench_gateway.py [--rounds 5] [--requests 200] [--concurrency 1,16]

Each round sends the same non-stream and streamed chat requests to both targets, interleaved,
from one asyncio httpx client; the gateway is pinned to CPU 1 and the sim and the client to
CPU 0 with ``taskset`` when available. Reported: added latency over direct (p50, p99, median of
per-round values), throughput ratio, and the gateway's CPU-seconds per 1,000 requests (from
/proc/PID/stat). Not yet here (issue #5): nginx proxy_pass and the LiteLLM proxy as further
baselines, and the open-loop search for the sustainable rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "gateway"))
from gateway_procs import GatewayProcess, run_cli, tenant_and_key  # noqa: E402

from ciyuan.sim.process import SimProcess  # noqa: E402

RESULTS = Path(__file__).parent / "results"
BODY = {"model": "gpt-4o", "max_tokens": 64,
        "messages": [{"role": "user", "content": "How are tokens priced?"}]}


def _pin(pid: int, cpu: int) -> None:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        os.system(f"taskset -a -p -c {cpu} {pid} > /dev/null 2>&1")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _load(url: str, key: str, n: int, concurrency: int, stream: bool) -> list[float]:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    body = {**BODY, "stream": stream}
    latencies: list[float] = []
    queue = list(range(n))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        async def worker() -> None:
            while queue:
                queue.pop()
                start = time.perf_counter()
                async with client.stream("POST", "/v1/chat/completions", json=body,
                                         headers=headers) as response:
                    async for _ in response.aiter_bytes():
                        pass
                    assert response.status_code == 200, response.status_code
                latencies.append(time.perf_counter() - start)
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", default="1,16")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ciyuan-bench-gw-"))
    db_url = f"sqlite:///{home}/ciyuan.db"
    key = tenant_and_key(db_url, "bench")
    run_cli(db_url, "budgets", "set", "--tenant", "bench", "--period", "month",
            "--amount", "1000000", "--currency", "USD")
    sim = SimProcess(["--models", "gpt-4o"])
    sim_url = sim.start()
    gateway = GatewayProcess(db_url, ["--upstream", f"sim={sim_url}"])
    gw_url = gateway.start()
    assert sim.proc is not None and gateway.proc is not None
    _pin(sim.proc.pid, 0)
    _pin(os.getpid(), 0)
    _pin(gateway.proc.pid, 1)
    results: dict[str, object] = {"date": time.strftime("%Y-%m-%d"),
                                  "machine": f"{os.cpu_count()} cores", "rounds": args.rounds,
                                  "requests_per_round": args.requests, "cases": {}}
    try:
        asyncio.run(_load(gw_url, key, 20, 1, False))  # warm up both paths
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            for stream in (False, True):
                p50s, p99s, ratios, cpus = [], [], [], []
                for _ in range(args.rounds):
                    t0 = time.perf_counter()
                    direct = asyncio.run(_load(sim_url, "", args.requests, concurrency, stream))
                    t1 = time.perf_counter()
                    cpu0 = _cpu_seconds(gateway.proc.pid)
                    via = asyncio.run(_load(gw_url, key, args.requests, concurrency, stream))
                    t2 = time.perf_counter()
                    cpus.append((_cpu_seconds(gateway.proc.pid) - cpu0) / args.requests * 1000)
                    p50s.append((_pct(via, 0.5) - _pct(direct, 0.5)) * 1000)
                    p99s.append((_pct(via, 0.99) - _pct(direct, 0.99)) * 1000)
                    ratios.append((t1 - t0) / (t2 - t1))
                case = f"c{concurrency}-{'stream' if stream else 'plain'}"
                results["cases"][case] = {  # type: ignore[index]
                    "added_latency_ms_p50": round(statistics.median(p50s), 3),
                    "added_latency_ms_p99": round(statistics.median(p99s), 3),
                    "throughput_ratio_gateway_vs_direct": round(statistics.median(ratios), 3),
                    "gateway_cpu_s_per_1000_requests": round(statistics.median(cpus), 3),
                }
                print(case, json.dumps(results["cases"][case]))  # type: ignore[index]
    finally:
        gateway.stop()
        sim.stop()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_gateway.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
