"""Errors of ``ciyuan.ledger`` and its stores; each says what to do next.

Malformed values are refused when they are built (a typed error); well-formed transfers that
the ledger cannot accept get a :class:`~ciyuan.ledger.results.Result` code instead::

    InputError
    ├── LedgerAmountTypeError       an amount that is not a plain int (floats are refused)
    ├── LedgerAmountRangeError      an amount outside ±(2**63-1) (SQLite INTEGER)
    ├── LedgerUnitError             an unknown currency or unit code
    ├── LedgerAccountInvalidError   an account field is malformed
    ├── LedgerTransferInvalidError  a transfer field is malformed
    └── LedgerBatchTooLargeError    a batch over the batch bound
    NotFoundError
    └── LedgerAccountNotFoundError  ``balance()`` asked for an unknown account
    CiyuanError
    ├── LedgerJournalTamperedError  ``verify`` found an entry whose hash does not match
    └── LedgerSchemaError           the database was written by a newer ciyuan
"""

from __future__ import annotations

from ciyuan.core.errors import CiyuanError, InputError, NotFoundError

__all__ = [
    "LedgerAccountInvalidError",
    "LedgerAccountNotFoundError",
    "LedgerAmountRangeError",
    "LedgerAmountTypeError",
    "LedgerBatchTooLargeError",
    "LedgerJournalTamperedError",
    "LedgerSchemaError",
    "LedgerTransferInvalidError",
    "LedgerUnitError",
]


class LedgerAmountTypeError(InputError, TypeError):
    code = "ledger-amount-not-int"
    summary = ("A ledger amount is not a plain int (floats and bools are refused); convert "
               "money with ciyuan.core.money and pass integer nano-units.")


class LedgerAmountRangeError(InputError, ValueError):
    code = "ledger-amount-out-of-range"
    summary = ("A ledger amount is outside ±(2**63-1) units (about 9.2e9 USD at nano-unit "
               "scale); split the transfer.")


class LedgerUnitError(InputError, ValueError):
    code = "ledger-unknown-unit"
    summary = ("An account names an unknown currency or unit; use USD, CNY, EUR, TOKEN or "
               "TOKEN:<name>.")


class LedgerAccountInvalidError(InputError, ValueError):
    code = "ledger-account-invalid"
    summary = "An account field is malformed; the message names the field."


class LedgerTransferInvalidError(InputError, ValueError):
    code = "ledger-transfer-invalid"
    summary = "A transfer field is malformed (empty id, bad metadata, negative timeout)."


class LedgerBatchTooLargeError(InputError, ValueError):
    code = "ledger-batch-too-large"
    summary = "A batch holds more transfers or accounts than the bound (8,190); split it."


class LedgerAccountNotFoundError(NotFoundError):
    code = "ledger-account-not-found"
    summary = "No ledger account has that id; create it first."


class LedgerJournalTamperedError(CiyuanError):
    code = "ledger-journal-tampered"
    summary = ("A journal entry's SHA-256 chain hash does not match its content; the message "
               "names the first bad entry. Restore from a backup and investigate.")


class LedgerSchemaError(CiyuanError):
    code = "ledger-schema-newer"
    summary = "The ledger database has migrations this ciyuan does not know; upgrade ciyuan."
