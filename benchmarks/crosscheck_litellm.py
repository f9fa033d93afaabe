"""Cross-check ciyuan's shipped price book against LiteLLM's full price JSON.

LiteLLM is pinned at 1.104.5 in a throw-away venv outside the project::

    python3 -m venv /work/litellm-venv
    /work/litellm-venv/bin/pip install litellm==1.104.5
    python benchmarks/crosscheck_litellm.py [--litellm-python /work/litellm-venv/bin/python]

The script asks that interpreter where LiteLLM's bundled
``model_prices_and_context_window_backup.json`` is, reads it with exact decimals, and
compares every model we price in USD that LiteLLM lists. Every difference must be explained
in docs/prices.md; the script exits 1 if one is not. Results go to
benchmarks/results/bench_price_crosscheck.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

from ciyuan.price import default_pricer
from ciyuan.price.crosscheck import crosscheck, summarize
from ciyuan.price.litellm import load_litellm_file

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "prices.md"
RESULTS = ROOT / "benchmarks" / "results" / "bench_price_crosscheck.json"
FIND = ("import importlib.metadata as m, os, litellm; "
        "print(m.version('litellm')); "
        "print(os.path.join(os.path.dirname(litellm.__file__), "
        "'model_prices_and_context_window_backup.json'))")


def locate(python: str) -> tuple[str, Path]:
    out = subprocess.run([python, "-c", FIND], check=True, capture_output=True, text=True,
                         env={"LITELLM_LOCAL_MODEL_COST_MAP": "True"}, timeout=300)
    version, path = out.stdout.strip().splitlines()[-2:]
    return version, Path(path)


def explained_models() -> set[str]:
    """Models named in the differences table of docs/prices.md."""
    section = DOC.read_text("utf-8").split("## Differences from LiteLLM", 1)[1].split("\n## ")[0]
    return set(re.findall(r"^\| `([^`]+)` \|", section, re.M))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--litellm-python", default="/work/litellm-venv/bin/python")
    parser.add_argument("--at", default=dt.date.today().isoformat(),
                        help="compare the versions in force on this day (default today)")
    args = parser.parse_args()
    version, path = locate(args.litellm_python)
    data = load_litellm_file(path)
    at = dt.datetime.fromisoformat(args.at).replace(tzinfo=dt.UTC)
    rows = crosscheck(default_pricer().book, data, at)
    counts = summarize(rows)
    unexplained = [r.model for r in rows if r.status == "different"
                   and r.model not in explained_models()]
    for row in rows:
        detail = "; ".join(str(d) for d in row.differences)
        print(f"{row.status:13} {row.model:28} {row.litellm_key or '-':50} {detail}")
    print(json.dumps({"litellm": version, **counts, "unexplained": unexplained}))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "litellm_version": version,
        "file": str(path.name),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "entries": len(data),
        "compared_at": at.date().isoformat(),
        "counts": counts,
        "unexplained": unexplained,
        "rows": [r.to_dict() for r in rows],
    }, indent=2, ensure_ascii=False) + "\n")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
