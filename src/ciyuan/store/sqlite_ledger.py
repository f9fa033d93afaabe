"""SQLite ledger store: WAL, one writer connection, ``BEGIN IMMEDIATE`` per batch.

Each call takes the writer lock, opens an IMMEDIATE transaction (so no other process can
write between our read and our write), loads the slice of the state the batch touches, runs
the engine and the chain (``ciyuan.store.ledger_rows.batch_write``) and writes its effects:
journal rows with their chain hashes, new balances, pending statuses. A crash before COMMIT
leaves nothing behind."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from ciyuan.ledger import (
    GENESIS_HASH,
    Account,
    Balance,
    JournalEntry,
    LedgerState,
    PendingStatus,
    Result,
    Transfer,
    TransferFlags,
    VerifyReport,
    expire_due,
)
from ciyuan.ledger.engine import EntryKind
from ciyuan.ledger.errors import LedgerAccountNotFoundError, LedgerBatchTooLargeError
from ciyuan.store.ledger_rows import (
    AccountCache,
    BatchWrite,
    batch_ids,
    batch_write,
    effects_write,
    refused_ids,
)
from ciyuan.store.ledger_verify import verify_ledger
from ciyuan.store.migrations import apply_migrations
from ciyuan.store.protocol import MAX_BATCH
from ciyuan.store.sqlite_schema import LEDGER_MIGRATIONS
from ciyuan.store.sqlite_writer import SqliteWriter

__all__ = ["SqliteLedgerStore"]

#: Ids per ``IN (...)`` query, well under SQLite's bound on host parameters.
_IN_CHUNK = 500
#: The journal's one UNIQUE index, (id, kind): a stored id that an attempt without lookups
#: hit (its INTEGER PRIMARY KEY reports SQLITE_CONSTRAINT_PRIMARYKEY instead).
_UNIQUE_ID = "SQLITE_CONSTRAINT_UNIQUE"
#: The journal's (seq, hash) as the writer's last write left it (SqliteWriter.recall)
_HEAD_KEY = "journal_head"
#: Transfer and account ids :meth:`SqliteLedgerStore.transfers` and ``accounts`` found
#: absent, while still so
_ABSENT_KEY = "journal_absent_ids"
_ABSENT_ACCOUNTS_KEY = "accounts_absent_ids"
T = TypeVar("T")
#: At most this many absent ids remembered (past it, none: they are asked again)
ABSENT_IDS_MAX = 4_096
_STORED_IDS = "SELECT id FROM journal WHERE kind = 'transfer' AND id IN ({ids})"
_ACCOUNT_COLS = ("id, kind, unit, owner, debits_must_not_exceed_credits, "
                 "credits_must_not_exceed_debits, credit_limit")
_BALANCE_COLS = "debits_pending, debits_posted, credits_pending, credits_posted"
_JOURNAL_COLS = ("seq, kind, id, debit_account_id, credit_account_id, amount, code, flags, "
                 "pending_id, timeout_s, metadata, timestamp_ns, prev_hash, hash")


def _check_batch(items: Sequence[object], what: str) -> None:
    if len(items) > MAX_BATCH:
        raise LedgerBatchTooLargeError(
            f"{len(items)} {what} in one batch; the bound is {MAX_BATCH}, split the batch",
            size=len(items))


def _transfer(row: sqlite3.Row) -> Transfer:
    return Transfer(row["id"], row["debit_account_id"], row["credit_account_id"], row["amount"],
                    row["code"], TransferFlags(row["flags"]), row["pending_id"],
                    row["timeout_s"], tuple(tuple(p) for p in json.loads(row["metadata"])),
                    row["timestamp_ns"])


def _account(row: sqlite3.Row) -> Account:
    return Account(row["id"], row["kind"], row["unit"], row["owner"],
                   bool(row["debits_must_not_exceed_credits"]),
                   bool(row["credits_must_not_exceed_debits"]), row["credit_limit"])


class _StoredIdSeen(Exception):
    """An attempt without id look-ups met a stored id: undone, it runs again with them."""


class SqliteLedgerStore:
    """The :class:`~ciyuan.store.LedgerStore` on one SQLite file."""

    def __init__(self, path: str | Path, *, clock: Callable[[], int] = time.time_ns,
                 durable_at_commit: bool = True, writer: SqliteWriter | None = None) -> None:
        self._clock = clock
        self._cache = AccountCache()  # accounts as this writer last saw them, at a head
        # FULL: a committed transfer survives power loss; NORMAL: once GroupSync says so.
        # A writer given is shared with the other stores of a gateway (sqlite_writer).
        self._own_writer = writer is None
        self._writer = writer or SqliteWriter(path, durable_at_commit=durable_at_commit)
        self._lock = self._writer.lock  # the one writer: held for a transaction or a read
        self._conn = self._writer.conn
        with self._write() as conn:
            apply_migrations(conn, LEDGER_MIGRATIONS)

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._writer.transaction()

    def _select_in(self, sql: str, ids: Iterable[str], *params: Any) -> list[sqlite3.Row]:
        """``sql`` with ``{ids}`` replaced by placeholders, over ``ids`` in chunks."""
        unique, rows = sorted(set(ids)), []
        for start in range(0, len(unique), _IN_CHUNK):
            chunk = unique[start:start + _IN_CHUNK]
            query = sql.format(ids=",".join("?" * len(chunk)))
            rows += self._conn.execute(query, (*params, *chunk)).fetchall()
        return rows

    def close(self) -> None:
        if self._own_writer:
            self._writer.close()

    # -- accounts -------------------------------------------------------------------------

    def create_accounts(self, accounts: Sequence[Account]) -> list[Result]:
        _check_batch(accounts, "accounts")
        results = []
        with self._write() as conn:
            now_ns = self._clock()
            for account in accounts:
                row = conn.execute(f"SELECT {_ACCOUNT_COLS} FROM accounts WHERE id = ?",
                                   (account.id,)).fetchone()
                if row is not None:
                    results.append(Result.OK if _account(row) == account
                                   else Result.EXISTS_WITH_DIFFERENT_FIELDS)
                    continue
                conn.execute(
                    f"INSERT INTO accounts ({_ACCOUNT_COLS}, created_at_ns) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (account.id, str(account.kind), account.unit, account.owner,
                     int(account.debits_must_not_exceed_credits),
                     int(account.credits_must_not_exceed_debits), account.credit_limit, now_ns))
                results.append(Result.OK)
            self._writer.after(partial(self._no_longer_absent, _ABSENT_ACCOUNTS_KEY,
                                       [a.id for a in accounts]))
        return results

    def accounts(self, account_ids: Iterable[str]) -> dict[str, Account]:
        """The stored accounts among ``account_ids``; as :meth:`transfers`, ids found absent
        are not asked again while still so (a tenant without a wallet, on every call)."""
        return self._stored(_ABSENT_ACCOUNTS_KEY, f"SELECT {_ACCOUNT_COLS} FROM accounts "
                            "WHERE id IN ({ids})", account_ids, _account)

    def balances(self, account_ids: Iterable[str]) -> dict[str, Balance]:
        with self._lock:
            rows = self._select_in(f"SELECT id, {_BALANCE_COLS} FROM accounts "
                                   "WHERE id IN ({ids})", account_ids)
        return {row["id"]: Balance(*row[1:]) for row in rows}

    def balance(self, account_id: str) -> Balance:
        found = self.balances([account_id])
        if account_id not in found:
            raise LedgerAccountNotFoundError(
                f"no ledger account {account_id!r}; create it with create_accounts first",
                account_id=account_id)
        return found[account_id]

    def transfers(self, transfer_ids: Iterable[str]) -> dict[str, Transfer]:
        """The stored transfers among ``transfer_ids``. Ids this writer found absent before
        are not asked again while no other connection has committed and none of its own
        writes stored them (the budgets check each call that no new revision exists)."""
        return self._stored(_ABSENT_KEY, f"SELECT {_JOURNAL_COLS} FROM journal "
                            "WHERE kind = 'transfer' AND id IN ({ids})", transfer_ids, _transfer)

    def _stored(self, key: str, sql: str, ids: Iterable[str],
                make: Callable[[sqlite3.Row], T]) -> dict[str, T]:
        """The rows ``sql`` finds among ``ids``, skipping the ids remembered under ``key``
        as absent, and remembering those it finds absent now."""
        wanted = set(ids)
        with self._lock:
            known = self._writer.recall_reading(key)
            absent = known if isinstance(known, set) else set()
            asked = wanted - absent
            found = {row["id"]: make(row) for row in self._select_in(sql, asked)} if asked else {}
            absent |= asked - found.keys()
            if len(absent) <= ABSENT_IDS_MAX:
                self._writer.remember(key, absent)
        return found

    def _no_longer_absent(self, key: str, ids: Iterable[str]) -> None:
        """Ids just written (from an ``after`` callback): not absent any more."""
        absent = self._writer.recall(key)
        if isinstance(absent, set):
            absent.difference_update(ids)
            self._writer.remember(key, absent)

    # -- transfers ------------------------------------------------------------------------

    def _load(self, head: tuple[int, str], transfer_ids: set[str], pending_ids: set[str],
              account_ids: set[str]) -> LedgerState:
        """The slice of the state a batch can read, inside the write transaction; the
        journal ends at ``head``. Accounts come from the cache when it is valid there."""
        cached = self._cache.at(head)
        wanted = transfer_ids | pending_ids
        transfers, pendings = self._cache.held(wanted)  # open holds written here
        if len(transfers) < len(wanted):
            loaded = {row["id"]: _transfer(row) for row in self._select_in(
                f"SELECT {_JOURNAL_COLS} FROM journal WHERE kind = 'transfer' "
                "AND id IN ({ids})", wanted - transfers.keys())}
            pendings |= {row["id"]: PendingStatus(row["status"]) for row in self._select_in(
                "SELECT id, status FROM pendings WHERE id IN ({ids})", loaded)}
            transfers |= loaded
        for t in transfers.values():
            account_ids |= {t.debit_account_id, t.credit_account_id}
        missing = account_ids - cached
        if missing:
            self._cache.add((_account(row), Balance(*row[7:])) for row in self._select_in(
                f"SELECT {_ACCOUNT_COLS}, {_BALANCE_COLS} FROM accounts WHERE id IN ({{ids}})",
                missing))
        return self._cache.state(account_ids, transfers, pendings)

    def _head(self, conn: sqlite3.Connection) -> tuple[int, str]:
        """The journal's last (seq, hash), inside a write transaction: as this writer left
        it when no other connection has committed since, else read."""
        known = self._writer.recall(_HEAD_KEY)
        if isinstance(known, tuple):
            return known
        head = conn.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
        return (head["seq"], head["hash"]) if head else (0, GENESIS_HASH)

    def _committed(self, batch: BatchWrite) -> None:
        """Once a write is in (SqliteWriter.after): its accounts and the new head are the
        stored ones, and the ids it wrote are no longer absent."""
        self._cache.committed(batch)
        self._writer.remember(_HEAD_KEY, (batch.seq, batch.head_hash))
        self._no_longer_absent(_ABSENT_KEY, [row[2] for row in batch.rows])

    @staticmethod
    def _write_batch(conn: sqlite3.Connection, batch: BatchWrite) -> None:
        """Journal rows; each touched account's and pending's final state once per batch
        (not once per transfer)."""
        if not batch.rows:
            return
        conn.executemany(f"INSERT INTO journal ({_JOURNAL_COLS}) VALUES "
                         "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch.rows)
        conn.executemany(f"UPDATE accounts SET ({_BALANCE_COLS}) = (?, ?, ?, ?) WHERE id = ?",
                         [(b.debits_pending, b.debits_posted, b.credits_pending,
                           b.credits_posted, account_id)
                          for account_id, b in batch.balances.items()])
        conn.executemany("INSERT INTO pendings (id, status, expires_at_ns) VALUES (?, ?, ?) "
                         "ON CONFLICT (id) DO UPDATE SET status = excluded.status",
                         [(pending_id, status, expires) for pending_id, (status, expires)
                          in batch.pendings.items()])

    def submit(self, transfers: Sequence[Transfer], now_ns: int | None = None) -> list[Result]:
        """Apply a batch in one transaction. First assuming none of its ids is stored yet
        (no lookup); if the journal's unique index refuses a row, or one of the ids the batch
        refused is stored (a retry), that attempt's write is undone with its block (the
        writer's savepoint, or its transaction) and the batch runs again with every id
        looked up. The common case so takes no savepoint of its own."""
        _check_batch(transfers, "transfers")
        try:
            return self._submit(transfers, now_ns, look_up_ids=False)
        except _StoredIdSeen:
            return self._submit(transfers, now_ns, look_up_ids=True)

    def _submit(self, transfers: Sequence[Transfer], now_ns: int | None, *,
                look_up_ids: bool) -> list[Result]:
        with self._write() as conn:
            now_ns = self._clock() if now_ns is None else now_ns
            batch = self._attempt(conn, transfers, now_ns, look_up_ids=look_up_ids)
            self._writer.after(partial(self._committed, batch))
        return batch.results

    def _attempt(self, conn: sqlite3.Connection, transfers: Sequence[Transfer], now_ns: int,
                 *, look_up_ids: bool) -> BatchWrite:
        """Run and write the batch; without ``look_up_ids``, raises :class:`_StoredIdSeen`
        when a stored id turns up (the caller's block then undoes what was written)."""
        ids, pending_ids, account_ids = batch_ids(transfers)
        head = self._head(conn)
        state = self._load(head, ids if look_up_ids else set(), pending_ids, account_ids)
        batch = batch_write(state, transfers, now_ns, *head, expire=pending_ids)
        if look_up_ids:
            self._write_batch(conn, batch)
            return batch
        refused = refused_ids(transfers, batch.results)
        if refused and self._select_in(_STORED_IDS, refused):
            raise _StoredIdSeen  # a refused transfer may be a retry of a stored one
        try:
            self._write_batch(conn, batch)
        except sqlite3.IntegrityError as error:
            if error.sqlite_errorname != _UNIQUE_ID:
                raise
            raise _StoredIdSeen from None  # an applied id is stored already
        return batch

    def expire(self, now_ns: int | None = None) -> int:
        with self._write() as conn:
            now_ns = self._clock() if now_ns is None else now_ns
            due = {row["id"] for row in conn.execute(
                "SELECT id FROM pendings WHERE status = 'pending' AND expires_at_ns <= ? "
                "ORDER BY expires_at_ns LIMIT ?", (now_ns, MAX_BATCH))}
            head = self._head(conn)
            state = self._load(head, set(), due, set())
            state, expiries = expire_due(state, now_ns, only=due)
            batch = effects_write(expiries, state.balances, *head)
            self._write_batch(conn, batch)
            self._writer.after(partial(self._committed, batch))
        return len(expiries)

    # -- journal --------------------------------------------------------------------------

    def _rows(self) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(
                f"SELECT {_JOURNAL_COLS} FROM journal ORDER BY seq").fetchall()

    def journal(self) -> Iterator[JournalEntry]:
        for row in self._rows():
            kind: EntryKind = "expiry" if row["kind"] == "expiry" else "transfer"
            yield JournalEntry(row["seq"], kind, _transfer(row), row["prev_hash"], row["hash"])

    def verify(self) -> VerifyReport:
        """Recompute the chain and replay the journal against the stored balances and
        pending statuses, all read in one snapshot (a WAL read transaction)."""
        with self._writer.snapshot() as conn:
            balances = {row["id"]: Balance(*row[1:]) for row in conn.execute(
                f"SELECT id, {_BALANCE_COLS} FROM accounts")}
            pendings = {row["id"]: row["status"] for row in conn.execute(
                "SELECT id, status FROM pendings")}
            rows = conn.execute(f"SELECT {_JOURNAL_COLS} FROM journal ORDER BY seq")
            return verify_ledger(rows, balances, pendings)
