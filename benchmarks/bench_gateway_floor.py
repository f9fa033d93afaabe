"""What part of ciyuan's added latency any Python gateway on its stack pays (issue #5).

At ``TARGET_RPS`` open-loop calls, rounds interleaved (order rotated), the same chat call
against (a) the sim-provider directly, (b) nginx ``proxy_pass``, (c) ``passthrough_app.py``:
uvicorn + uvloop + httptools + aiohttp forwarding each call with nothing else done (the
floor of this stack), and (d) ``ciyuan serve`` with metering, SQLite ledger and receipts.
Each proxy pinned to CPU 1, the sim and the load to CPU 0, as in ``bench_gateway.py``.
Reports added latency p50 / p99 over direct (median over rounds) and CPU-ms per call.

    python benchmarks/bench_gateway_floor.py [--rounds 5] [--step-s 8] [--stream]

Writes ``benchmarks/results/bench_gateway_floor.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_gateway import TARGET_RPS, measure_open, rotated
from gateway_contenders import PROXY_CPU, Contender, start_ciyuan, start_nginx, start_sim
from gateway_load import Children, free_port, wait_http

RESULTS = Path(__file__).parent / "results"
WARM_S = 2.0


def start_passthrough(children: Children, home: Path, sim: Contender) -> Contender:
    port = free_port()
    log = home / "passthrough.log"
    proc = children.start([sys.executable, str(Path(__file__).parent / "passthrough_app.py"),
                           str(port)], PROXY_CPU, log,
                          env={**os.environ, "PASSTHROUGH_UPSTREAM": sim.url}, cwd=home)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/ready", proc, log)
    return Contender("passthrough", url, pid=proc.pid,
                     version="uvicorn+uvloop+httptools+aiohttp, nothing else")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--step-s", type=float, default=8.0)
    parser.add_argument("--stream", action="store_true", help="streamed calls")
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_gateway_floor.json")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ciyuan-floor-"))
    children = Children()
    try:
        sim = start_sim(children, home)
        contenders = [sim]
        nginx = start_nginx(children, home, sim)
        if nginx is not None:
            contenders.append(nginx)
        contenders += [start_passthrough(children, home, sim), start_ciyuan(children, home, sim)]
        for c in contenders:
            measure_open(c, TARGET_RPS, WARM_S, args.stream)
        rows: dict[str, list[dict[str, float]]] = {c.name: [] for c in contenders}
        for turn in range(args.rounds):
            for c in rotated(contenders, turn):
                row = measure_open(c, TARGET_RPS, args.step_s, args.stream)
                rows[c.name].append(row)
                print(f"round {turn + 1} {c.name}: p50 {row['p50_ms']:.2f} p99 "
                      f"{row['p99_ms']:.2f} ms, {row['cpu_s_per_1000']:.2f} CPU-ms/call",
                      flush=True)
    finally:
        children.stop_all()
    median = {name: {k: statistics.median(r[k] for r in runs)
                     for k in ("p50_ms", "p99_ms", "cpu_s_per_1000")}
              for name, runs in rows.items()}
    direct = median["direct"]
    summary = {name: {"added_p50_ms": m["p50_ms"] - direct["p50_ms"],
                      "added_p99_ms": m["p99_ms"] - direct["p99_ms"],
                      "cpu_ms_per_call": m["cpu_s_per_1000"]}
               for name, m in median.items() if name != "direct"}
    print(f"\nadded over direct at {TARGET_RPS}/s ({'streamed' if args.stream else 'plain'}, "
          f"median of {args.rounds} rounds):")
    for name, s in summary.items():
        print(f"  {name:12s} p50 {s['added_p50_ms']:6.2f}  p99 {s['added_p99_ms']:6.2f} ms   "
              f"CPU {s['cpu_ms_per_call']:.2f} ms/call")
    if "passthrough" in summary and "ciyuan" in summary:
        floor, ours = summary["passthrough"], summary["ciyuan"]
        print(f"  ciyuan beyond the floor: p50 {ours['added_p50_ms'] - floor['added_p50_ms']:.2f}"
              f" ms, CPU {ours['cpu_ms_per_call'] - floor['cpu_ms_per_call']:.2f} ms/call")
    out = json.loads(args.out.read_text()) if args.out.exists() else {}
    out["streamed" if args.stream else "plain"] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rate": TARGET_RPS,
        "rounds": args.rounds, "step_s": args.step_s, "median": median, "added": summary,
        "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
