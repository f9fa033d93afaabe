"""Ledger rows: how both ledger stores (SQLite, PostgreSQL) turn values into rows and back.

One place for the column lists, the chained journal rows of a list of engine effects, and
the final balances and pending statuses a batch leaves behind, so that the two stores write
byte-identical journals (same canonical JSON, same hashes) for the same history.

:func:`batch_write` is what a store runs for a batch: the engine, the chain and the final
state in one call. It runs in compiled code (``ciyuan.store._ledger_native``, C, built by
``pip install``) when that module is there, and otherwise in Python (``apply_batch`` +
:func:`chain_rows`); both give the same rows, hashes, balances and pendings, which
tests/store/test_ledger_native.py checks on generated batches. ``CIYUAN_LEDGER_PURE=1`` picks
the Python path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring as _string
from operator import attrgetter
from types import ModuleType
from typing import Any

from ciyuan.ledger import (
    Account,
    Balance,
    Effect,
    LedgerState,
    PendingStatus,
    Result,
    Transfer,
    TransferFlags,
    apply_batch,
    chain_hash,
    expire_due,
)

_ledger_native: ModuleType | None
try:
    from ciyuan.store import _ledger_native as _native
except ImportError:  # built without a C compiler or OpenSSL headers: the Python path
    _ledger_native = None
else:
    _native.configure(tuple(Result[name] for name in _native.RESULT_NAMES),
                      (PendingStatus.PENDING, PendingStatus.POSTED, PendingStatus.VOIDED,
                       PendingStatus.EXPIRED))
    _ledger_native = _native

__all__ = [
    "ACCOUNT_COLS",
    "NATIVE",
    "BALANCE_COLS",
    "JOURNAL_COLS",
    "BatchWrite",
    "JournalRow",
    "account_from_row",
    "batch_ids",
    "batch_write",
    "chain_rows",
    "effects_write",
    "final_balances",
    "final_pendings",
    "iter_chain_rows",
    "metadata_json",
    "refused_ids",
    "transfer_from_row",
]

ACCOUNT_COLS = ("id, kind, unit, owner, debits_must_not_exceed_credits, "
                "credits_must_not_exceed_debits, credit_limit")
BALANCE_COLS = "debits_pending, debits_posted, credits_pending, credits_posted"
JOURNAL_COLS = ("seq, kind, id, debit_account_id, credit_account_id, amount, code, flags, "
                "pending_id, timeout_s, metadata, timestamp_ns, prev_hash, hash")

#: One journal row, in ``JOURNAL_COLS`` order.
JournalRow = tuple[int, str, str, str, str, int, str, int, str, int, str, int, str, str]
#: Whether :func:`batch_write` runs compiled (the extension is built and not switched off).
NATIVE = _ledger_native is not None and os.environ.get("CIYUAN_LEDGER_PURE", "") in ("", "0")
#: The compiled path keeps times in signed 64-bit integers with room for a timeout added.
_NATIVE_NOW_MAX = 2**62 - 1


@dataclass(frozen=True)
class BatchWrite:
    """What one batch writes: a result per transfer, the journal rows chained after the head,
    the final balance of every account they touch, the final status of every pending they
    create or resolve (with the expiry of one created here), and the new head."""

    results: list[Result]
    rows: list[JournalRow]
    balances: dict[str, Balance]
    pendings: dict[str, tuple[str, int | None]]
    seq: int
    head_hash: str


_ids = attrgetter("id")
_pending_ids = attrgetter("pending_id")
_debits, _credits = attrgetter("debit_account_id"), attrgetter("credit_account_id")


def batch_ids(transfers: Sequence[Transfer]) -> tuple[set[str], set[str], set[str]]:
    """The ids a store loads for a batch: its transfer ids, the pendings it names and its
    accounts (sets built by C-level maps, a tenth of a µs a transfer)."""
    pending_ids = set(map(_pending_ids, transfers))
    pending_ids.discard("")
    accounts = set(map(_debits, transfers))
    accounts.update(map(_credits, transfers))
    return set(map(_ids, transfers)), pending_ids, accounts


def refused_ids(transfers: Sequence[Transfer], results: Sequence[Result]) -> list[str]:
    """Ids of the transfers of a batch that were not applied (none: no per-item pass)."""
    if results.count(Result.OK) == len(results):
        return []
    return [t.id for t, r in zip(transfers, results, strict=True) if r is not Result.OK]


def effects_write(effects: Sequence[Effect], balances: Mapping[str, Balance], seq: int,
                  prev_hash: str, results: Sequence[Result] = ()) -> BatchWrite:
    """The :class:`BatchWrite` of engine ``effects`` whose final balances are ``balances``."""
    rows, seq, head = chain_rows(effects, seq, prev_hash)
    return BatchWrite(list(results), rows, final_balances(balances, effects),
                      final_pendings(effects), seq, head)


def _dict(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """``mapping`` as the dict the compiled path reads (which only reads it): no copy when it
    is one already, as the stores' states are."""
    return mapping if type(mapping) is dict else dict(mapping)


def batch_write(state: LedgerState, transfers: Sequence[Transfer], now_ns: int, seq: int,
                prev_hash: str, *, expire: Iterable[str] = (),
                native: bool | None = None) -> BatchWrite:
    """Release the pendings in ``expire`` that are due, then apply ``transfers`` to ``state``
    (a store's slice of it) and chain the journal rows after the entry ``seq`` whose hash is
    ``prev_hash``. ``native`` (default :data:`NATIVE`) picks the compiled path."""
    state, expiries = expire_due(state, now_ns, only=expire)
    use_native = NATIVE if native is None else native and _ledger_native is not None
    if not use_native or type(now_ns) is not int or not 0 <= now_ns <= _NATIVE_NOW_MAX:
        outcome = apply_batch(state, transfers, now_ns)
        return effects_write((*expiries, *outcome.effects), outcome.state.balances, seq,
                             prev_hash, outcome.results)
    before = effects_write(expiries, state.balances, seq, prev_hash)
    assert _ledger_native is not None
    results, rows, sums, pendings, seq, head = _ledger_native.apply_chain(
        _dict(state.accounts), _dict(state.balances), _dict(state.transfers),
        _dict(state.pendings), transfers, now_ns, before.seq, before.head_hash)
    balances = before.balances | {account_id: Balance(*s) for account_id, s in sums.items()}
    merged = before.pendings
    for pending_id, (status, expires) in pendings.items():
        merged[pending_id] = (status, merged[pending_id][1] if pending_id in merged
                              else expires)
    return BatchWrite(results, before.rows + rows, dict(sorted(balances.items())), merged,
                      seq, head)


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
