"""Two versions of ``ciyuan serve`` side by side in one run (issue #5): the working tree's
``src`` against another source tree (a ``git worktree`` of an earlier commit), both in front
of one sim-provider, rounds interleaved with the order reversed every other round.

Whole-benchmark runs an hour apart differ by more than most changes do here (the machine's
speed moves), so a change is judged by this pairwise run: each round measures both versions
within a minute of each other. Per round and version: an open loop at ``TARGET_RPS`` (CPU a
call, latency p50 / p99) and a closed loop at concurrency 16 (CPU a call, requests/s). The
gateways are pinned to CPU 1, the sim and the load to CPU 0, as in ``bench_gateway.py``.

    git worktree add /tmp/base <commit>
    cp src/ciyuan/store/_ledger_native*.so /tmp/base/src/ciyuan/store/   # same C module
    python benchmarks/bench_gateway_ab.py --base /tmp/base/src [--rounds 6]

With ``--pg postgresql://postgres@127.0.0.1:5432/test`` both gateways run on PostgreSQL
instead (a fresh database each, made on that server and dropped at the end); ``--rate``
sets the open loop's rate (PostgreSQL's round trips make 200/s too many for one worker
here).

Writes ``benchmarks/results/bench_gateway_ab.json`` (``--out`` to choose).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

from bench_gateway import TARGET_RPS, measure_closed, measure_open
from gateway_contenders import LOAD_CPU, start_ciyuan, start_sim
from gateway_load import Children

RESULTS = Path(__file__).parent / "results"
HERE_SRC = Path(__file__).resolve().parent.parent / "src"
OPEN_STEP_S = 6.0
CLOSED_CALLS = 800
CONCURRENCY = 16
METRICS = ("open_cpu_ms", "open_p50_ms", "open_p99_ms", "c16_cpu_ms", "c16_rps")


def _commit(src: Path) -> str:
    found = subprocess.run(["git", "-C", str(src), "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True, check=False)
    return found.stdout.strip() or "?"


class _Databases:
    """Fresh PostgreSQL databases on one server (None: each gateway's SQLite file)."""

    def __init__(self, server: str | None) -> None:
        self.server = server
        self.made: list[str] = []

    def new(self, name: str) -> str | None:
        if self.server is None:
            return None
        import psycopg

        database = f"bench_ab_{name}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        self.made.append(database)
        return f"{self.server.rpartition('/')[0]}/{database}"

    def drop(self) -> None:
        if self.server is None:
            return
        import psycopg

        with psycopg.connect(self.server, autocommit=True) as conn:
            for database in self.made:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--base", type=Path, required=True,
                        help="the other version's src directory (e.g. a git worktree's)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_gateway_ab.json")
    parser.add_argument("--pg", metavar="URL", default=None,
                        help="run both on PostgreSQL: a server URL where databases may be made")
    parser.add_argument("--rate", type=float, default=TARGET_RPS,
                        help=f"open-loop rate, req/s (default {TARGET_RPS})")
    args = parser.parse_args()
    if not (args.base / "ciyuan" / "__init__.py").is_file():
        parser.error(f"--base {args.base} is not a src directory with the ciyuan package")
    versions = {"base": args.base.resolve(), "new": HERE_SRC}
    children = Children()
    databases = _Databases(args.pg)
    rows: dict[str, dict[str, list[float]]] = {v: {m: [] for m in METRICS} for v in versions}
    try:
        os.sched_setaffinity(0, {LOAD_CPU})
        home = Path(tempfile.mkdtemp(prefix="ciyuan-bench-ab-"))
        sim = start_sim(children, home)
        gateways = {}
        for name, src in versions.items():
            os.environ["PYTHONPATH"] = str(src)  # the child imports ciyuan from there
            (home / name).mkdir()
            gateways[name] = start_ciyuan(children, home / name, sim,
                                          db_url=databases.new(name))
        os.environ.pop("PYTHONPATH")
        for gateway in gateways.values():  # warm: connections, caches, the first checkpoint
            measure_open(gateway, args.rate, 2, False)
        for turn in range(args.rounds):
            order = list(gateways) if turn % 2 == 0 else list(gateways)[::-1]
            for name in order:
                row = measure_open(gateways[name], args.rate, OPEN_STEP_S, False)
                rows[name]["open_cpu_ms"].append(row["cpu_s_per_1000"])
                rows[name]["open_p50_ms"].append(row["p50_ms"])
                rows[name]["open_p99_ms"].append(row["p99_ms"])
            for name in order:
                row = measure_closed(gateways[name], CLOSED_CALLS, CONCURRENCY, False)
                rows[name]["c16_cpu_ms"].append(row["cpu_s_per_1000"])
                rows[name]["c16_rps"].append(row["rps"])
            print(f"round {turn + 1}: " + "; ".join(
                f"{name} " + " ".join(f"{m} {rows[name][m][-1]:.2f}" for m in METRICS)
                for name in versions), flush=True)
    finally:
        children.stop_all()
        databases.drop()
    medians = {v: {m: statistics.median(rows[v][m]) for m in METRICS} for v in versions}
    wins = {m: sum((n < b) if m != "c16_rps" else (n > b)
                   for b, n in zip(rows["base"][m], rows["new"][m], strict=True))
            for m in METRICS}
    result: dict[str, Any] = {
        "setup": {"rounds": args.rounds, "open_rate": args.rate,
                  "store": "postgresql" if args.pg else "sqlite", "open_step_s": OPEN_STEP_S,
                  "closed_calls": CLOSED_CALLS, "concurrency": CONCURRENCY,
                  "base": {"src": str(versions["base"]), "commit": _commit(versions["base"])},
                  "new": {"src": str(HERE_SRC), "commit": _commit(HERE_SRC)}},
        "rows": rows, "medians": medians,
        "new_over_base": {m: medians["new"][m] / medians["base"][m] for m in METRICS},
        "rounds_new_better": wins}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for m in METRICS:
        print(f"{m:12s} base {medians['base'][m]:8.2f}  new {medians['new'][m]:8.2f}  "
              f"new/base {result['new_over_base'][m]:.2f}  (new better in {wins[m]} of "
              f"{args.rounds} rounds)")


if __name__ == "__main__":
    main()
