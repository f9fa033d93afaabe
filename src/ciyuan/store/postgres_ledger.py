"""PostgreSQL ledger store (psycopg 3): many writer processes, one strict journal order.

Each write runs in one transaction that first takes the chain head row (``journal_head``)
``FOR UPDATE``. That one lock serializes every writer on every host: the journal gets a
strict order for its hash chain, and the balances a batch reads cannot change before it
commits (READ COMMITTED: each statement after the lock sees every earlier commit). There is
only one lock, so there is no lock order to get wrong and no deadlock. The batch then loads
the slice of the state it touches (its accounts and the pendings it resolves; its own ids
only on a second attempt, see ``submit``), runs the engine and the chain
(``ciyuan.store.ledger_rows.batch_write``: compiled, or the pure engine) and writes its
effects: a small batch in one statement (six round trips at most), a larger one as a binary
COPY of its journal rows and one statement for balances, pendings and the head (eight at
most, whatever its size). A crash or a lost connection before COMMIT leaves nothing behind;
ids are idempotency keys, so the client retries a cut-off batch as it is."""

from __future__ import annotations

import json
import select
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from ciyuan.ledger import (
    Account,
    Balance,
    JournalEntry,
    LedgerState,
    PendingStatus,
    Result,
    Transfer,
    VerifyReport,
    expire_due,
)
from ciyuan.ledger.errors import LedgerAccountNotFoundError, LedgerBatchTooLargeError
from ciyuan.store.errors import StoreUnavailableError, StoreUrlError
from ciyuan.store.ledger_rows import (
    ACCOUNT_COLS,
    BALANCE_COLS,
    JOURNAL_COLS,
    AccountCache,
    BatchWrite,
    JournalRow,
    account_from_row,
    batch_ids,
    batch_write,
    copy_binary,
    effects_write,
    refused_ids,
    transfer_from_row,
)
from ciyuan.store.ledger_verify import verify_ledger
from ciyuan.store.migrations import run_migrations
from ciyuan.store.open import redact
from ciyuan.store.postgres_schema import (
    COMMIT_EFFECTS,
    COMMIT_STATE,
    COPY_MIN_ROWS,
    JOURNAL_COPY,
    JOURNAL_LAYOUT,
    JOURNAL_PAGE,
    LOAD_ACCOUNTS,
    LOAD_TRANSFERS,
    PG_LEDGER_MIGRATIONS,
    PREPARED,
)
from ciyuan.store.protocol import MAX_BATCH

__all__ = ["PostgresLedgerStore"]

Conn = psycopg.Connection[tuple[Any, ...]]
#: Advisory lock key held while migrating, so processes opening a fresh database at once
#: do not race to create the same tables ("ciyuan" in ASCII).
_MIGRATION_LOCK = 0x63697975616E
#: The journal's unique index on (id, kind): a stored id that an optimistic attempt hit.
_UNIQUE_ID = "journal_id_kind_key"
#: Balances and pendings as JSON text for ``json_to_recordset`` (UTF-8 as is: ids may be any
#: text a ``Transfer`` accepts).
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
#: Keys of a journal row's fields in ``COMMIT_EFFECTS``'s JSON (the journal's columns).
_JOURNAL_KEYS = tuple(JOURNAL_COLS.split(", "))
#: Opens a write transaction and takes the chain head lock in one round trip (``_exec``: the
#: simple protocol runs both statements; the result is the head's).
_BEGIN_WRITE = b"BEGIN; SELECT seq, hash FROM journal_head WHERE id = 1 FOR UPDATE"
#: Rows of the journal fetched per round trip while ``verify`` reads it.
_VERIFY_PAGE = 5000


def _check_batch(items: Sequence[object], what: str) -> None:
    if len(items) > MAX_BATCH:
        raise LedgerBatchTooLargeError(
            f"{len(items)} {what} in one batch; the bound is {MAX_BATCH}, split the batch",
            size=len(items))


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _connect_args(url: str, connect_timeout_s: int) -> dict[str, Any]:
    """Connection parameters added to the URL's: a connect timeout unless the URL sets one.

    Statements keep PostgreSQL's default plan caching: the loads by id probe the indexes one
    id at a time (``LOAD_TRANSFERS``), whichever plan is chosen, so a generic plan is as good
    as a custom one and saves planning every batch (0.3 ms of a batch of 100)."""
    try:
        given = conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:
        raise StoreUrlError(f"the PostgreSQL URL {redact(url)!r} is malformed "
                            f"({_one_line(error)}); write postgresql://user@host:5432/dbname",
                            db_url=redact(url)) from None
    return {"connect_timeout": given.get("connect_timeout", connect_timeout_s)}


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows as ``width`` column lists (for ``unnest``)."""
    return [list(col) for col in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def _state_params(batch: BatchWrite) -> tuple[Any, ...]:
    """The state of a write (``PREPARE_STATE``, ``PREPARE_EFFECTS``): touched balances and
    pending statuses as JSON, the new head."""
    balances = _json([{"id": account_id, "dp": b.debits_pending, "dpo": b.debits_posted,
                       "cp": b.credits_pending, "cpo": b.credits_posted}
                      for account_id, b in batch.balances.items()])
    pendings = _json([{"id": pending_id, "s": status, "e": expires}
                      for pending_id, (status, expires) in batch.pendings.items()])
    return balances, pendings, batch.seq, batch.head_hash


_IDLE = psycopg.pq.TransactionStatus.IDLE
_FAILED = psycopg.pq.ExecStatus.FATAL_ERROR


def _exec(conn: Conn, query: bytes) -> psycopg.pq.abc.PGresult:
    """A query of fixed text (one or more statements) by the simple protocol, straight
    through libpq's ``PQexec`` (which releases the GIL while it waits): half the CPU of a
    psycopg ``execute``, on the statements every write runs. The last statement's result;
    a failure is raised as psycopg's exception for its SQLSTATE, with its diagnostics
    (``OperationalError`` when the connection is lost). Unlike psycopg's own rollbacks, a
    ROLLBACK sent this way leaves the session's prepared statements in place."""
    result = conn.pgconn.exec_(query)
    if result.status == _FAILED:
        raise _error(conn, result)
    return result


def _error(conn: Conn, result: psycopg.pq.abc.PGresult | None) -> psycopg.Error:
    """psycopg's exception for a failed result (or for the connection's last error)."""
    pgconn = conn.pgconn
    detail = result.error_message if result is not None else pgconn.error_message
    message = (detail or b"").decode(errors="replace").strip()
    sqlstate = None if result is None else result.error_field(
        psycopg.pq.DiagnosticField.SQLSTATE)
    if sqlstate is None or pgconn.status == psycopg.pq.ConnStatus.BAD:
        return psycopg.OperationalError(message or "the connection to the server was lost")
    try:
        error = psycopg.errors.lookup(sqlstate.decode())
    except KeyError:
        error = psycopg.DatabaseError
    return error(message, info=result)  # info: the error's ``diag`` (constraint name, …)


_COPY_IN = psycopg.pq.ExecStatus.COPY_IN
#: The binary COPY stream's header (signature, no flags, no extension) and trailer.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"


class _JournalCopy:
    """A binary COPY into the journal, driven through libpq (``psycopg.pq``) with rows
    encoded by ``copy_binary``: a third of the client CPU of psycopg's ``Copy`` at 100 rows.
    Each ``write`` goes out as far as the socket takes it at once, so the server inserts
    while the engine computes the next rows; the end of the COPY waits (GIL released) until
    everything is sent and the server has answered. Leaving the block by an
    exception ends the COPY as failed (the server then rolls the statement back)."""

    def __init__(self, conn: Conn) -> None:
        self.conn, self.pgconn = conn, conn.pgconn
        result = _exec(conn, JOURNAL_COPY.encode())
        if result.status != _COPY_IN:
            raise psycopg.InternalError(f"COPY did not start: {result.status!r}")
        self._send(_COPY_HEADER)

    def __enter__(self) -> _JournalCopy:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self._send(_COPY_TRAILER)
            self._end(None)
        elif self.pgconn.status != psycopg.pq.ConnStatus.BAD:
            # the COPY fails as asked; the exception in flight is what matters
            with suppress(psycopg.Error):
                self._end(b"the client stopped the COPY")

    def write(self, rows: list[JournalRow]) -> None:
        self._send(copy_binary(rows, JOURNAL_LAYOUT))

    def _send(self, data: bytes) -> None:
        """Queue ``data`` and send what the socket takes now, without waiting for the rest
        (libpq keeps it, and ``_end`` sends it all): the engine goes on computing while the
        server reads."""
        pgconn = self.pgconn
        while (queued := pgconn.put_copy_data(data)) == 0:
            self._wait(writing=True)
        if queued < 0 or pgconn.flush() < 0:
            raise _error(self.conn, None)

    def _end(self, failure: bytes | None) -> None:
        """End the COPY (as failed with ``failure``), then take its result: raise it as
        psycopg's exception if the server refused the rows."""
        pgconn = self.pgconn
        while (ended := pgconn.put_copy_end(failure)) == 0:
            self._wait(writing=True)
        if ended < 0:
            raise _error(self.conn, None)
        self._flush()
        while True:
            pgconn.consume_input()
            if not pgconn.is_busy():
                break
            self._wait(writing=False)
        failed = None
        while (result := pgconn.get_result()) is not None:
            if result.status == _FAILED and failed is None:
                failed = result
        if failed is not None:
            raise _error(self.conn, failed)

    def _flush(self) -> None:
        pgconn = self.pgconn
        while (left := pgconn.flush()) == 1:
            self._wait(writing=True)
        if left < 0:
            raise _error(self.conn, None)

    def _wait(self, *, writing: bool) -> None:
        """Until the socket can take more (or has input: read it, so that the server is
        never blocked writing to us) or, not ``writing``, until input arrives."""
        fd = self.pgconn.socket
        readable, _, _ = select.select([fd], [fd] if writing else [], [])
        if readable:
            self.pgconn.consume_input()


class PostgresLedgerStore:
    """The :class:`~ciyuan.store.LedgerStore` on a PostgreSQL database.

    ``url`` is a libpq URL (``postgresql://user@host:5432/dbname``); ``schema``, if given,
    is created when missing and holds the tables (default: the connection's search_path,
    which a URL can set with ``?options=-csearch_path%3Dname``).
    """

    def __init__(self, url: str, *, schema: str | None = None,
                 clock: Callable[[], int] = time.time_ns, connect_timeout_s: int = 10) -> None:
        self._clock = clock
        self._lock = threading.Lock()  # one connection; a call holds it for its transaction
        self._head = (0, "")  # the chain head, read under the head lock in each write
        self._cache = AccountCache()  # accounts as this writer last saw them, at a head
        #: Whether this session holds the ``PREPARED`` statements; None: unknown (psycopg
        #: deallocates every prepared statement after a rollback of its own, as in
        #: ``verify``, when it has prepared any; ``_write`` rolls back through libpq).
        self._prepared: bool | None = None
        args = _connect_args(url, connect_timeout_s)
        try:
            self._conn: Conn = psycopg.connect(url, autocommit=True, **args)
        except psycopg.OperationalError as error:
            raise StoreUnavailableError(
                f"cannot connect to the PostgreSQL ledger database: {_one_line(error)}; check "
                "the URL (--db / CIYUAN_DB) and that the server runs") from None
        self._escape = psycopg.pq.Escaping(self._conn.pgconn)  # libpq's literal quoting
        try:
            self._migrate(schema)
        except BaseException:
            self._conn.close()
            raise

    def _migrate(self, schema: str | None) -> None:
        conn = self._conn
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            if schema is not None:
                found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s",
                                     (schema,)).fetchone()
                if found is None:
                    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
                conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            run_migrations(lambda query, params: conn.execute(query, params or None),
                           PG_LEDGER_MIGRATIONS, placeholder="%s")

    @contextmanager
    def _write(self) -> Iterator[Conn]:
        """One write transaction holding the chain head lock; ``self._head`` is the head.

        A batch costs two to five round trips: BEGIN with the lock (one simple-protocol
        query of two statements), one or two loads when the account cache lacks accounts or
        ids are looked up, then either all its writes and COMMIT in one query
        (``COMMIT_EFFECTS``), or COPY (two) and the state with COMMIT (``COMMIT_STATE``,
        one). A write that committed that way leaves the connection idle, and nothing is
        committed here. (psycopg's pipeline
        mode would merge more, but on a local server its extra CPU cost more than the round
        trips: 0.55 ms against 0.3 ms per transaction.) ``psycopg.Rollback`` raised inside
        rolls back and is swallowed, as in psycopg's own ``transaction()``.
        """
        conn = self._conn
        with self._lock, self._unavailable_as_error("write"):
            head = _exec(conn, _BEGIN_WRITE)
            assert head.ntuples == 1, "journal_head has its one row from migration 0002"
            self._head = (int(head.get_value(0, 0) or 0), (head.get_value(0, 1) or b"").decode())
            try:
                yield conn
            except psycopg.Rollback:
                _exec(conn, b"ROLLBACK")  # by libpq: the prepared statements stay
                return
            except BaseException:
                if not conn.broken:
                    _exec(conn, b"ROLLBACK")
                raise
            if conn.info.transaction_status is not _IDLE:
                _exec(conn, b"COMMIT")

    @contextmanager
    def _unavailable_as_error(self, what: str) -> Iterator[None]:
        try:
            yield
        except psycopg.OperationalError as error:
            raise StoreUnavailableError(
                f"the PostgreSQL ledger database failed during a {what}: {_one_line(error)}; a "
                "cut-off write may or may not have been applied: reopen the store and retry it "
                "with the same transfer ids") from None

    def _read(self, query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._lock, self._unavailable_as_error("read"):
            return self._conn.execute(query, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- accounts -------------------------------------------------------------------------

    def create_accounts(self, accounts: Sequence[Account]) -> list[Result]:
        _check_batch(accounts, "accounts")
        rows = [(a.id, str(a.kind), a.unit, a.owner, a.debits_must_not_exceed_credits,
                 a.credits_must_not_exceed_debits, a.credit_limit) for a in accounts]
        with self._write() as conn:
            now_ns = self._clock()
            conn.execute(f"INSERT INTO accounts ({ACCOUNT_COLS}, created_at_ns) SELECT *, %s "
                         "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], "
                         "%s::boolean[], %s::boolean[], %s::bigint[]) "
                         "ON CONFLICT (id) DO NOTHING", (now_ns, *_columns(rows, 7)))
            stored = {r[0]: account_from_row(r) for r in conn.execute(
                f"SELECT {ACCOUNT_COLS} FROM accounts WHERE id = ANY(%s)",
                ([a.id for a in accounts],))}
        return [Result.OK if stored[a.id] == a else Result.EXISTS_WITH_DIFFERENT_FIELDS
                for a in accounts]

    def accounts(self, account_ids: Iterable[str]) -> dict[str, Account]:
        rows = self._read(f"SELECT {ACCOUNT_COLS} FROM accounts WHERE id = ANY(%s)",
                          (list(set(account_ids)),))
        return {row[0]: account_from_row(row) for row in rows}

    def balances(self, account_ids: Iterable[str]) -> dict[str, Balance]:
        rows = self._read(f"SELECT id, {BALANCE_COLS} FROM accounts WHERE id = ANY(%s)",
                          (list(set(account_ids)),))
        return {row[0]: Balance(*row[1:]) for row in rows}

    def balance(self, account_id: str) -> Balance:
        found = self.balances([account_id])
        if account_id not in found:
            raise LedgerAccountNotFoundError(
                f"no ledger account {account_id!r}; create it with create_accounts first",
                account_id=account_id)
        return found[account_id]

    def transfers(self, transfer_ids: Iterable[str]) -> dict[str, Transfer]:
        rows = self._read(f"SELECT {JOURNAL_COLS} FROM journal "
                          "WHERE kind = 'transfer' AND id = ANY(%s)", (list(set(transfer_ids)),))
        return {row[2]: transfer_from_row(row) for row in rows}

    # -- transfers ------------------------------------------------------------------------

    def _load(self, conn: Conn, transfer_ids: set[str], pending_ids: set[str],
              account_ids: set[str]) -> LedgerState:
        """The slice of the state a batch can read, inside the write transaction: stored
        transfers with the batch's ids and pending ids, their pending statuses, and the
        accounts of the batch and of the pendings it resolves (one or two queries)."""
        cached = self._cache.at(self._head)
        wanted = transfer_ids | pending_ids
        transfers, pendings = self._cache.held(wanted)  # open holds written here
        rest = wanted - transfers.keys()
        stored = conn.execute(LOAD_TRANSFERS, (list(rest),)).fetchall() if rest else []
        transfers |= {row[2]: transfer_from_row(row) for row in stored}
        pendings |= {row[2]: PendingStatus(row[14]) for row in stored if row[14] is not None}
        for i in pending_ids & transfers.keys():
            account_ids |= {transfers[i].debit_account_id, transfers[i].credit_account_id}
        missing = account_ids - cached
        if missing:
            self._cache.add((account_from_row(row), Balance(*row[7:])) for row in conn.execute(
                LOAD_ACCOUNTS, (list(missing),)))
        return self._cache.state(account_ids, transfers, pendings)

    def _write_batch(self, conn: Conn, batch: BatchWrite) -> None:
        """Journal rows chained after the head, then final balances, pending statuses and
        the new head, and COMMIT: from ``COPY_MIN_ROWS`` rows up the rows go in a binary
        COPY, then the rest with COMMIT in one round trip; below that all of it goes in one
        round trip (``COMMIT_EFFECTS``)."""
        if not batch.rows:
            return
        if len(batch.rows) < COPY_MIN_ROWS:
            self._commit(conn, COMMIT_EFFECTS, _json([dict(zip(_JOURNAL_KEYS, row, strict=True))
                                                      for row in batch.rows]), batch)
        else:
            with _JournalCopy(conn) as copy:
                copy.write(batch.rows)
            self._commit(conn, COMMIT_STATE, None, batch)
        self._head = (batch.seq, batch.head_hash)

    def _commit(self, conn: Conn, query: bytes, rows: str | None, batch: BatchWrite) -> None:
        """The last round trip of a write: ``query`` (``COMMIT_EFFECTS`` with the journal
        rows as JSON, or ``COMMIT_STATE`` after a COPY), which runs a prepared statement and
        COMMIT. A failure of either raises, with the transaction left to roll back: the
        server runs no statement of a query after one that failed. The statements are
        prepared first if this session may not hold them (one or two round trips more, at
        the first write and after a ``verify``)."""
        if not self._prepared:
            held = {row[0] for row in conn.execute(
                "SELECT name FROM pg_prepared_statements WHERE name = ANY(%s)",
                (list(PREPARED),))}
            for name, statement in PREPARED.items():
                if name not in held:
                    conn.execute(statement)
            self._prepared = True
        balances, pendings, seq, head_hash = _state_params(batch)
        literal = self._escape.escape_literal
        values: tuple[bytes | int, ...] = (literal(balances.encode()),
                                           literal(pendings.encode()), seq,
                                           literal(head_hash.encode()))
        if rows is not None:
            values = (literal(rows.encode()), *values)
        _exec(conn, query % values)

    def submit(self, transfers: Sequence[Transfer], now_ns: int | None = None) -> list[Result]:
        """Apply a batch. First assuming none of its ids is stored yet, which saves looking
        them all up (a fifth of a batch of 8,190); if the journal's unique index, or a look
        at the ids the batch refused, shows a stored one (a retry), that attempt is rolled
        back whole and the batch runs again with every id looked up."""
        _check_batch(transfers, "transfers")
        results = self._submit(transfers, now_ns, look_up_ids=False)
        if results is None:
            results = self._submit(transfers, now_ns, look_up_ids=True)
            assert results is not None, "with every id looked up, nothing is assumed"
        return results

    def _submit(self, transfers: Sequence[Transfer], now_ns: int | None, *,
                look_up_ids: bool) -> list[Result] | None:
        """One attempt in one transaction; None (and nothing written) when, without
        ``look_up_ids``, a stored id turns up.

        A batch of ``COPY_MIN_ROWS`` transfers or more opens its COPY before the engine
        runs, and the engine hands it rows as they become final: the server inserts and
        indexes the first rows while the client computes the rest (on two cores this
        takes a quarter off a batch of 8,190). A smaller batch is computed, then written
        in one statement."""
        stored_id_seen = False
        with self._write() as conn:
            now_ns = self._clock() if now_ns is None else now_ns
            ids, pending_ids, account_ids = batch_ids(transfers)
            state = self._load(conn, ids if look_up_ids else set(), pending_ids, account_ids)
            try:
                if len(transfers) < COPY_MIN_ROWS:
                    batch = batch_write(state, transfers, now_ns, *self._head,
                                        expire=pending_ids)
                else:
                    with _JournalCopy(conn) as copy:
                        batch = batch_write(state, transfers, now_ns, *self._head,
                                            expire=pending_ids, sink=copy.write)
                refused = refused_ids(transfers, batch.results)
                if not look_up_ids and refused and conn.execute(
                        LOAD_TRANSFERS, (refused,)).fetchone() is not None:
                    stored_id_seen = True  # a refused transfer may be a retry of a stored one
                    raise psycopg.Rollback
                if len(transfers) < COPY_MIN_ROWS:
                    self._write_batch(conn, batch)
                elif batch.rows:
                    self._commit(conn, COMMIT_STATE, None, batch)
                    self._head = (batch.seq, batch.head_hash)
            except psycopg.errors.UniqueViolation as error:
                if look_up_ids or error.diag.constraint_name != _UNIQUE_ID:
                    raise
                stored_id_seen = True  # an applied transfer's id is stored already
                raise psycopg.Rollback from None
        if stored_id_seen:
            return None
        self._cache.committed(batch)
        return batch.results

    def expire(self, now_ns: int | None = None) -> int:
        with self._write() as conn:
            now_ns = self._clock() if now_ns is None else now_ns
            due = {row[0] for row in conn.execute(
                "SELECT id FROM pendings WHERE status = 'pending' AND expires_at_ns <= %s "
                "ORDER BY expires_at_ns LIMIT %s", (now_ns, MAX_BATCH))}
            state = self._load(conn, set(), due, set())
            state, expiries = expire_due(state, now_ns, only=due)
            batch = effects_write(expiries, state.balances, *self._head)
            self._write_batch(conn, batch)
        self._cache.committed(batch)
        return len(expiries)

    # -- journal --------------------------------------------------------------------------

    def journal(self) -> Iterator[JournalEntry]:
        for row in self._read(f"SELECT {JOURNAL_COLS} FROM journal ORDER BY seq", ()):
            yield JournalEntry(row[0], "expiry" if row[1] == "expiry" else "transfer",
                               transfer_from_row(row), row[12], row[13])

    @staticmethod
    def _journal_pages(conn: Conn, first: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        """Journal rows in seq order, ``_VERIFY_PAGE`` per round trip (keyset paging)."""
        page = first
        while page:
            yield from page
            if len(page) < _VERIFY_PAGE:
                return
            page = conn.execute(JOURNAL_PAGE, (page[-1][0], _VERIFY_PAGE)).fetchall()

    def verify(self) -> VerifyReport:
        """Recompute the chain and replay the journal against the stored balances, pending
        statuses and chain head, all read in one snapshot (REPEATABLE READ)."""
        conn = self._conn
        self._prepared = None  # should its transaction roll back
        with self._lock, self._unavailable_as_error("verify"), conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            head = conn.execute("SELECT seq, hash FROM journal_head WHERE id = 1").fetchone()
            balances = {row[0]: Balance(*row[1:]) for row in conn.execute(
                f"SELECT id, {BALANCE_COLS} FROM accounts")}
            pendings = {row[0]: row[1] for row in conn.execute("SELECT id, status FROM pendings")}
            first = conn.execute(JOURNAL_PAGE, (0, _VERIFY_PAGE)).fetchall()
            return verify_ledger(self._journal_pages(conn, first), balances, pendings,
                                 None if head is None else (head[0], head[1]))
