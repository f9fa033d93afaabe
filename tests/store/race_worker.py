"""The race test's worker process: many single reservations against one budget.

    python race_worker.py DB_URL WORKER COUNT AMOUNT GO_FILE OUT_FILE

Opens the store, writes ``ready`` to OUT_FILE, waits until GO_FILE exists (so all workers
start together), submits COUNT one-transfer batches, each a PENDING transfer of AMOUNT from
``budget`` to ``spend``, and writes the results as JSON to OUT_FILE.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ciyuan.ledger import Transfer, TransferFlags
from ciyuan.store.open import open_ledger_store

#: How long a worker waits for the go signal before giving up.
GO_TIMEOUT_S = 60.0


def main(db_url: str, worker: int, count: int, amount: int, go: Path, out: Path) -> None:
    store = open_ledger_store(db_url)
    try:
        out.write_text("ready")
        deadline = time.monotonic() + GO_TIMEOUT_S
        while not go.exists():
            assert time.monotonic() < deadline, "no go signal"
            time.sleep(0.002)
        results = []
        for n in range(count):
            hold = Transfer(f"w{worker}-{n}", "budget", "spend", amount,
                            flags=TransferFlags.PENDING, timeout_s=3600)
            results += store.submit([hold])
        out.write_text(json.dumps(results))
    finally:
        store.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]),
         Path(sys.argv[6]))
