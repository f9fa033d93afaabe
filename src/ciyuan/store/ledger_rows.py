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
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
    "ACCOUNT_CACHE_MAX",
    "ACCOUNT_COLS",
    "AccountCache",
    "NATIVE",
    "SINK_ROWS",
    "BALANCE_COLS",
    "JOURNAL_COLS",
    "BatchWrite",
    "JournalRow",
    "RowSink",
    "account_from_row",
    "batch_ids",
    "batch_write",
    "copy_binary",
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


#: Rows a :data:`RowSink` gets per call from the compiled path (the last call may get fewer):
#: enough to fill a few of psycopg's 32 KiB COPY buffers, few enough that the database
#: starts on a batch of 8,190 while nearly all of it is still being computed.
SINK_ROWS = 512
#: Called with journal rows as they become final, in order, each row once (see batch_write).
RowSink = Callable[[list[JournalRow]], object]


def batch_write(state: LedgerState, transfers: Sequence[Transfer], now_ns: int, seq: int,
                prev_hash: str, *, expire: Iterable[str] = (), native: bool | None = None,
                sink: RowSink | None = None) -> BatchWrite:
    """Release the pendings in ``expire`` that are due, then apply ``transfers`` to ``state``
    (a store's slice of it) and chain the journal rows after the entry ``seq`` whose hash is
    ``prev_hash``. ``native`` (default :data:`NATIVE`) picks the compiled path.

    ``sink``, if given, gets every journal row of the batch once, in order, in lists: the
    compiled path calls it every :data:`SINK_ROWS` final rows (rows of a linked chain only
    once the chain has closed), so that a store can send them to the database while the
    rest are computed; the Python path calls it once at the end. The returned rows are all
    of them either way. An exception from ``sink`` propagates."""
    state, expiries = expire_due(state, now_ns, only=expire)
    use_native = NATIVE if native is None else native and _ledger_native is not None
    if not use_native or type(now_ns) is not int or not 0 <= now_ns <= _NATIVE_NOW_MAX:
        outcome = apply_batch(state, transfers, now_ns)
        written = effects_write((*expiries, *outcome.effects), outcome.state.balances, seq,
                                prev_hash, outcome.results)
        if sink is not None and written.rows:
            sink(written.rows)
        return written
    before = effects_write(expiries, state.balances, seq, prev_hash)
    if sink is not None and before.rows:
        sink(before.rows)
    assert _ledger_native is not None
    results, rows, sums, pendings, seq, head = _ledger_native.apply_chain(
        _dict(state.accounts), _dict(state.balances), _dict(state.transfers),
        _dict(state.pendings), transfers, now_ns, before.seq, before.head_hash, sink,
        SINK_ROWS)
    balances = before.balances | {account_id: Balance(*s) for account_id, s in sums.items()}
    merged = before.pendings
    for pending_id, (status, expires) in pendings.items():
        merged[pending_id] = (status, merged[pending_id][1] if pending_id in merged
                              else expires)
    return BatchWrite(results, before.rows + rows, dict(sorted(balances.items())), merged,
                      seq, head)


_COPY_INT8, _COPY_INT4, _COPY_LEN = struct.Struct("!iq"), struct.Struct("!ii"), struct.Struct("!i")


def copy_binary(rows: list[JournalRow], layout: bytes) -> bytes:
    """``rows`` as the tuples of PostgreSQL's binary COPY format (no header or trailer):
    one value per byte of ``layout``, ``b"q"`` int8, ``b"i"`` int4, ``b"t"`` text (UTF-8),
    None for NULL. Compiled when the C module is there (what psycopg's ``write_row`` does
    per row, at a tenth of its CPU); this Python version is the reference."""
    if NATIVE and _ledger_native is not None:
        encoded: bytes = _ledger_native.copy_binary(rows, layout)
        return encoded
    out = bytearray()
    count = struct.pack("!h", len(layout))
    for row in rows:
        if len(row) != len(layout):
            raise ValueError(f"a row of {len(row)} values for {len(layout)} columns")
        out += count
        for kind, value in zip(layout, row, strict=True):
            if value is None:
                out += b"\xff\xff\xff\xff"
            elif kind == 0x74:  # t
                if not isinstance(value, str):
                    raise TypeError(f"a text column needs a str, not {value!r}")
                data = value.encode()
                out += _COPY_LEN.pack(len(data))
                out += data
            else:
                out += _COPY_INT8.pack(8, value) if kind == 0x71 else _COPY_INT4.pack(4, value)
    return bytes(out)


#: Accounts and holds an :class:`AccountCache` keeps at most; past it, it starts again empty.
ACCOUNT_CACHE_MAX = 65_536
_PENDING_FLAG = int(TransferFlags.PENDING)
_RESOLVED = ("", None)


class AccountCache:
    """The accounts (fields and balances) a store's writer has read or written, and the
    holds (pending transfers) it wrote that are still open, valid at one chain head.

    An account's fields never change once created, and its balance changes only with a
    journal entry, which moves the chain head; a pending transfer never changes, and its
    status changes only with a journal entry too (a post, a void, an expiry). So what a
    writer read or wrote at head H is still the stored state for as long as the head is H:
    a write transaction that finds the head where this writer's last commit left it
    (another process may write the same database) takes its accounts and the holds it
    settles from here and loads only what it has not seen. Any other head empties the
    cache. It is updated only after a commit succeeded; a write cut off before its commit
    was confirmed leaves the cache at the older head, which no longer matches, so the next
    write loads again. A hold leaves the cache once it is resolved (a retried settlement
    then reads it back).
    """

    def __init__(self) -> None:
        self.head: tuple[int, str] | None = None
        self.accounts: dict[str, Account] = {}
        self.balances: dict[str, Balance] = {}
        #: open holds this writer wrote: id → the stored pending transfer
        self.holds: dict[str, Transfer] = {}

    def at(self, head: tuple[int, str]) -> set[str]:
        """Make the cache valid at ``head`` (emptying it unless it already is): the ids of
        the accounts it holds."""
        if (head != self.head
                or len(self.accounts) + len(self.holds) > ACCOUNT_CACHE_MAX):
            self.accounts.clear()
            self.balances.clear()
            self.holds.clear()
            self.head = head
        return self.accounts.keys()  # type: ignore[return-value]

    def held(self, ids: Iterable[str]) -> tuple[dict[str, Transfer], dict[str, PendingStatus]]:
        """The open holds among ``ids`` this writer wrote, and their status (pending), at
        the cache's head (call :meth:`at` first)."""
        holds = self.holds
        transfers = {i: holds[i] for i in ids if i in holds}
        return transfers, dict.fromkeys(transfers, PendingStatus.PENDING)

    def add(self, accounts: Iterable[tuple[Account, Balance]]) -> None:
        """Accounts loaded at the cache's head."""
        for account, balance in accounts:
            self.accounts[account.id] = account
            self.balances[account.id] = balance

    def state(self, account_ids: Iterable[str], transfers: dict[str, Transfer],
              pendings: dict[str, PendingStatus]) -> LedgerState:
        """The state of a batch over ``account_ids`` (those not stored are left out)."""
        accounts, balances = self.accounts, self.balances
        held = [a for a in account_ids if a in accounts]
        return LedgerState({a: accounts[a] for a in held}, {a: balances[a] for a in held},
                           transfers, pendings)

    def committed(self, batch: BatchWrite) -> None:
        """``batch`` is committed: its balances and holds are stored, its head is the
        chain's."""
        self.balances.update(batch.balances)
        self.head = (batch.seq, batch.head_hash)
        if not batch.pendings:
            return
        holds = self.holds
        for pending_id, (status, _) in batch.pendings.items():
            if status != PendingStatus.PENDING:
                holds.pop(pending_id, None)
        for row in batch.rows:  # the holds the batch placed, as stored (stamped)
            if (row[7] & _PENDING_FLAG and row[1] == "transfer"
                    and batch.pendings.get(row[2], _RESOLVED)[0] == PendingStatus.PENDING):
                holds[row[2]] = transfer_from_row(row)


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
