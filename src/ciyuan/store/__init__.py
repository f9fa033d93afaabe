"""ciyuan.store: persistence behind narrow, per-aggregate interfaces.

Owns the :class:`LedgerStore` protocol and its SQLite implementation (WAL, one writer
connection, ``BEGIN IMMEDIATE``, named ordered migrations). In: ledger values from
``ciyuan.ledger``; out: the same values read back. The ledger rules themselves live in
``ciyuan.ledger.engine``; a store only loads, locks and writes.
"""

from ciyuan.store.migrations import Migration, apply_migrations
from ciyuan.store.protocol import LedgerStore
from ciyuan.store.sqlite_ledger import SqliteLedgerStore

__all__ = ["LedgerStore", "Migration", "SqliteLedgerStore", "apply_migrations"]
