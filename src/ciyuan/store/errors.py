"""Errors of ``ciyuan.store``: where the database is and whether it can be reached.

::

    ConfigError
    └── StoreUrlError            a database URL ciyuan cannot open (scheme, missing path)
    NotFoundError
    └── StoreNotFoundError       a read-only command named a SQLite file that does not exist
    CiyuanError
    ├── StoreUnavailableError    the database server cannot be reached or dropped the connection
    └── StoreSyncError           the write-ahead log could not be forced to disk (group commit)
"""

from __future__ import annotations

from ciyuan.core.errors import CiyuanError, ConfigError, NotFoundError

__all__ = ["StoreNotFoundError", "StoreSyncError", "StoreUnavailableError", "StoreUrlError"]


class StoreUrlError(ConfigError):
    code = "store-url-invalid"
    summary = ("A database URL has an unsupported scheme or no path; use "
               "sqlite:///path/to/file.db or postgresql://user@host:5432/dbname (--db or "
               "CIYUAN_DB).")


class StoreNotFoundError(NotFoundError):
    code = "store-not-found"
    summary = ("The SQLite database file does not exist, so there is nothing to read; check "
               "--db / CIYUAN_DB (relative paths start from the current directory).")


class StoreUnavailableError(CiyuanError):
    code = "store-unavailable"
    summary = ("The database server cannot be reached, refused the login, or dropped the "
               "connection; check the URL, that the server runs, and retry. A write that was "
               "cut off may or may not have been applied: retry it with the same transfer ids.")


class StoreSyncError(CiyuanError):
    code = "store-sync-failed"
    summary = ("The database's write-ahead log could not be forced to disk, or the gateway's "
               "shared commit failed, so what was just written may not survive or was lost; "
               "check the disk and its free space, restart the gateway, run ciyuan reconcile.")
