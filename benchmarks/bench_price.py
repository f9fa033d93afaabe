"""Rating throughput: ciyuan vs LiteLLM's ``cost_per_token``, side by side in one run.

The same 100,000 usage records (mixed models, cached and reasoning tokens, some above the
200K long-context threshold) are rated by ciyuan in this process and by LiteLLM 1.104.5 in a
worker process of the throw-away venv (outside the project), in interleaved rounds; each side
times only its rating loop, including building its own usage object per record. Totals must
agree to 1e-12 USD on every record (LiteLLM returns binary floats; ours are exact decimals).

    python3 -m venv /work/litellm-venv && /work/litellm-venv/bin/pip install litellm==1.104.5
    python benchmarks/bench_price.py [--records 100000] [--rounds 3]

Writes benchmarks/results/bench_price.json and bench_price.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from ciyuan.core.usage import Usage
from ciyuan.price import default_pricer

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
AT = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
TOLERANCE = Decimal("1e-12")
#: our model id → whether it reasons; LiteLLM keys come from the price book (`litellm`)
MODELS = {
    "gpt-4o": False, "gpt-4o-mini": False, "gpt-4.1": False, "gpt-4.1-mini": False,
    "o3": True, "o4-mini": True, "gpt-5": True, "gpt-5-mini": True,
    "claude-sonnet-4-5": False, "claude-haiku-4-5": False, "gemini-2.5-pro": True,
    "gemini-2.5-flash": True, "deepseek-chat": False, "deepseek-reasoner": True,
}

WORKER = r'''
import json, sys, time
from litellm import cost_per_token
from litellm.types.utils import CompletionTokensDetailsWrapper, PromptTokensDetailsWrapper, Usage
records = json.load(open(sys.argv[1]))
def run():
    out = []
    start = time.perf_counter()
    for key, inp, cached, output, reasoning in records:
        usage = Usage(prompt_tokens=inp, completion_tokens=output, total_tokens=inp + output,
                      prompt_tokens_details=PromptTokensDetailsWrapper(cached_tokens=cached),
                      completion_tokens_details=CompletionTokensDetailsWrapper(
                          reasoning_tokens=reasoning))
        prompt, completion = cost_per_token(model=key, usage_object=usage)
        out.append(prompt + completion)
    return time.perf_counter() - start, out
for line in sys.stdin:
    seconds, totals = run()
    print(json.dumps({"seconds": seconds, "totals": [repr(t) for t in totals]}), flush=True)
'''


def make_records(n: int, seed: int) -> list[list[Any]]:
    """[our model, litellm key, input, cached, output, reasoning] per record."""
    rng = random.Random(seed)
    book = default_pricer().book
    keys = {m: book.at(m, AT, "USD").litellm for m in MODELS}
    names = list(MODELS)
    records = []
    for _ in range(n):
        model = rng.choice(names)
        long_context = model.startswith(("gemini-2.5-pro", "claude-sonnet")) and \
            rng.random() < 0.05
        inputs = rng.randint(200_001, 400_000) if long_context else rng.randint(50, 60_000)
        cached = inputs * rng.choice((0, 0, 25, 50, 90)) // 100
        output = rng.randint(0, 8000)
        reasoning = output * rng.randint(0, 90) // 100 if MODELS[model] else 0
        records.append([model, keys[model], inputs, cached, output, reasoning])
    return records


def rate_ours(records: list[list[Any]]) -> tuple[float, list[Decimal]]:
    pricer = default_pricer()
    rate = pricer.rate
    totals = []
    start = time.perf_counter()
    for model, _key, inputs, cached, output, reasoning in records:
        usage = Usage(input_tokens=inputs, cached_input_tokens=cached, output_tokens=output,
                      reasoning_tokens=reasoning)
        totals.append(rate(usage, model=model, at=AT).total)
    return time.perf_counter() - start, totals


def start_worker(python: str, path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}
    return subprocess.Popen([python, "-c", WORKER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)


def ask(worker: subprocess.Popen[str]) -> dict[str, Any]:
    assert worker.stdin is not None and worker.stdout is not None
    worker.stdin.write("run\n")
    worker.stdin.flush()
    line = worker.stdout.readline()
    if not line:
        raise SystemExit("the LiteLLM worker died; is litellm installed in --litellm-python?")
    result: dict[str, Any] = json.loads(line)
    return result


def compare(ours: list[Decimal], theirs: list[str]) -> tuple[int, Decimal, Decimal, Decimal]:
    worst, total_ours, total_theirs, bad = Decimal(0), Decimal(0), Decimal(0), 0
    for a, text in zip(ours, theirs, strict=True):
        b = Decimal(text)
        worst = max(worst, abs(a - b))
        bad += abs(a - b) > TOLERANCE
        total_ours += a
        total_theirs += b
    return bad, worst, total_ours, total_theirs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--litellm-python", default="/work/litellm-venv/bin/python")
    args = parser.parse_args()
    records = make_records(args.records, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.json"
        path.write_text(json.dumps([r[1:] for r in records]))
        worker = start_worker(args.litellm_python, path)
        rate_ours(records[:2000])  # warm both sides once, untimed
        ask(worker)
        ours_s, theirs_s = [], []
        for number in range(1, args.rounds + 1):
            seconds, ours = rate_ours(records)
            ours_s.append(seconds)
            result = ask(worker)
            theirs_s.append(result["seconds"])
            print(f"round {number}: ciyuan {len(records) / seconds:,.0f}/s, "
                  f"LiteLLM {len(records) / result['seconds']:,.0f}/s", flush=True)
        assert worker.stdin is not None
        worker.stdin.close()
        worker.wait(timeout=60)
    bad, worst, total_ours, total_theirs = compare(ours, result["totals"])
    write_results(args, records, ours_s, theirs_s, bad, worst, total_ours, total_theirs)
    return 1 if bad else 0


def litellm_version(python: str) -> str:
    out = subprocess.run([python, "-c", "import importlib.metadata as m; "
                          "print(m.version('litellm'))"], capture_output=True, text=True,
                         check=True, timeout=120)
    return out.stdout.strip()


def write_results(args: argparse.Namespace, records: list[list[Any]], ours_s: list[float],
                  theirs_s: list[float], bad: int, worst: Decimal, total_ours: Decimal,
                  total_theirs: Decimal) -> None:
    n = len(records)
    ours_rate, theirs_rate = n / statistics.median(ours_s), n / statistics.median(theirs_s)
    ratio = ours_rate / theirs_rate
    data = {
        "benchmark": "bench_price", "date": dt.date.today().isoformat(),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
        "records": n, "rounds": args.rounds, "seed": args.seed,
        "models": sorted(MODELS), "litellm": litellm_version(args.litellm_python),
        "ciyuan_seconds": ours_s, "litellm_seconds": theirs_s,
        "ciyuan_records_per_s": round(ours_rate), "litellm_records_per_s": round(theirs_rate),
        "throughput_ratio": round(ratio, 2),
        "mismatches_over_1e-12": bad, "max_abs_difference": str(worst),
        "total_ciyuan_usd": str(total_ours), "total_litellm_usd": str(total_theirs),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_price.json").write_text(json.dumps(data, indent=2) + "\n")
    (RESULTS / "bench_price.md").write_text(
        f"**Rating (bench_price.py, {data['date']}).** The same {n:,} usage records "
        f"({len(MODELS)} OpenAI, Anthropic, Google and DeepSeek models; cached input on most, "
        f"reasoning tokens on the reasoning models, 5 % of Gemini 2.5 Pro and Claude Sonnet "
        f"4.5 calls above the 200K-token tier) were rated {args.rounds} times, interleaved, by "
        f"ciyuan (`Pricer.rate`, exact decimals, itemized lines with rules) and by LiteLLM "
        f"{data['litellm']}'s `cost_per_token` (a worker in a throw-away venv, local price "
        f"map); each side timed its own loop, building its usage object per record. Median "
        f"throughput: ciyuan {ours_rate:,.0f} records/s, LiteLLM {theirs_rate:,.0f} "
        f"records/s — **{ratio:.1f}×** (target ≥ 5×). Totals agreed on every record to "
        f"1e-12 USD ({bad} mismatches; largest difference {worst:.2E} USD, from LiteLLM's "
        f"binary floats; sums {total_ours:.6f} vs {total_theirs:.6f} USD). "
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}.\n")
    print(json.dumps(data, indent=2))


if __name__ == "__main__":
    sys.exit(main())
