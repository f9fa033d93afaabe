"""Soak the ledger stores: the stateful test and the crash test, many times longer.

    python benchmarks/soak_ledger.py [--examples 2000] [--crash-trials 200] [--pg URL]

Runs ``tests/store/test_ledger_stateful.py`` with ``--examples`` Hypothesis examples per
store (``make test`` runs 120 on SQLite and 60 on PostgreSQL; each example is up to 60
steps) and ``tests/store/test_crash.py`` with ``--crash-trials`` kills per store (20 in
``make test``), on SQLite and, with ``--pg`` or CIYUAN_TEST_PG, on PostgreSQL. Prints the
step counts and kill statistics the tests report; the exit status is pytest's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--examples", type=int, default=2000,
                        help="Hypothesis examples per store (default 2000)")
    parser.add_argument("--crash-trials", type=int, default=200,
                        help="kill -9 trials per store (default 200; 0 skips the crash test)")
    parser.add_argument("--pg", default=os.environ.get("CIYUAN_TEST_PG", ""),
                        help="PostgreSQL URL (default: CIYUAN_TEST_PG; empty: SQLite only)")
    args = parser.parse_args()
    env = {**os.environ, "CIYUAN_STATEFUL_EXAMPLES": str(args.examples),
           "CIYUAN_CRASH_TRIALS": str(max(args.crash_trials, 5))}
    if args.pg:
        env["CIYUAN_TEST_PG"] = args.pg
    else:
        env.pop("CIYUAN_TEST_PG", None)
    tests = ["tests/store/test_ledger_stateful.py"]
    if args.crash_trials > 0:
        tests.append("tests/store/test_crash.py")
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
               "-o", "timeout=0", *tests]
    print(" ".join(command), file=sys.stderr)
    return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
