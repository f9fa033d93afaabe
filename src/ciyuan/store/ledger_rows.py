"""Ledger rows: how both ledger stores (SQLite, PostgreSQL) turn values into rows and back.

One place for the column lists, the chained journal rows of a list of engine effects, and
the final balances and pending statuses a batch leaves behind, so that the two stores write
byte-identical journals (same canonical JSON, same hashes) for the same history.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from json.encoder import encode_basestring as _string
from typing import Any

from ciyuan.ledger import (
    Account,
    Balance,
    Effect,
    PendingStatus,
    Transfer,
    TransferFlags,
    chain_hash,
)

__all__ = [
    "ACCOUNT_COLS",
    "BALANCE_COLS",
    "JOURNAL_COLS",
    "JournalRow",
    "account_from_row",
    "chain_rows",
    "final_balances",
    "final_pendings",
    "iter_chain_rows",
    "metadata_json",
    "transfer_from_row",
]

ACCOUNT_COLS = ("id, kind, unit, owner, debits_must_not_exceed_credits, "
                "credits_must_not_exceed_debits, credit_limit")
BALANCE_COLS = "debits_pending, debits_posted, credits_pending, credits_posted"
JOURNAL_COLS = ("seq, kind, id, debit_account_id, credit_account_id, amount, code, flags, "
                "pending_id, timeout_s, metadata, timestamp_ns, prev_hash, hash")

#: One journal row, in ``JOURNAL_COLS`` order.
JournalRow = tuple[int, str, str, str, str, int, str, int, str, int, str, int, str, str]


def account_from_row(row: Sequence[Any]) -> Account:
    """An :class:`Account` from a row that starts with ``ACCOUNT_COLS``."""
    return Account(row[0], row[1], row[2], row[3], bool(row[4]), bool(row[5]), row[6])


def transfer_from_row(row: Sequence[Any]) -> Transfer:
    """The :class:`Transfer` of a row in ``JOURNAL_COLS`` order (raises if malformed)."""
    return Transfer(row[2], row[3], row[4], row[5], row[6], TransferFlags(row[7]), row[8],
                    row[9], tuple(tuple(p) for p in json.loads(row[10])), row[11])


def metadata_json(metadata: tuple[tuple[str, str], ...]) -> str:
    """The stored ``metadata`` column: ``json.dumps([list(pair) for pair in metadata],
    ensure_ascii=False)``, written out with json's own string escaper (a tenth of the cost)."""
    if not metadata:
        return "[]"
    return "[" + ", ".join(f"[{_string(k)}, {_string(v)}]" for k, v in metadata) + "]"


def iter_chain_rows(effects: Iterable[Effect], seq: int,
                    prev_hash: str) -> Iterator[JournalRow]:
    """Journal rows for ``effects`` after the entry ``seq`` whose hash is ``prev_hash``, one
    at a time (so that a COPY can send each row while the next one is hashed)."""
    for effect in effects:
        seq, t = seq + 1, effect.transfer
        digest = chain_hash(prev_hash, seq, effect.kind, t)
        yield (seq, effect.kind, t.id, t.debit_account_id, t.credit_account_id, t.amount,
               t.code, t.flags._value_, t.pending_id, t.timeout_s, metadata_json(t.metadata),
               t.timestamp_ns, prev_hash, digest)
        prev_hash = digest


def chain_rows(effects: Iterable[Effect], seq: int,
               prev_hash: str) -> tuple[list[JournalRow], int, str]:
    """Journal rows for ``effects`` after the entry ``seq`` whose hash is ``prev_hash``; the
    rows, the new head's sequence number and the new head's hash."""
    rows = list(iter_chain_rows(effects, seq, prev_hash))
    return (rows, rows[-1][0], rows[-1][13]) if rows else (rows, seq, prev_hash)


def final_balances(balances: Mapping[str, Balance],
                   effects: Iterable[Effect]) -> dict[str, Balance]:
    """The balance (from a batch's final ``balances``) of each account that ``effects``
    touch: one UPDATE per account and batch, not one per transfer."""
    touched: set[str] = set()
    for effect in effects:
        touched.add(effect.transfer.debit_account_id)
        touched.add(effect.transfer.credit_account_id)
    return {account_id: balances[account_id] for account_id in sorted(touched)}


def final_pendings(effects: Iterable[Effect]) -> dict[str, tuple[str, int | None]]:
    """Pending id → (final status, expiry of a pending created in these effects, else None).

    Written as an upsert: a new pending is inserted with its expiry; an existing one only
    gets its new status.
    """
    pendings: dict[str, tuple[str, int | None]] = {}
    for effect in effects:
        t = effect.transfer
        for pending_id, status in effect.pendings.items():
            created = t.expires_at_ns if status is PendingStatus.PENDING else None
            expires = pendings[pending_id][1] if pending_id in pendings else created
            pendings[pending_id] = (str(status), expires)
    return pendings
