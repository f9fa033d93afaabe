"""The SQLite ledger schema, as named, ordered migrations.

Amounts and balances are INTEGER (signed 64-bit): at most 2**63-1 ledger units, about
9.2e9 USD at nano-unit scale (see ``ciyuan.ledger.units``). The journal is append-only:
triggers refuse UPDATE and DELETE (a guard against mistakes, not against an attacker with
file access; the hash chain and ``verify`` are what detect that).

Migration 0004 rebuilds the journal without the foreign keys to ``accounts`` that 0002 gave
it, with its unique index as (id, kind), and makes accounts undeletable (a trigger). The
check the foreign keys made is the engine's first rule: a transfer naming an account the
store does not hold is refused (``account-not-found``) inside the write transaction that
appends it, and an account, once there, never goes away. A journal row written behind the
store's back that names a missing account is found by ``verify`` (the replay's balances
then name an account the store does not hold). The foreign keys cost a sixth of the
batched insert rate (two index probes a row; benchmarks/bench_ledger.py), for a check that
can never fail on the store's own writes. PostgreSQL's schema does the same.
"""

from __future__ import annotations

from ciyuan.store.migrations import Migration

__all__ = ["LEDGER_MIGRATIONS"]

LEDGER_MIGRATIONS = (
    Migration("0001-ledger-accounts", ("""
        CREATE TABLE accounts (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            unit TEXT NOT NULL,
            owner TEXT NOT NULL,
            debits_must_not_exceed_credits INTEGER NOT NULL,
            credits_must_not_exceed_debits INTEGER NOT NULL,
            credit_limit INTEGER NOT NULL CHECK (credit_limit >= 0),
            debits_pending INTEGER NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
            debits_posted INTEGER NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
            credits_pending INTEGER NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
            credits_posted INTEGER NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
            created_at_ns INTEGER NOT NULL
        )
    """,)),
    Migration("0002-ledger-journal", ("""
        CREATE TABLE journal (
            seq INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('transfer', 'expiry')),
            id TEXT NOT NULL,
            debit_account_id TEXT NOT NULL REFERENCES accounts (id),
            credit_account_id TEXT NOT NULL REFERENCES accounts (id),
            amount INTEGER NOT NULL,
            code TEXT NOT NULL,
            flags INTEGER NOT NULL,
            pending_id TEXT NOT NULL,
            timeout_s INTEGER NOT NULL,
            metadata TEXT NOT NULL,
            timestamp_ns INTEGER NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            UNIQUE (kind, id)
        )""", """
        CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'the ledger journal is append-only'); END""", """
        CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'the ledger journal is append-only'); END
    """)),
    Migration("0003-ledger-pendings", ("""
        CREATE TABLE pendings (
            id TEXT PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN ('pending', 'posted', 'voided', 'expired')),
            expires_at_ns INTEGER
        )""", """
        CREATE INDEX pendings_due ON pendings (status, expires_at_ns)
    """)),
    Migration("0004-ledger-journal-keys", ("""
        CREATE TABLE journal_keyed (
            seq INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('transfer', 'expiry')),
            id TEXT NOT NULL,
            debit_account_id TEXT NOT NULL,
            credit_account_id TEXT NOT NULL,
            amount INTEGER NOT NULL,
            code TEXT NOT NULL,
            flags INTEGER NOT NULL,
            pending_id TEXT NOT NULL,
            timeout_s INTEGER NOT NULL,
            metadata TEXT NOT NULL,
            timestamp_ns INTEGER NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            UNIQUE (id, kind)
        )""", """
        INSERT INTO journal_keyed SELECT * FROM journal ORDER BY seq""", """
        DROP TABLE journal""", """
        ALTER TABLE journal_keyed RENAME TO journal""", """
        CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'the ledger journal is append-only'); END""", """
        CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'the ledger journal is append-only'); END""", """
        CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts
        BEGIN SELECT RAISE(ABORT, 'ledger accounts are never deleted'); END
    """)),
)
