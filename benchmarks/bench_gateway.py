"""Gateway overhead, side by side in one run (issue #5): the same chat calls against
(a) the sim-provider directly (the floor), (b) nginx ``proxy_pass``, (c) the LiteLLM proxy
and (d) ``ciyuan serve`` (metering, SQLite ledger budgets, signed receipts), all in front of
one ``ciyuan sim-provider`` answering 48 tokens with no added latency.

    python benchmarks/bench_gateway.py [--quick] [--rounds 5] [--litellm PATH]
    python benchmarks/bench_gateway.py --profile     # cProfile of ciyuan serve under load

Setup: each proxy pinned to CPU 1 (``taskset -c 1``), the sim and this load generator to
CPU 0. Load: one asyncio process with a lean HTTP/1.1 keep-alive pool
(``gateway_client.py``; httpx was the bottleneck), identical for every contender; latency
is to the last byte (streams too). Phases, contenders interleaved (order rotated each round):

1. **Closed loop** at concurrency 1, 16 and 64, plain and streamed, ``--rounds`` rounds:
   latency p50/p99, requests/s, and the proxy's CPU-seconds per 1,000 requests
   (utime+stime of its process tree from /proc, workers included).
2. **Open-loop ladder**: calls due at a fixed rate (``RATES``) for ``--step-s`` seconds,
   latency counted from the instant each call was due. A rate is *sustained* when achieved
   ≥ ``ACHIEVED_SHARE`` × offered, at most ``MAX_FAILED_SHARE`` of calls failed, and
   p99 ≤ ``P99_BOUND_MS``. A failed step is run once more (the machine is shared). Where a
   contender's ladder stops, its knee is narrowed by ``REFINE_STEPS`` bisections (geometric
   midpoints, each run the same way) between the last rate it sustained and the one it
   did not, so every contender's **sustainable rate** (the highest rate sustained) is known
   to within the same factor (about x1.1), not the ladder's x1.5.
3. **Fixed rate**: ``--rounds`` rounds at ``TARGET_RPS`` (or at a contender's sustainable
   rate when that is lower, said in the results), each next to the sim called directly at
   the same rate in the same round: added latency p50/p99 = contender - direct, median over
   rounds.

Writes ``benchmarks/results/bench_gateway.json`` and ``bench_gateway.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gateway_contenders import (
    LOAD_CPU,
    Contender,
    start_ciyuan,
    start_litellm,
    start_nginx,
    start_sim,
)
from gateway_load import Children, OpenResult, closed_loop, open_loop, pct, tree_cpu_seconds
from gateway_report import markdown, profile_report, summarize

RESULTS = Path(__file__).parent / "results"
#: Offered rates of the open-loop ladder (req/s), about x1.5 apart.
RATES = (25, 50, 75, 100, 150, 200, 300, 400, 600, 800, 1200, 1600)
QUICK_RATES = (25, 50, 100, 200, 400, 800)
#: The issue's target load for the added-latency figures.
TARGET_RPS = 200
#: Sustained: nearly all offered calls completed in time ...
ACHIEVED_SHARE = 0.95
#: ... nearly none failed ...
MAX_FAILED_SHARE = 0.005
#: ... and the tail stays bounded (a queue growing for a whole step blows far past this).
P99_BOUND_MS = 250.0
#: Bisections of the interval where a contender's ladder stopped.
REFINE_STEPS = 2
CONCURRENCIES = (1, 16, 64)
#: Closed-loop requests per cell: at least this many, and at least 3 per worker.
MIN_REQUESTS = 120
DEFAULT_LITELLM = Path("/work/litellm-venv/bin/litellm")


def rotated(items: list[Contender], turn: int) -> Iterator[Contender]:
    """``items`` starting at ``turn`` (so no contender always goes first)."""
    for i in range(len(items)):
        yield items[(i + turn) % len(items)]


def measure_closed(c: Contender, n: int, concurrency: int, stream: bool) -> dict[str, float]:
    cpu0 = tree_cpu_seconds(c.pid) if c.pid else 0.0
    latencies, wall = asyncio.run(closed_loop(c.url, c.headers, n, concurrency, stream))
    cpu = (tree_cpu_seconds(c.pid) - cpu0) if c.pid else 0.0
    return {"p50_ms": pct(latencies, 0.5) * 1000, "p99_ms": pct(latencies, 0.99) * 1000,
            "rps": n / wall, "cpu_s_per_1000": cpu / n * 1000}


def measure_open(c: Contender, rate: float, step_s: float, stream: bool) -> dict[str, Any]:
    cpu0 = tree_cpu_seconds(c.pid) if c.pid else 0.0
    result = asyncio.run(open_loop(c.url, c.headers, rate, step_s, stream))
    cpu = (tree_cpu_seconds(c.pid) - cpu0) if c.pid else 0.0
    row = {k: (None if v == float("inf") else v) for k, v in result.__dict__.items()}
    return {**row, "sustained": sustained(result), "cpu_s_per_1000": cpu / result.sent * 1000}


def sustained(result: OpenResult) -> bool:
    return (result.achieved_rps >= ACHIEVED_SHARE * result.offered_rps
            and result.failed <= MAX_FAILED_SHARE * result.sent
            and result.p99_ms <= P99_BOUND_MS)


def closed_phase(contenders: list[Contender], rounds: int, scale: float) -> dict[str, object]:
    cells: dict[str, dict[str, list[dict[str, float]]]] = {}
    for turn in range(rounds):
        for concurrency in CONCURRENCIES:
            n = max(int(MIN_REQUESTS * scale), 3 * concurrency)
            for stream in (False, True):
                case = f"c{concurrency}-{'stream' if stream else 'plain'}"
                for c in rotated(contenders, turn):
                    row = measure_closed(c, n, concurrency, stream)
                    cells.setdefault(case, {}).setdefault(c.name, []).append(row)
                print(f"closed round {turn + 1} {case}: " + ", ".join(
                    f"{name} {rows[-1]['rps']:.0f}/s p50 {rows[-1]['p50_ms']:.1f}ms"
                    for name, rows in cells[case].items()), flush=True)
    return cells  # type: ignore[return-value]


def ladder_step(c: Contender, rate: float, step_s: float, stream: bool,
                steps: list[dict[str, Any]]) -> bool:
    """One open-loop step at ``rate`` (run twice if it fails); whether it was sustained."""
    row = measure_open(c, rate, step_s, stream)
    if not row["sustained"]:  # once more: one noisy step is not a knee
        steps.append(row)
        row = measure_open(c, rate, step_s, stream)
    steps.append(row)
    print(f"ladder {'stream' if stream else 'plain'} {rate:.0f}/s {c.name}: achieved "
          f"{row['achieved_rps']:.0f}/s p99 {row['p99_ms']:.0f}ms failed {row['failed']:.0f}"
          f" client cpu {row['client_cpu_share']:.2f}"
          f" {'ok' if row['sustained'] else 'NOT sustained'}", flush=True)
    return bool(row["sustained"])


def ladder_phase(contenders: list[Contender], rates: tuple[int, ...], step_s: float
                 ) -> dict[str, object]:
    out: dict[str, object] = {}
    for stream in (False, True):
        mode = "stream" if stream else "plain"
        steps: dict[str, list[dict[str, Any]]] = {c.name: [] for c in contenders}
        best: dict[str, float] = {c.name: 0 for c in contenders}
        alive = list(contenders)
        for turn, rate in enumerate(rates):
            for c in list(rotated(alive, turn)):
                if ladder_step(c, rate, step_s, stream, steps[c.name]):
                    best[c.name] = rate
                    continue
                alive.remove(c)
                low, high = best[c.name], float(rate)
                for _ in range(REFINE_STEPS if low else 0):  # narrow the knee
                    middle = round((low * high) ** 0.5)
                    if ladder_step(c, middle, step_s, stream, steps[c.name]):
                        low = best[c.name] = middle
                    else:
                        high = middle
            if not alive:
                break
        out[mode] = {"sustainable_rps": best, "steps": steps,
                     "ladder_topped_out": [c.name for c in alive]}
    return out


def fixed_phase(contenders: list[Contender], direct: Contender, ladder: dict[str, object],
                rounds: int, step_s: float) -> dict[str, object]:
    out: dict[str, object] = {}
    for stream in (False, True):
        mode = "stream" if stream else "plain"
        best = ladder[mode]["sustainable_rps"]  # type: ignore[index]
        rate_of = {c.name: min(TARGET_RPS, best[c.name]) or min(RATES) for c in contenders}
        rows: dict[str, list[dict[str, Any]]] = {c.name: [] for c in contenders}
        floor: dict[float, list[dict[str, Any]]] = {}
        for turn in range(rounds):
            for c in rotated(contenders, turn):
                rows[c.name].append(measure_open(c, rate_of[c.name], step_s, stream))
            for rate in sorted(set(rate_of.values())):
                floor.setdefault(rate, []).append(measure_open(direct, rate, step_s, stream))
            print(f"fixed {mode} round {turn + 1}: " + ", ".join(
                f"{n} @{rate_of[n]}/s p50 {r[-1]['p50_ms']:.1f} p99 {r[-1]['p99_ms']:.1f}ms"
                for n, r in rows.items()), flush=True)
        out[mode] = {"rate": rate_of, "rows": rows,
                     "direct_at": {str(k): v for k, v in floor.items()}}
    return out


def run(args: argparse.Namespace) -> dict[str, object]:
    children = Children()
    home = Path(tempfile.mkdtemp(prefix="ciyuan-bench-gw-"))
    try:
        os.sched_setaffinity(0, {LOAD_CPU})
        sim = start_sim(children, home)
        proxies = [p for p in (start_nginx(children, home, sim),
                               start_litellm(children, home, sim, args.litellm),
                               start_ciyuan(children, home, sim)) if p is not None]
        contenders = [sim, *proxies]
        for c in contenders:  # warm up: connections, imports, caches, the first receipt
            measure_closed(c, 30, 4, False)
            measure_closed(c, 30, 4, True)
        scale = 0.34 if args.quick else 1.0
        rounds = args.rounds or (2 if args.quick else 5)
        step_s = args.step_s or (1.0 if args.quick else 2.0)
        started = time.perf_counter()
        closed = closed_phase(contenders, rounds, scale)
        ladder = ladder_phase(contenders, QUICK_RATES if args.quick else RATES, step_s)
        fixed = fixed_phase(contenders, sim, ladder, rounds, step_s)
        return {
            "date": time.strftime("%Y-%m-%d"), "machine": f"{os.cpu_count()} vCPU, shared",
            "python": sys.version.split()[0], "quick": args.quick, "rounds": rounds,
            "step_s": step_s, "versions": {c.name: c.version for c in contenders},
            "load_generator": "one asyncio process, lean HTTP/1.1 keep-alive pool "
                              "(gateway_client.py), CPU 0 with the sim",
            "criteria": {"achieved_share": ACHIEVED_SHARE, "max_failed_share": MAX_FAILED_SHARE,
                         "p99_bound_ms": P99_BOUND_MS, "target_rps": TARGET_RPS},
            "seconds": round(time.perf_counter() - started),
            "raw": {"closed": closed, "ladder": ladder, "fixed": fixed},
        }
    finally:
        children.stop_all()


def profile(args: argparse.Namespace) -> None:
    """ciyuan serve under cProfile, 600 calls at concurrency 16 (half streamed)."""
    children = Children()
    home = Path(tempfile.mkdtemp(prefix="ciyuan-bench-gw-prof-"))
    stats = home / "ciyuan.prof"
    try:
        os.sched_setaffinity(0, {LOAD_CPU})
        sim = start_sim(children, home)
        ciyuan = start_ciyuan(children, home, sim, profile=stats)
        for stream in (False, True):
            measure_closed(ciyuan, 300, 16, stream)
    finally:
        children.stop_all()
    text = profile_report(stats)
    (RESULTS / "bench_gateway_profile.txt").write_text(text)
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run (~2 minutes)")
    parser.add_argument("--rounds", type=int, default=0, help="rounds (default 5, quick 2)")
    parser.add_argument("--step-s", type=float, default=0.0,
                        help="seconds per open-loop step (default 2, quick 1)")
    parser.add_argument("--litellm", type=Path, default=DEFAULT_LITELLM,
                        help="the litellm proxy executable (skipped when missing)")
    parser.add_argument("--profile", action="store_true",
                        help="profile ciyuan serve instead of the comparison")
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_gateway.json")
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C does, so the finally blocks stop every child process; and
    # Ctrl-C raises even where the shell started us with SIGINT ignored (a background job)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.profile:
        profile(args)
        return
    results = run(args)
    results["summary"] = summarize(results)
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, allow_nan=False) + "\n")
    table = markdown(results)
    args.out.with_suffix(".md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
