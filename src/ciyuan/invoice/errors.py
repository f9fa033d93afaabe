"""Errors of ``ciyuan.invoice`` (invoices, credit notes, settlement) and its stores.

Each says what to do next::

    InputError
    ├── InvoicePeriodInvalidError   a month or time zone that cannot be a billing period
    ├── InvoicePeriodOpenError      issuing before the period's grace period has passed
    ├── CreditNoteInvalidError      a credit note that cannot be issued as asked
    └── SettlementTermsError        revenue shares or fees outside 0 .. 1
    NotFoundError
    └── InvoiceNotFoundError        no issued document has that number
    ConfigError
    └── InvoiceConfigError          a malformed ``[invoice]`` table in ciyuan.toml
    CiyuanError
    ├── InvoiceImmutableError       an issued document would be changed
    ├── InvoiceConflictError        another process issued a document of the period meanwhile
    ├── InvoicePostingError         the ledger refused a transfer of an issued document
    └── InvoiceSchemaError          the invoice tables were written by a newer ciyuan
"""

from __future__ import annotations

from ciyuan.core.errors import CiyuanError, ConfigError, InputError, NotFoundError

__all__ = [
    "CreditNoteInvalidError",
    "InvoiceConfigError",
    "InvoiceConflictError",
    "InvoiceImmutableError",
    "InvoiceNotFoundError",
    "InvoicePeriodInvalidError",
    "InvoicePeriodOpenError",
    "InvoicePostingError",
    "InvoiceSchemaError",
    "SettlementTermsError",
]


class InvoicePeriodInvalidError(InputError, ValueError):
    code = "invoice-period-invalid"
    summary = ("A billing period is not a month written YYYY-MM, or its time zone is not an "
               "IANA name such as Asia/Shanghai.")


class InvoicePeriodOpenError(InputError):
    code = "invoice-period-open"
    summary = ("The period cannot be finalized yet: it ends, plus the grace period for late "
               "events, at the time the message gives; show a draft until then.")


class CreditNoteInvalidError(InputError):
    code = "credit-note-invalid"
    summary = ("A credit note would credit more than the invoice still holds, credit a credit "
               "note, or has an amount finer than the currency's minor unit.")


class SettlementTermsError(InputError, ValueError):
    code = "settlement-terms-invalid"
    summary = "A revenue share or reseller fee is not a decimal between 0 and 1."


class InvoiceNotFoundError(NotFoundError):
    code = "invoice-not-found"
    summary = "No issued invoice or credit note has that number; `ciyuan invoice` lists them."


class InvoiceConfigError(ConfigError):
    code = "invoice-config-invalid"
    summary = "The [invoice] table of ciyuan.toml is malformed; the message names the key."


class InvoiceImmutableError(CiyuanError):
    code = "invoice-immutable"
    summary = ("An issued invoice or credit note cannot change; correct it with a credit note "
               "(or a supplementary invoice for late usage).")


class InvoiceConflictError(CiyuanError):
    code = "invoice-conflict"
    summary = ("Another process issued a document of the same tenant and period at the same "
               "time; run the command again.")


class InvoicePostingError(CiyuanError):
    code = "invoice-posting-failed"
    summary = ("The ledger refused a transfer of an issued document (the message gives the "
               "result code); fix the accounts and post it again, it is idempotent.")


class InvoiceSchemaError(CiyuanError):
    code = "invoice-schema-newer"
    summary = "The invoice tables have migrations this ciyuan does not know; upgrade ciyuan."
