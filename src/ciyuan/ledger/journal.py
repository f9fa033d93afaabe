"""The journal's hash chain: canonical JSON of each entry and SHA-256 links between them.

``hash[n] = sha256(hash[n-1] + canonical_json(entry[n]))`` (hex digests, UTF-8), starting from
:data:`GENESIS_HASH`. The canonical JSON has sorted keys, no spaces and includes the entry's
sequence number, so an edited, deleted, inserted or reordered entry breaks the chain from that
entry on; :func:`verify_chain` names the first one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from json.encoder import encode_basestring as _string

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
    """The bytes hashed for one entry; every field of the transfer, in a fixed form.

    Byte for byte what ``json.dumps(body, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`` gives for the entry's fields (the chain's format since the first
    journal; tests/ledger/test_journal.py holds that reference), written out directly with
    json's own string escaper: json.dumps built an encoder per call and cost three times as
    much, a sixth of a batch's CPU time.
    """
    metadata = ",".join(f"[{_string(k)},{_string(v)}]" for k, v in t.metadata)
    return (f'{{"amount":{t.amount},"code":{_string(t.code)},'
            f'"credit_account_id":{_string(t.credit_account_id)},'
            f'"debit_account_id":{_string(t.debit_account_id)},"flags":{t.flags._value_},'
            f'"id":{_string(t.id)},"kind":{_string(kind)},"metadata":[{metadata}],'
            f'"pending_id":{_string(t.pending_id)},"seq":{seq},"timeout_s":{t.timeout_s},'
            f'"timestamp_ns":{t.timestamp_ns}}}').encode()


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
