"""Counting throughput: ciyuan vs raw tiktoken, side by side in one run.

    python benchmarks/bench_measure.py [--size-mb 10] [--rounds 5] [--big-gb 1]

* Same encoding (o200k_base), same ~10 MB mixed corpus (the four calibration files repeated).
* Rounds interleave the contenders; the result is the median of per-round ratios, so drift of
  a noisy machine hits both sides alike.
* Contenders: raw ``tiktoken.Encoding.encode`` (baseline, single thread); ``ciyuan.count``
  on one thread (the whole pipeline: language class, native and standard count); ciyuan's
  batch mode on 2 threads (safe-boundary chunks); ciyuan's streaming file path
  (``Measurer.count_stream``, what ``ciyuan count FILE`` runs).
* ``--big-gb``: a generated file of that size counted by ``ciyuan count`` in a child
  process; its peak RSS is read from the kernel (ru_maxrss of the child).
Targets (issue #2): single-thread ratio ≥ 0.9, batch ≥ 1.7× raw single-thread, 1 GB under
200 MB peak RSS.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _offline_tiktoken import raw_encoding  # noqa: E402

from ciyuan.catalog.models import load_catalog  # noqa: E402
from ciyuan.measure.calibration import corpus_text  # noqa: E402
from ciyuan.measure.measurer import Measurer  # noqa: E402
from ciyuan.measure.registry import TokenizerRegistry  # noqa: E402

RESULTS = Path(__file__).parent / "results"
WORK = Path(__file__).parent / ".work"


def corpus(size_mb: float) -> str:
    base = "".join(corpus_text(lang) for lang in ("zh", "en", "code", "mixed"))
    repeats = int(size_mb * 1e6 // len(base.encode("utf-8"))) + 1
    return base * repeats


def blocks(data: bytes, size: int = 1 << 20) -> Iterator[bytes]:
    """The bytes in 1 MiB blocks, as ``ciyuan count FILE`` reads a file."""
    reader = io.BytesIO(data)
    while block := reader.read(size):
        yield block


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def throughput(args: argparse.Namespace) -> dict[str, object]:
    text = corpus(args.size_mb)
    size_mb = len(text.encode("utf-8")) / 1e6
    enc = raw_encoding("o200k_base")
    catalog, registry = load_catalog(), TokenizerRegistry()
    single = Measurer(catalog, registry, threads=1)
    batch = Measurer(catalog, registry, threads=2)
    single.count("warm up", "gpt-4o")
    data = text.encode("utf-8")
    contenders: dict[str, Callable[[], int]] = {
        "raw_tiktoken": lambda: len(enc.encode(text)),
        "ciyuan_count": lambda: single.count(text, "gpt-4o").native_tokens,
        "ciyuan_batch_2threads": lambda: batch.count_tokens(text, batch.standard, threads=2),
        "ciyuan_stream_file": lambda: single.count_stream(
            blocks(data), ["gpt-4o"]
        )[0].native_tokens,
    }
    times: dict[str, list[float]] = {k: [] for k in contenders}
    counts: dict[str, int] = {}
    for _ in range(args.rounds):
        for name, fn in contenders.items():
            seconds, n = timed(fn)
            times[name].append(seconds)
            counts[name] = n
    assert len(set(counts.values())) == 1, f"counts differ: {counts}"
    ratios = {
        name: statistics.median(b / o for b, o in zip(times["raw_tiktoken"], t, strict=True))
        for name, t in times.items()
    }
    return {
        "corpus_mb": round(size_mb, 2),
        "tokens": counts["raw_tiktoken"],
        "rounds": args.rounds,
        "median_seconds": {k: round(statistics.median(v), 4) for k, v in times.items()},
        "throughput_ratio_vs_raw": {k: round(v, 3) for k, v in ratios.items()},
    }


def big_file(gb: float) -> dict[str, object]:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"big-{gb}gb.txt"
    block = corpus(4).encode("utf-8")
    target = int(gb * 1024**3)
    if not path.exists() or path.stat().st_size != target:
        with open(path, "wb") as fh:
            written = 0
            while written < target:
                piece = block[: target - written]
                fh.write(piece)
                written += len(piece)
    runs = []
    for models in (["gpt-4o"], ["gpt-4o", "qwen-plus", "deepseek-chat"]):
        flags = [f for m in models for f in ("-m", m)]
        # a child per configuration, so ru_maxrss is that child's own peak
        probe = (
            "import json,resource,subprocess,sys,time;"
            "t=time.perf_counter();"
            "out=subprocess.run(sys.argv[1:],check=True,capture_output=True).stdout;"
            "print(json.dumps({'seconds':time.perf_counter()-t,"
            "'peak_kb':resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
            "'rows':json.loads(out)}))"
        )
        cmd = [sys.executable, "-c", probe, sys.executable, "-m", "ciyuan", "count", *flags,
               "--json", "--errors", "replace", str(path)]
        report = json.loads(subprocess.run(cmd, check=True, capture_output=True).stdout)
        runs.append({
            "models": models,
            "native_tokens": [r["native_tokens"] for r in report["rows"]],
            "standard_tokens": report["rows"][0]["standard_tokens"],
            "seconds": round(report["seconds"], 1),
            "mb_per_second": round(target / 1e6 / report["seconds"], 2),
            "peak_rss_mb": round(report["peak_kb"] / 1024, 1),
        })
    return {"file_bytes": target, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--big-gb", type=float, default=1.0, help="0 to skip")
    args = parser.parse_args()
    result: dict[str, object] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "throughput": throughput(args),
    }
    print(json.dumps(result, indent=2))
    if args.big_gb > 0:
        result["big_file"] = big_file(args.big_gb)
        print(json.dumps(result["big_file"], indent=2))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "bench_measure.json"
    if "big_file" not in result and out.exists():  # keep the last big-file run
        previous = json.loads(out.read_text())
        if "big_file" in previous:
            result["big_file"] = previous["big_file"]
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
