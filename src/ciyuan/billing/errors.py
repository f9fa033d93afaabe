"""Errors of ``ciyuan.billing``; each says what to do next.

::

    InputError
    ├── BudgetInvalidError          a budget level, period or amount is malformed
    ├── UnknownTimeZoneError        not an IANA time zone name
    ├── BudgetTimeZoneChangeError   a budget's time zone is fixed when it is first set
    ├── BudgetCurrencyError         a budget or wallet in another currency than the call
    ├── ReservationInvalidError     settle more than reserved, a reused reservation id
    ├── WalletInvalidError          a wallet's credit line differs from the one it has
    └── PackInvalidError            a token pack's size, model or expiry is malformed
    CiyuanError
    ├── BudgetLevelExceededError    a reservation does not fit in a budget level
    ├── WalletInsufficientError     prepaid credit plus credit line do not cover the hold
    ├── ReservationClosedError      the reservation expired or was already released
    └── BillingConflictError        the ledger refused a billing batch unexpectedly
"""

from __future__ import annotations

from ciyuan.core.errors import CiyuanError, InputError

__all__ = [
    "BillingConflictError",
    "BudgetCurrencyError",
    "BudgetInvalidError",
    "BudgetLevelExceededError",
    "BudgetTimeZoneChangeError",
    "PackInvalidError",
    "ReservationClosedError",
    "ReservationInvalidError",
    "UnknownTimeZoneError",
    "WalletInsufficientError",
    "WalletInvalidError",
]


class BudgetInvalidError(InputError, ValueError):
    code = "budget-invalid"
    summary = ("A budget level name, period or amount is malformed (names are 1-64 letters, "
               "digits or ._@+-; periods are day or month; amounts are positive).")


class UnknownTimeZoneError(InputError, ValueError):
    code = "unknown-time-zone"
    summary = "Not an IANA time zone name; write one like Asia/Shanghai, Europe/Berlin or UTC."


class BudgetTimeZoneChangeError(InputError):
    code = "budget-time-zone-fixed"
    summary = ("A budget's time zone is fixed when it is first set (a change would make "
               "periods overlap); set the budget again with its zone, or on a new level.")


class BudgetCurrencyError(InputError):
    code = "budget-currency-mismatch"
    summary = ("A budget or wallet is kept in another currency than the one given; budgets "
               "and wallets hold one currency each, chosen when first set.")


class ReservationInvalidError(InputError, ValueError):
    code = "reservation-invalid"
    summary = ("A reservation cannot be made or settled as asked (amount not positive, settle "
               "above the reserved amount, or an id reused for another amount).")


class WalletInvalidError(InputError, ValueError):
    code = "wallet-invalid"
    summary = ("A wallet operation is malformed, or asks for another credit line than the "
               "wallet was opened with (a credit line is fixed per wallet account).")


class PackInvalidError(InputError, ValueError):
    code = "pack-invalid"
    summary = ("A token pack needs a positive number of tokens, a model and a timezone-aware "
               "expiry.")


class BudgetLevelExceededError(CiyuanError):
    code = "budget-level-exceeded"
    summary = ("The reservation does not fit in a budget level (tenant, team, agent or key, "
               "day or month); the message names the level and what is left.")


class WalletInsufficientError(CiyuanError):
    code = "wallet-insufficient"
    summary = ("Prepaid credit plus the credit line do not cover the amount; top up the "
               "wallet (`Billing.top_up`).")


class ReservationClosedError(CiyuanError):
    code = "reservation-closed"
    summary = ("The reservation expired (its timeout passed) or was already settled or "
               "released; the amount is no longer held.")


class BillingConflictError(CiyuanError):
    code = "billing-conflict"
    summary = ("The ledger refused a billing batch for a reason other than a limit (or kept "
               "refusing under contention); the message gives the ledger result code.")
