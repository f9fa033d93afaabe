"""The PostgreSQL ledger schema (the same named, ordered migrations as SQLite's) and the
statements ``PostgresLedgerStore`` runs over it.

The names match ``ciyuan.store.sqlite_schema.LEDGER_MIGRATIONS`` one for one; the types are
PostgreSQL's: amounts, balances and times are BIGINT (signed 64-bit, at most 2**63-1 units,
as on SQLite), flags are BOOLEAN. Differences, each with its reason:

- ``journal_head`` (one row) holds the chain head. Every write transaction takes it
  ``FOR UPDATE`` first, so writers from any number of processes append to the journal in one
  strict order, and a removed tail entry shows up in ``verify``.
- Triggers refuse UPDATE, DELETE and TRUNCATE on the journal (a guard against mistakes; the
  hash chain and ``verify`` are what detect someone with table access).
- Accounts can never be deleted (a trigger refuses DELETE and TRUNCATE; the ledger never
  does it).
- Since 0004 the journal's ids are compared byte for byte (``COLLATE "C"``: the unique
  index on (id, kind) costs a third less to maintain than one under the database's libc
  collation), and no database check ties journal rows to accounts (see ``sqlite_schema``
  for why: the engine already refuses unknown accounts under the head lock, accounts are
  never deleted, and ``verify`` names an entry whose account is missing).
"""

from __future__ import annotations

from ciyuan.ledger import GENESIS_HASH
from ciyuan.store.ledger_rows import ACCOUNT_COLS, BALANCE_COLS, JOURNAL_COLS
from ciyuan.store.migrations import Migration

__all__ = [
    "COMMIT_EFFECTS",
    "COMMIT_STATE",
    "COPY_MIN_ROWS",
    "JOURNAL_COPY",
    "JOURNAL_LAYOUT",
    "JOURNAL_PAGE",
    "JOURNAL_TYPES",
    "LOAD_ACCOUNTS",
    "LOAD_TRANSFERS",
    "PG_LEDGER_MIGRATIONS",
    "PREPARED",
    "PREPARE_EFFECTS",
    "PREPARE_STATE",
]

PG_LEDGER_MIGRATIONS = (
    Migration("0001-ledger-accounts", ("""
        CREATE TABLE accounts (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            unit TEXT NOT NULL,
            owner TEXT NOT NULL,
            debits_must_not_exceed_credits BOOLEAN NOT NULL,
            credits_must_not_exceed_debits BOOLEAN NOT NULL,
            credit_limit BIGINT NOT NULL CHECK (credit_limit >= 0),
            debits_pending BIGINT NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
            debits_posted BIGINT NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
            credits_pending BIGINT NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
            credits_posted BIGINT NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
            created_at_ns BIGINT NOT NULL
        )
    """,)),
    Migration("0002-ledger-journal", ("""
        CREATE TABLE journal (
            seq BIGINT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('transfer', 'expiry')),
            id TEXT NOT NULL,
            debit_account_id TEXT NOT NULL,
            credit_account_id TEXT NOT NULL,
            amount BIGINT NOT NULL,
            code TEXT NOT NULL,
            flags INTEGER NOT NULL,
            pending_id TEXT NOT NULL,
            timeout_s BIGINT NOT NULL,
            metadata TEXT NOT NULL,
            timestamp_ns BIGINT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            UNIQUE (kind, id)
        )""", """
        CREATE TABLE journal_head (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq BIGINT NOT NULL,
            hash TEXT NOT NULL
        )""", f"""
        INSERT INTO journal_head (id, seq, hash) VALUES (1, 0, '{GENESIS_HASH}')""", """
        CREATE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the ledger journal is append-only'; END $$""", """
        CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        FOR EACH ROW EXECUTE FUNCTION journal_append_only()""", """
        CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        FOR EACH ROW EXECUTE FUNCTION journal_append_only()""", """
        CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON journal
        FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only()""", """
        CREATE FUNCTION journal_accounts_exist() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE missing TEXT;
        BEGIN
            SELECT n.account INTO missing FROM (
                SELECT debit_account_id AS account FROM new_rows
                UNION SELECT credit_account_id FROM new_rows) AS n
            WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = n.account) LIMIT 1;
            IF missing IS NOT NULL THEN
                RAISE EXCEPTION foreign_key_violation USING MESSAGE =
                    format('journal entry names account %L, which does not exist', missing);
            END IF;
            RETURN NULL;
        END $$""", """
        CREATE TRIGGER journal_accounts_exist AFTER INSERT ON journal
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION journal_accounts_exist()""", """
        CREATE FUNCTION accounts_are_kept() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'ledger accounts are never deleted'; END $$""", """
        CREATE TRIGGER accounts_no_delete BEFORE DELETE OR TRUNCATE ON accounts
        FOR EACH STATEMENT EXECUTE FUNCTION accounts_are_kept()
    """)),
    Migration("0003-ledger-pendings", ("""
        CREATE TABLE pendings (
            id TEXT PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN ('pending', 'posted', 'voided', 'expired')),
            expires_at_ns BIGINT
        )""", """
        CREATE INDEX pendings_due ON pendings (status, expires_at_ns)
    """)),
    Migration("0004-ledger-journal-keys", (
        "ALTER TABLE journal DROP CONSTRAINT journal_kind_id_key",
        'ALTER TABLE journal ALTER COLUMN kind TYPE TEXT COLLATE "C", '
        'ALTER COLUMN id TYPE TEXT COLLATE "C"',
        "ALTER TABLE journal ADD CONSTRAINT journal_id_kind_key UNIQUE (id, kind)",
        'ALTER TABLE pendings ALTER COLUMN id TYPE TEXT COLLATE "C"',
        "DROP TRIGGER journal_accounts_exist ON journal",
        "DROP FUNCTION journal_accounts_exist()",
    )),
)

# -- the statements the store runs over this schema ------------------------------------

#: Journal rows after a seq, in order (keyset paging for ``verify``).
JOURNAL_PAGE = f"SELECT {JOURNAL_COLS} FROM journal WHERE seq > %s ORDER BY seq LIMIT %s"
#: PostgreSQL types of ``JOURNAL_COLS``, for binding whole columns as arrays.
JOURNAL_TYPES = ("bigint", "text", "text", "text", "text", "bigint", "text", "integer", "text",
                 "bigint", "text", "bigint", "text", "text")
#: Batches of at least this many journal rows are written with COPY (binary), smaller ones
#: in the one statement below: COPY costs two more round trips, but on loopback it inserts
#: 100 rows 3x and 8,190 rows 6-8x faster than INSERT ... SELECT FROM unnest (measured with
#: benchmarks/bench_ledger.py's rows); one row goes faster in the single statement.
COPY_MIN_ROWS = 8
#: The journal rows of a batch, in ``JOURNAL_COLS`` order and ``JOURNAL_TYPES`` types.
JOURNAL_COPY = f"COPY journal ({JOURNAL_COLS}) FROM STDIN (FORMAT BINARY)"
#: The journal's columns for ``ledger_rows.copy_binary``: int8, int4 or text each.
JOURNAL_LAYOUT = bytes({"bigint": 0x71, "integer": 0x69, "text": 0x74}[t] for t in JOURNAL_TYPES)
_J_COLS = ", ".join(f"j.{c}" for c in JOURNAL_COLS.split(", "))
#: Stored transfers by id, each with its pending status (NULL unless it is a PENDING).
#: One index probe per id whatever the statistics say: a LATERAL subquery with LIMIT and a
#: scalar subquery are never turned into joins. (``id = ANY(...)`` with statistics gone
#: stale while the journal grew made the planner scan every stored transfer: 2 ms per batch
#: of 100 at 20,000 entries, growing with the journal.)
LOAD_TRANSFERS = (f"SELECT {_J_COLS}, (SELECT p.status FROM pendings p WHERE p.id = j.id) "
                  "FROM unnest(%s::text[]) AS k (id) CROSS JOIN LATERAL (SELECT * FROM "
                  "journal WHERE kind = 'transfer' AND id = k.id LIMIT 1) AS j")
#: Accounts by id (the batch's and those of the pendings it resolves), one probe per id.
_A_COLS = ", ".join(f"a.{c}" for c in f"{ACCOUNT_COLS}, {BALANCE_COLS}".split(", "))
LOAD_ACCOUNTS = (f"SELECT {_A_COLS} "
                 "FROM unnest(%s::text[]) AS k (id) CROSS JOIN LATERAL (SELECT * FROM accounts "
                 "WHERE id = k.id LIMIT 1) AS a")
def _write_state(balances: str, pendings: str, seq: str, head_hash: str) -> str:
    """The state part of a write, with the given parameter markers."""
    return (
        "b AS (UPDATE accounts SET debits_pending = v.dp, debits_posted = v.dpo, "
        f"credits_pending = v.cp, credits_posted = v.cpo FROM json_to_recordset({balances}) "
        "AS v (id text, dp bigint, dpo bigint, cp bigint, cpo bigint) "
        "WHERE accounts.id = v.id), "
        "p AS (INSERT INTO pendings (id, status, expires_at_ns) "
        f"SELECT * FROM json_to_recordset({pendings}) AS v (id text, s text, e bigint) "
        "ON CONFLICT (id) DO UPDATE SET status = excluded.status) "
        f"UPDATE journal_head SET seq = {seq}, hash = {head_hash} WHERE id = 1")


#: After the journal rows (COPY): final balances, pending statuses (upsert) and the new chain
#: head in one statement, prepared by name once per connection, so that a write can run it
#: by the simple protocol in the same round trip as its COMMIT (``COMMIT_STATE``) and still
#: have it planned once. Balances and pendings come as one JSON array of objects each
#: (``json.dumps`` in C, then ``json_to_recordset``: a tenth of the client's cost of binding
#: them as eight typed arrays, 137 µs for a batch touching 11 accounts; integers go through
#: JSON as exact decimal text).
PREPARE_STATE = ("PREPARE ciyuan_write_state (text, text, bigint, text) AS WITH "
                 + _write_state("$1::json", "$2::json", "$3", "$4"))
#: The last round trip of a write from COPY: the state, then COMMIT, by the simple protocol
#: (the values are written in as literals quoted by libpq's ``PQescapeLiteral``: psycopg's
#: client-side binding cost 0.2 ms of CPU a call).
COMMIT_STATE = b"EXECUTE ciyuan_write_state (%b, %b, %d, %b); COMMIT"
#: Every write of a small batch in one statement, prepared by name once per connection and
#: run with COMMIT in one round trip (``COMMIT_EFFECTS``): journal rows from a JSON array
#: of objects keyed by column (``json_to_recordset``, columns in ``JOURNAL_COLS`` order),
#: then the state as in ``PREPARE_STATE``. (Bound as 14 typed arrays instead, psycopg's
#: client-side array dumping cost more than the round trip saved.)
_JOURNAL_RECORD = ", ".join(f"{c} {t}" for c, t in zip(JOURNAL_COLS.split(", "),
                                                        JOURNAL_TYPES, strict=True))
PREPARE_EFFECTS = (
    "PREPARE ciyuan_write_effects (text, text, text, bigint, text) AS WITH j AS ("
    f"INSERT INTO journal ({JOURNAL_COLS}) SELECT * FROM json_to_recordset($1::json) "
    f"AS r ({_JOURNAL_RECORD})), " + _write_state("$2::json", "$3::json", "$4", "$5"))
#: A small batch's one round trip: its journal rows and state, then COMMIT.
COMMIT_EFFECTS = b"EXECUTE ciyuan_write_effects (%b, %b, %b, %d, %b); COMMIT"
#: The names of the statements a write session prepares (see ``PostgresLedgerStore``).
PREPARED = {"ciyuan_write_state": PREPARE_STATE, "ciyuan_write_effects": PREPARE_EFFECTS}
