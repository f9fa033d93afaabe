"""The crash test's writer process: submits ``crash_workload`` batches until killed.

    python crash_writer.py DB_URL FIRST_BATCH LOG_FILE

Writes ``ready`` once the store is open, ``attempt I`` before submitting batch ``I`` and
``done I <results>`` after it returned, each line flushed, to LOG_FILE.
"""

from __future__ import annotations

import itertools
import sys

from crash_workload import ACCOUNTS, batch

from ciyuan.store.open import open_ledger_store


def main(db_url: str, first: int, log_path: str) -> None:
    store = open_ledger_store(db_url)
    with open(log_path, "a", encoding="utf-8", buffering=1) as log:
        assert set(store.create_accounts(ACCOUNTS)) == {"ok"}
        log.write("ready\n")
        for i in itertools.count(first):
            log.write(f"attempt {i}\n")
            results = store.submit(batch(i))
            log.write(f"done {i} {','.join(results)}\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
