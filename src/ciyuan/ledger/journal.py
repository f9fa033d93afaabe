"""The journal's hash chain: canonical JSON of each entry and SHA-256 links between them.

``hash[n] = sha256(hash[n-1] + canonical_json(entry[n]))`` (hex digests, UTF-8), starting from
:data:`GENESIS_HASH`. The canonical JSON has sorted keys, no spaces and includes the entry's
sequence number, so an edited, deleted, inserted or reordered entry breaks the chain from that
entry on; :func:`verify_chain` names the first one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from ciyuan.ledger.engine import EntryKind
from ciyuan.ledger.errors import LedgerJournalTamperedError
from ciyuan.ledger.model import Transfer

__all__ = ["GENESIS_HASH", "JournalEntry", "VerifyReport", "canonical_json", "chain_hash",
           "verify_chain"]

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class JournalEntry:
    """One stored journal row: its position, kind, transfer and the hashes linking it."""

    seq: int
    kind: EntryKind
    transfer: Transfer
    prev_hash: str
    hash: str


def canonical_json(seq: int, kind: EntryKind, t: Transfer) -> bytes:
    """The bytes hashed for one entry; every field of the transfer, in a fixed form."""
    body = {
        "seq": seq, "kind": kind, "id": t.id, "debit_account_id": t.debit_account_id,
        "credit_account_id": t.credit_account_id, "amount": t.amount, "code": t.code,
        "flags": int(t.flags), "pending_id": t.pending_id, "timeout_s": t.timeout_s,
        "metadata": [list(pair) for pair in t.metadata], "timestamp_ns": t.timestamp_ns,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def chain_hash(prev_hash: str, seq: int, kind: EntryKind, t: Transfer) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(seq, kind, t)).hexdigest()


@dataclass(frozen=True)
class VerifyReport:
    """Result of :func:`verify_chain`: ``ok``, entries checked, the first bad entry if any."""

    ok: bool
    entries: int
    head_hash: str
    first_bad_seq: int | None = None
    first_bad_id: str | None = None
    reason: str = ""

    def raise_if_bad(self) -> None:
        if not self.ok:
            raise LedgerJournalTamperedError(
                f"journal entry {self.first_bad_seq} (transfer {self.first_bad_id!r}) does not "
                f"match: {self.reason}; restore the database from a backup and investigate",
                seq=self.first_bad_seq, id=self.first_bad_id)


def verify_chain(entries: Iterable[JournalEntry]) -> VerifyReport:
    """Recompute the chain over ``entries`` (in stored order) and name the first mismatch."""
    prev, count = GENESIS_HASH, 0
    for count, entry in enumerate(entries, 1):
        problem = ""
        if entry.seq != count:
            problem = f"sequence number {entry.seq} where {count} was expected"
        elif entry.prev_hash != prev:
            problem = "its prev_hash is not the hash of the entry before it"
        elif chain_hash(prev, entry.seq, entry.kind, entry.transfer) != entry.hash:
            problem = "its content does not hash to the stored hash"
        if problem:
            return VerifyReport(False, count - 1, prev, entry.seq, entry.transfer.id, problem)
        prev = entry.hash
    return VerifyReport(True, count, prev)
