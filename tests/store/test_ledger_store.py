"""The ledger store contract: schema, durability across reopen, batch bound, tamper evidence.

Every test runs on SQLite and on PostgreSQL (see ``conftest.py``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from store_targets import Backend, SqliteTarget, Target

from ciyuan.ledger import (
    GENESIS_HASH,
    Account,
    AccountKind,
    Balance,
    Result,
    Transfer,
    TransferFlags,
    chain_hash,
)
from ciyuan.ledger.errors import (
    LedgerAccountNotFoundError,
    LedgerBatchTooLargeError,
    LedgerJournalTamperedError,
    LedgerSchemaError,
)
from ciyuan.store import (
    LedgerStore,
    ledger_rows,
    postgres_ledger,
    postgres_schema,
    sqlite_ledger,
    sqlite_schema,
)
from ciyuan.store.errors import StoreUnavailableError
from ciyuan.store.protocol import MAX_BATCH

USD = 10**9
ACCOUNTS = [Account("funding", AccountKind.FUNDING, "USD", "platform"),
            Account("wallet", AccountKind.WALLET, "USD", "t1",
                    debits_must_not_exceed_credits=True),
            Account("revenue", AccountKind.PLATFORM_REVENUE, "USD", "platform")]
MIGRATIONS = ["0001-ledger-accounts", "0002-ledger-journal", "0003-ledger-pendings",
              "0004-ledger-journal-keys"]
#: What the drivers raise when a trigger refuses a change to the journal.
REFUSED = (sqlite3.IntegrityError, psycopg.errors.RaiseException)


@pytest.fixture
def store(ledger_store: LedgerStore) -> LedgerStore:
    assert ledger_store.create_accounts(ACCOUNTS) == ["ok"] * 3
    return ledger_store


def some_history(store: LedgerStore) -> None:
    results = store.submit([
        Transfer("topup", "funding", "wallet", 10 * USD, "topup"),
        Transfer("r1", "wallet", "revenue", 2 * USD, flags=TransferFlags.PENDING, timeout_s=1),
        Transfer("call-1", "wallet", "revenue", 150, metadata=(("model", "gpt-4o"),)),
        Transfer("p1", "wallet", "revenue", USD, flags=TransferFlags.POST_PENDING,
                 pending_id="r1"),
        Transfer("r2", "wallet", "revenue", 3, flags=TransferFlags.PENDING, timeout_s=1),
    ])
    assert results == ["ok"] * 5
    assert store.expire(now_ns=1_000 + 10**9) == 1


def test_is_a_ledger_store(store: LedgerStore) -> None:
    assert store.accounts(["wallet"])["wallet"] == ACCOUNTS[1]


def test_migrations_are_named_ordered_and_run_once(store_target: Target,
                                                   store: LedgerStore) -> None:
    store.close()
    store_target.open().close()
    names = [r[0] for r in store_target.sql("SELECT name FROM _migrations ORDER BY seq")]
    assert names == MIGRATIONS
    if isinstance(store_target, SqliteTarget):
        assert store_target.sql("PRAGMA journal_mode") == [("wal",)]
    store_target.sql("INSERT INTO _migrations (seq, name) VALUES (99, '9999-from-the-future')")
    with pytest.raises(LedgerSchemaError, match="upgrade ciyuan"):
        store_target.open()


def test_balance_of_an_unknown_account(store: LedgerStore) -> None:
    assert store.balance("wallet") == Balance()
    with pytest.raises(LedgerAccountNotFoundError, match="create it"):
        store.balance("nobody")


def test_accounts_are_idempotent(store: LedgerStore) -> None:
    changed = Account("wallet", AccountKind.WALLET, "USD", "t2")
    assert store.create_accounts([ACCOUNTS[1], changed]) == [
        Result.OK, Result.EXISTS_WITH_DIFFERENT_FIELDS]
    assert store.accounts(["wallet"])["wallet"] == ACCOUNTS[1]
    assert store.create_accounts([]) == []


def test_history_survives_reopen_and_verifies(store_target: Target, store: LedgerStore) -> None:
    some_history(store)
    store.close()
    again = store_target.open()
    try:
        assert again.balances(["wallet", "revenue", "nobody"]) == {
            "wallet": Balance(0, USD + 150, 0, 10 * USD),
            "revenue": Balance(0, 0, 0, USD + 150)}
        assert again.transfers(["call-1"])["call-1"].metadata == (("model", "gpt-4o"),)
        kinds = [(e.kind, e.transfer.id) for e in again.journal()]
        assert kinds[-1] == ("expiry", "r2")
        report = again.verify()
        assert report.ok and report.entries == 6 and report.head_hash != GENESIS_HASH
    finally:
        again.close()


def test_chain_hash_is_the_documented_formula(store: LedgerStore) -> None:
    some_history(store)
    prev = GENESIS_HASH
    for entry in store.journal():
        assert entry.prev_hash == prev
        assert entry.hash == chain_hash(prev, entry.seq, entry.kind, entry.transfer)
        prev = entry.hash


def test_journal_refuses_update_and_delete(store_target: Target, store: LedgerStore) -> None:
    some_history(store)
    statements = ["UPDATE journal SET amount = 1", "DELETE FROM journal"]
    if not isinstance(store_target, SqliteTarget):
        statements.append("TRUNCATE journal")
    for statement in statements:
        with pytest.raises(REFUSED, match="append-only"):
            store_target.sql(statement)
    assert store.verify().ok


def test_a_writer_sees_what_another_writer_committed(store_target: Target,
                                                     store: LedgerStore) -> None:
    """Each store keeps the accounts it last read or wrote (ledger_rows.AccountCache); a
    write by another store on the same database moves the chain head, and the next write
    here reads the balances again instead of spending money that is gone."""
    other = store_target.open(clock=lambda: 1_000)
    try:
        assert store.submit([Transfer("fund", "funding", "wallet", 10)]) == ["ok"]
        assert store.submit([Transfer("a1", "wallet", "revenue", 1)]) == ["ok"]
        assert other.submit([Transfer("b1", "wallet", "revenue", 6)]) == ["ok"]
        assert store.submit([Transfer("a2", "wallet", "revenue", 6)]) == ["exceeds-credits"]
        assert store.submit([Transfer("a3", "wallet", "revenue", 3,
                                      flags=TransferFlags.PENDING, timeout_s=1)]) == ["ok"]
        assert other.expire(now_ns=1_000 + 2 * 10**9) == 1  # the hold on 3 is released
        assert store.submit([Transfer("a4", "wallet", "revenue", 3)]) == ["ok"]
        assert other.submit([Transfer("b2", "wallet", "revenue", 1)]) == ["exceeds-credits"]
        assert store.balance("wallet") == other.balance("wallet") == Balance(
            debits_posted=10, credits_posted=10)
        assert store.verify().ok
    finally:
        other.close()


def test_a_hold_kept_by_one_writer_and_voided_by_another_is_not_posted(
        store_target: Target, store: LedgerStore) -> None:
    """A store keeps the holds it placed until they are resolved (ledger_rows.AccountCache),
    so settling one reads nothing back; a void by another store on the same database moves
    the chain head, and the post here then finds the hold voided instead of spending it."""

    def resolve(transfer_id: str, amount: int, flag: TransferFlags, hold: str) -> Transfer:
        return Transfer(transfer_id, "wallet", "revenue", amount, flags=flag, pending_id=hold)

    other = store_target.open(clock=lambda: 1_000)
    try:
        assert store.submit([Transfer("fund", "funding", "wallet", 10)]) == ["ok"]
        holds = [Transfer(i, "wallet", "revenue", 4, flags=TransferFlags.PENDING, timeout_s=60)
                 for i in ("h1", "h2")]
        assert store.submit(holds) == ["ok", "ok"]
        assert other.submit([resolve("v1", 4, TransferFlags.VOID_PENDING, "h1")]) == ["ok"]
        post = resolve("p1", 4, TransferFlags.POST_PENDING, "h1")
        assert store.submit([post]) == ["pending-already-voided"]
        assert store.submit([resolve("p2", 2, TransferFlags.POST_PENDING, "h2")]) == ["ok"]
        assert store.submit([resolve("p3", 1, TransferFlags.POST_PENDING, "h2")]) == [
            "pending-already-posted"]
        assert store.balance("wallet") == other.balance("wallet") == Balance(
            debits_posted=2, credits_posted=10)
        assert store.verify().ok
    finally:
        other.close()


def test_settling_a_hold_placed_here_reads_nothing_back(tmp_path: Path) -> None:
    """The gateway settles each hold it placed a moment before: the post takes the hold
    and its status from the cache (no journal or pendings read), its accounts too."""
    store = sqlite_ledger.SqliteLedgerStore(tmp_path / "ledger.db")
    try:
        assert store.create_accounts(ACCOUNTS) == ["ok"] * 3
        assert store.submit([Transfer("fund", "funding", "wallet", 10),
                             Transfer("h1", "wallet", "revenue", 4, flags=TransferFlags.PENDING,
                                      timeout_s=60)]) == ["ok", "ok"]
        statements: list[str] = []
        store._conn.set_trace_callback(statements.append)
        assert store.submit([Transfer("p1", "wallet", "revenue", 3, pending_id="h1",
                                      flags=TransferFlags.POST_PENDING)]) == ["ok"]
        store._conn.set_trace_callback(None)
        reads = [q for q in statements if q.lstrip().upper().startswith("SELECT")]
        assert reads == [], reads
        assert store.balance("wallet") == Balance(debits_posted=3, credits_posted=10)
        assert store.verify().ok
    finally:
        store.close()


def test_an_id_found_absent_is_seen_once_stored_here_or_by_another_writer(
        store_target: Target, store: LedgerStore) -> None:
    """``transfers`` and ``accounts`` need not ask again for an id they found absent (the
    SQLite store remembers it: the budgets look for a next revision on every call, the
    reservation for the tenant's wallet), but an id stored since, by this store or another
    on the same database, is found."""
    other = store_target.open(clock=lambda: 1_000)
    try:
        assert store.transfers(["t1", "t2"]) == {} and store.transfers(["t1", "t2"]) == {}
        assert store.submit([Transfer("t1", "funding", "wallet", 5)]) == ["ok"]
        assert set(store.transfers(["t1", "t2"])) == {"t1"}
        assert other.submit([Transfer("t2", "funding", "wallet", 6)]) == ["ok"]
        assert store.transfers(["t1", "t2"])["t2"].amount == 6
        first, second = (Account(i, AccountKind.WALLET, "USD", "t2") for i in ("w2", "w3"))
        assert store.accounts(["w2", "w3"]) == {} and store.accounts(["w2", "w3"]) == {}
        assert store.create_accounts([first]) == ["ok"]
        assert store.accounts(["w2", "w3"]) == {"w2": first}
        assert other.create_accounts([second]) == ["ok"]
        assert store.accounts(["w2", "w3"]) == {"w2": first, "w3": second}
    finally:
        other.close()


def test_a_ledger_written_before_migration_4_is_carried_over(
        store_target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    """0004 rebuilds the journal's keys; history written under 0001-0003 survives it whole
    (same entries, still verifying), and its ids stay idempotency keys."""
    monkeypatch.setattr(sqlite_ledger, "LEDGER_MIGRATIONS", sqlite_schema.LEDGER_MIGRATIONS[:3])
    monkeypatch.setattr(postgres_ledger, "PG_LEDGER_MIGRATIONS",
                        postgres_schema.PG_LEDGER_MIGRATIONS[:3])
    old = store_target.open(clock=lambda: 1_000)
    assert old.create_accounts(ACCOUNTS) == ["ok"] * 3
    some_history(old)
    before = list(old.journal())
    old.close()
    monkeypatch.undo()
    store = store_target.open(clock=lambda: 1_000)
    try:
        names = [r[0] for r in store_target.sql("SELECT name FROM _migrations ORDER BY seq")]
        assert names == MIGRATIONS
        assert list(store.journal()) == before and store.verify().ok
        retry = [Transfer("call-1", "wallet", "revenue", 150, metadata=(("model", "gpt-4o"),))]
        assert store.submit(retry) == ["ok"]
        big = [Transfer(f"n{i}", "funding", "revenue", 1) for i in range(20)]
        assert store.submit(big) == ["ok"] * 20 and store.submit(big) == ["ok"] * 20
        assert len(list(store.journal())) == len(before) + 20 and store.verify().ok
    finally:
        store.close()


def test_accounts_are_kept_and_an_entry_naming_a_missing_one_is_found(
        store_target: Target, store: LedgerStore) -> None:
    """No database check ties journal rows to accounts (the engine refuses unknown accounts
    under the write lock; see ciyuan.store.sqlite_schema): accounts can never be deleted, and
    a correctly chained row naming a missing account, added behind the store's back, fails
    ``verify``, which names it."""
    some_history(store)
    with pytest.raises(REFUSED, match="never deleted"):
        store_target.sql("DELETE FROM accounts WHERE id = 'funding'")
    assert store.submit([Transfer("ghost-1", "ghost", "revenue", 1)]) == ["account-not-found"]
    *_, last = store.journal()
    ghost = Transfer("ghost-call", "ghost", "revenue", 1, timestamp_ns=123)
    seq, digest = last.seq + 1, chain_hash(last.hash, last.seq + 1, "transfer", ghost)
    store_target.sql(f"INSERT INTO journal VALUES ({seq}, 'transfer', 'ghost-call', 'ghost', "
                     f"'revenue', 1, 'transfer', 0, '', 0, '[]', 123, '{last.hash}', "
                     f"'{digest}')")
    if not isinstance(store_target, SqliteTarget):
        store_target.sql(f"UPDATE journal_head SET seq = {seq}, hash = '{digest}'")
    report = store.verify()
    assert not report.ok and report.entries == seq, report
    assert (report.first_bad_seq, report.first_bad_id) == (seq, "ghost-call")
    assert "account 'ghost', which the store does not hold" in report.reason


@pytest.mark.parametrize(("statement", "reason"), [
    ("UPDATE journal SET amount = amount + 1 WHERE id = 'call-1'", "content"),
    ("UPDATE journal SET metadata = '[[\"model\",\"cheap\"]]' WHERE id = 'call-1'", "content"),
    ("UPDATE journal SET code = '' WHERE id = 'call-1'", "cannot be read"),
    ("UPDATE journal SET amount = 'lots' WHERE id = 'call-1'", "cannot be read"),
    ("DELETE FROM journal WHERE id = 'call-1'", "sequence"),
])
def test_tampering_is_found_and_named(store_target: Target, store: LedgerStore, statement: str,
                                      reason: str) -> None:
    if "'lots'" in statement and not isinstance(store_target, SqliteTarget):
        pytest.skip("only SQLite lets a text value into an INTEGER column")
    some_history(store)
    assert store.verify().ok
    store_target.disable_journal_guards()  # someone with database access can do this
    store_target.sql(statement)
    report = store.verify()
    deleted = reason == "sequence"  # the gap shows at the entry after the deleted one
    assert not report.ok and reason in report.reason and report.entries == 2
    assert (report.first_bad_seq, report.first_bad_id) == ((4, "p1") if deleted else (3, "call-1"))
    with pytest.raises(LedgerJournalTamperedError, match="journal entry"):
        report.raise_if_bad()


@pytest.mark.parametrize(("statement", "named"), [
    ("UPDATE accounts SET credits_posted = credits_posted + 1 WHERE id = 'revenue'",
     "account 'revenue'"),
    ("UPDATE accounts SET debits_pending = 3 WHERE id = 'wallet'", "account 'wallet'"),
    ("UPDATE pendings SET status = 'pending' WHERE id = 'r1'", "pending 'r1'"),
])
def test_verify_replays_the_journal_against_stored_state(store_target: Target,
                                                          store: LedgerStore, statement: str,
                                                          named: str) -> None:
    some_history(store)
    store_target.sql(statement)
    report = store.verify()
    assert not report.ok and report.entries == 6, report
    assert named in report.reason and "replay of the journal" in report.reason
    assert report.first_bad_seq is not None and report.first_bad_seq >= 4  # last entry touching it


def test_a_removed_last_entry_is_found(store_target: Target, store: LedgerStore) -> None:
    some_history(store)
    store_target.disable_journal_guards()
    store_target.sql("DELETE FROM journal WHERE seq = 6")
    report = store.verify()
    assert not report.ok and report.entries == 5
    assert report.first_bad_seq in (4, 5, 6), report  # the tail or the entry touching 'r2'


def test_batch_bound(store: LedgerStore) -> None:
    too_many = [Transfer(f"t{i}", "funding", "revenue", 1) for i in range(MAX_BATCH + 1)]
    with pytest.raises(LedgerBatchTooLargeError):
        store.submit(too_many)
    assert store.balances(["revenue"])["revenue"] == Balance()
    assert store.submit(too_many[:MAX_BATCH]) == ["ok"] * MAX_BATCH
    assert store.verify().entries == MAX_BATCH


def test_same_key_across_batches_and_within_one(store: LedgerStore) -> None:
    t = Transfer("k", "funding", "revenue", 5)
    assert store.submit([t, t]) == ["ok", "ok"]
    assert store.submit([Transfer("k", "funding", "revenue", 6)]) == [
        Result.EXISTS_WITH_DIFFERENT_FIELDS]
    assert store.balances(["revenue"])["revenue"].credits_posted == 5
    assert store.verify().entries == 1


def test_a_refused_batch_writes_nothing(store: LedgerStore) -> None:
    assert store.submit([Transfer("x", "wallet", "revenue", 1)]) == [Result.EXCEEDS_CREDITS]
    assert store.verify().entries == 0
    assert store.transfers(["x"]) == {}


def test_a_large_batch_retried_with_changes_is_answered_per_transfer(store: LedgerStore) -> None:
    """A retry that mixes stored, changed and new transfers (PostgreSQL: COPY, and the
    attempt that assumes no stored id is rolled back and run again with lookups)."""
    batch = [Transfer(f"r{i}", "funding", "revenue", 3) for i in range(100)]
    assert store.submit(batch) == ["ok"] * 100
    changed = Transfer("r7", "funding", "revenue", 4)
    refused_retry = Transfer("r8", "wallet", "revenue", 3)  # stored with other accounts
    retry = [*batch[:7], changed, refused_retry, *batch[9:], Transfer("new", "funding",
                                                                      "revenue", 1)]
    assert store.submit(retry) == (["ok"] * 7 + [Result.EXISTS_WITH_DIFFERENT_FIELDS] * 2
                                   + ["ok"] * 92)
    assert store.balances(["revenue"])["revenue"].credits_posted == 301
    assert store.submit([refused_retry]) == [Result.EXISTS_WITH_DIFFERENT_FIELDS]
    assert store.submit(batch[:1]) == ["ok"]
    report = store.verify()
    assert report.ok and report.entries == 101, report


#: Ids that need quoting in SQL array literals, JSON or COPY: quotes, backslashes, braces,
#: commas, blanks, a tab, "NULL", non-ASCII and a character outside the BMP.
ODD_IDS = ['q"uote', "back\\slash", "{brace}", "com,ma", " blank ", "tab\there", "NULL",
           "钱包-é", "emoji-😀", "\\N"]


@pytest.mark.parametrize("native", [True, False], ids=["compiled", "python"])
@pytest.mark.parametrize("copies", [1, 3], ids=["one-statement", "copy"])
def test_odd_ids_keep_their_balances_and_pendings(store: LedgerStore, copies: int,
                                                  native: bool,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Account and transfer ids of any text round-trip through every write path: batches
    of 4 go in one statement, batches of 12 (from COPY_MIN_ROWS) in COPY then the state
    statement, on PostgreSQL; with the compiled engine and COPY encoding, and without."""
    monkeypatch.setattr(ledger_rows, "NATIVE", native and ledger_rows.NATIVE)
    assert 4 < postgres_schema.COPY_MIN_ROWS <= 12
    accounts = [Account(f"w-{i}", AccountKind.WALLET, "USD", "t1",
                        debits_must_not_exceed_credits=True) for i in ODD_IDS]
    assert store.create_accounts(accounts) == ["ok"] * len(accounts)
    odd, rest = ODD_IDS[:4], ODD_IDS[4:]
    tops = [Transfer(f"top-{i}-{k}", "funding", f"w-{i}", 10, metadata=(("note", i),))
            for i in odd for k in range(copies)]
    holds = [Transfer(f"hold-{i}-{k}", f"w-{i}", "revenue", 1, flags=TransferFlags.PENDING,
                      timeout_s=60) for i in odd for k in range(copies)]
    posts = [Transfer(f"post-{i}-{k}", f"w-{i}", "revenue", 1,
                      flags=TransferFlags.POST_PENDING, pending_id=f"hold-{i}-{k}")
             for i in odd for k in range(copies)]
    others = [Transfer(f"top-{i}", "funding", f"w-{i}", 10) for i in rest]
    assert store.submit(tops, now_ns=1_000) == ["ok"] * len(tops)
    assert store.submit(others, now_ns=1_000) == ["ok"] * len(others)
    assert store.submit(holds, now_ns=1_000) == ["ok"] * len(holds)
    balances = store.balances([a.id for a in accounts])
    for i in odd:
        assert balances[f"w-{i}"] == Balance(credits_posted=10 * copies,
                                             debits_pending=copies), i
    for i in rest:
        assert balances[f"w-{i}"] == Balance(credits_posted=10), i
    assert sorted(store.transfers([t.id for t in holds])) == sorted(t.id for t in holds)
    assert store.submit(posts, now_ns=2_000) == ["ok"] * len(posts)
    assert store.submit(posts[:1], now_ns=2_000) == ["ok"]  # an idempotent retry
    for i in odd:
        assert store.balance(f"w-{i}") == Balance(credits_posted=10 * copies,
                                                  debits_posted=copies), i
    report = store.verify()
    assert report.ok, report


def test_a_failed_write_leaves_nothing(store_target: Target, store: LedgerStore) -> None:
    """SQLite: a failure after the batch's statements and before COMMIT."""
    if store_target.name != "sqlite":
        pytest.skip("PostgreSQL writes and commits in one query: a failing statement there "
                    "is test_a_failed_state_and_commit_leave_nothing")

    class Boom(Exception):
        pass

    original = store._write_batch  # type: ignore[attr-defined]

    def fail_after_write(*args: object) -> None:
        original(*args)
        raise Boom

    store._write_batch = fail_after_write  # type: ignore[attr-defined]
    with pytest.raises(Boom):
        store.submit([Transfer("x", "funding", "revenue", 5)])
    store._write_batch = original  # type: ignore[attr-defined]
    assert store.balances(["revenue"])["revenue"] == Balance()
    assert store.transfers(["x"]) == {}
    assert store.submit([Transfer("x", "funding", "revenue", 5)]) == ["ok"]
    assert store.verify().ok


@pytest.mark.parametrize("size", [1, postgres_schema.COPY_MIN_ROWS], ids=["one-query", "copy"])
def test_a_failed_state_and_commit_leave_nothing(store_target: Target, store: LedgerStore,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 size: int) -> None:
    """PostgreSQL sends a batch's last statement with COMMIT in one query: when it fails,
    the server skips the COMMIT and every row of the batch (COPY's too) is rolled back."""
    if store_target.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite commits in a statement of its own")
    batch = [Transfer(f"c{i}", "funding", "revenue", 5) for i in range(size)]
    state_params = postgres_ledger._state_params
    monkeypatch.setattr(postgres_ledger, "_state_params",  # a balance the server refuses
                        lambda b: ('[{"id": "revenue", "dp": "lots"}]', *state_params(b)[1:]))
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        store.submit(batch)
    monkeypatch.undo()
    assert store.transfers([t.id for t in batch]) == {}
    assert store.balances(["revenue"])["revenue"] == Balance()
    assert store.verify().entries == 0
    assert store.submit(batch) == ["ok"] * len(batch)
    assert store.balance("revenue").credits_posted == 5 * len(batch)
    assert store.verify().ok


def test_a_copy_cut_off_by_an_error_leaves_nothing(store_target: Target, store: LedgerStore,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception while a batch's rows stream into COPY ends the COPY as failed and rolls
    the transaction back; the store's session stays usable."""
    if store_target.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no COPY")

    class Boom(Exception):
        pass

    def fail(*args: object) -> bytes:
        raise Boom

    batch = [Transfer(f"cut-{i}", "funding", "revenue", 3) for i in range(20)]
    monkeypatch.setattr(postgres_ledger, "copy_binary", fail)
    with pytest.raises(Boom):
        store.submit(batch)
    monkeypatch.undo()
    assert store.transfers([t.id for t in batch]) == {}
    assert store.submit(batch) == ["ok"] * 20
    assert store.balance("revenue").credits_posted == 60
    assert store.verify().ok


@pytest.mark.parametrize("size", [1, 12], ids=["one-statement", "copy"])
def test_a_lost_connection_is_store_unavailable(store_target: Target, store: LedgerStore,
                                                size: int) -> None:
    """The server ends the store's session: the next write says the store is unavailable
    and that a cut-off write should be retried with the same ids; a reopened store takes
    that retry."""
    if store_target.name != "postgresql":
        pytest.skip("PostgreSQL only: an SQLite store has no connection to lose")
    batch = [Transfer(f"lost-{i}", "funding", "revenue", 2) for i in range(size)]
    pid = store._conn.info.backend_pid  # type: ignore[attr-defined]
    store_target.sql(f"SELECT pg_terminate_backend({pid})")
    with pytest.raises(StoreUnavailableError, match="retry it with the same transfer ids"):
        store.submit(batch)
    store.close()
    reopened = store_target.open(clock=lambda: 1_000)
    try:
        assert reopened.submit(batch) == ["ok"] * size
        assert reopened.balance("revenue").credits_posted == 2 * size
        assert reopened.verify().ok
    finally:
        reopened.close()


@pytest.mark.parametrize("size", [1, postgres_schema.COPY_MIN_ROWS], ids=["one-query", "copy"])
def test_writes_survive_psycopg_dropping_prepared_statements(
        store_target: Target, store: LedgerStore, monkeypatch: pytest.MonkeyPatch,
        size: int) -> None:
    """A write's last query runs statements the store prepared in its session. psycopg
    deallocates every prepared statement of a session when one of its own transactions
    rolls back while it holds prepared statements (after five uses of a query): here a
    ``verify`` that fails inside its snapshot. Later writes prepare them again; retried
    batches (whose first attempt the store rolls back itself) keep working too."""
    if store_target.name != "postgresql":
        pytest.skip("PostgreSQL only: the SQLite store prepares nothing of its own")
    batches = [[Transfer(f"b{n}-{i}", "funding", "revenue", 1) for i in range(size)]
               for n in range(8)]
    for batch in batches[:6]:  # enough uses for psycopg to prepare its own statements
        assert store.submit(batch) == ["ok"] * size
        assert store.transfers([batch[0].id])

    class Boom(Exception):
        pass

    def fail(*args: object) -> None:
        raise Boom

    monkeypatch.setattr(postgres_ledger, "verify_ledger", fail)
    with pytest.raises(Boom):
        store.verify()
    monkeypatch.undo()
    session = store._conn  # type: ignore[attr-defined]
    held = session.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    assert held == (0,), "psycopg deallocated the session's prepared statements"
    assert store.submit(batches[6]) == ["ok"] * size
    assert store.submit(batches[0]) == ["ok"] * size  # a retry: first attempt rolled back
    assert store.submit(batches[7]) == ["ok"] * size
    assert store.balance("revenue").credits_posted == 8 * size
    assert store.verify().ok


def test_sqlite_and_postgresql_write_identical_journals(pg_database_url: str,
                                                        tmp_path: Path) -> None:
    """Same history, same bytes hashed: the chain does not depend on the backend."""
    heads = []
    for name in ("sqlite", "postgresql"):
        backend = Backend(name, tmp_path, pg_database_url)
        store = backend.fresh().open(clock=lambda: 1_000)
        try:
            store.create_accounts(ACCOUNTS)
            some_history(store)
            heads.append([(e.seq, e.kind, e.transfer, e.hash) for e in store.journal()])
        finally:
            store.close()
            backend.cleanup()
    assert heads[0] == heads[1]
